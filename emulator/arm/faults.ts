/** Fault injection: failing, delaying or dropping requests, and failing async operations. */
import { randomUUID } from 'node:crypto';

export interface FaultSpec {
  /** HTTP method to match (any when omitted). */
  method?: string;
  /** Regular expression (source) tested case-insensitively against the request path (no query). */
  path: string;
  /** How many matching requests the fault applies to (default 1). */
  count?: number;
  /** Answer with this HTTP status and ARM error code/message. */
  status?: number;
  code?: string;
  message?: string;
  /** Extra headers on the injected error, e.g. {"Retry-After": "1"}. */
  headers?: Record<string, string>;
  /** error.target and error.details of the injected error, e.g. Compute's throttling
   * (409 OperationNotAllowed with details [{code: 'TooManyRequests', ...}]). */
  target?: string;
  details?: Array<{ code: string; message: string; target?: string }>;
  /** Delay the request by this many ms (then serve it normally unless status/drop is also set). */
  latencyMs?: number;
  /** Destroy the connection without answering. */
  drop?: boolean;
  /**
   * Let the request start its long-running operation normally, but make the operation end Failed
   * with `code` (default AllocationFailed) and `message`.
   */
  failAsync?: boolean;
}

export interface Fault extends Required<Pick<FaultSpec, 'path'>> {
  id: string;
  spec: FaultSpec;
  remaining: number;
  regex: RegExp;
  hits: number;
}

export const ALLOCATION_FAILED_MESSAGE =
  'Allocation failed. We do not have sufficient capacity for the requested VM size in this region. Read more about improving likelihood of allocation success at http://aka.ms/allocation-guidance';

export class Faults {
  private faults: Fault[] = [];

  add(spec: FaultSpec): Fault {
    if (typeof spec.path !== 'string' || spec.path.length === 0) throw new Error('fault.path (a regex) is required');
    if (spec.status === undefined && !spec.drop && !spec.failAsync && spec.latencyMs === undefined) {
      throw new Error('fault needs one of status, drop, failAsync or latencyMs');
    }
    const fault: Fault = {
      id: randomUUID(),
      path: spec.path,
      spec,
      remaining: spec.count ?? 1,
      regex: new RegExp(spec.path, 'i'),
      hits: 0,
    };
    this.faults.push(fault);
    return fault;
  }

  list(): Fault[] {
    return this.faults.slice();
  }

  clear(): void {
    this.faults = [];
  }

  remove(id: string): boolean {
    const before = this.faults.length;
    this.faults = this.faults.filter((f) => f.id !== id);
    return this.faults.length !== before;
  }

  /** Takes (consumes) the first request-level fault matching the request. */
  takeRequestFault(method: string, path: string): Fault | undefined {
    return this.take(method, path, (f) => !f.spec.failAsync);
  }

  /** Takes the first async-operation fault matching the request that starts an operation. */
  takeAsyncFault(method: string, path: string): Fault | undefined {
    return this.take(method, path, (f) => !!f.spec.failAsync);
  }

  private take(method: string, path: string, kind: (f: Fault) => boolean): Fault | undefined {
    const f = this.faults.find((x) => kind(x) && x.remaining > 0 && (!x.spec.method || x.spec.method.toUpperCase() === method.toUpperCase()) && x.regex.test(path));
    if (!f) return undefined;
    f.remaining -= 1;
    f.hits += 1;
    if (f.remaining <= 0) this.faults = this.faults.filter((x) => x !== f);
    return f;
  }
}
