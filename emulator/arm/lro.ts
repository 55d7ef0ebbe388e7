/**
 * Long-running operations as ARM runs them: the initial 200/201/202 carries Azure-AsyncOperation,
 * Location and Retry-After; the operation stays InProgress for asyncDelayMs, then its work runs and
 * it ends Succeeded or Failed. Operation status documents and Location (monitor) URLs are served here.
 */
import { randomUUID } from 'node:crypto';
import { ArmError, ArmErrorBody } from './errors';
import type { Ctx, Reply } from './http';
import { ALLOCATION_FAILED_MESSAGE } from './faults';

export type OperationStatus = 'InProgress' | 'Succeeded' | 'Failed' | 'Canceled';
/** Compute VM/images, DiskRP disks/snapshots, or Network: each shapes its URLs differently. */
export type OperationKind = 'compute' | 'disk' | 'network';

export interface Operation {
  id: string;
  kind: OperationKind;
  name: string;
  location: string;
  apiVersion: string;
  status: OperationStatus;
  startTime: string;
  endTime?: string;
  error?: ArmErrorBody;
  errorStatus?: number;
  /** Final body served by the Location URL (and as properties.output for DiskRP). */
  result?: unknown;
  resourceId: string;
  /** Spec operationId of the request that started the operation (its final result's schema). */
  originOperationId?: string;
  dueAt: number;
  done: Promise<void>;
}

export interface StartOptions {
  kind: OperationKind;
  /** Human name, e.g. 'start' */
  name: string;
  resourceId: string;
  location: string;
  /** The work: runs after the delay; throws ArmError to fail the operation. Returns the result body. */
  work: () => Promise<unknown> | unknown;
  /** Called when the operation ends Failed (by work throwing or by an injected fault). */
  onFailed?: (error: ArmErrorBody) => Promise<void> | void;
  /** Called after any terminal state. */
  onFinally?: () => void;
}

export class Operations {
  private ops = new Map<string, Operation>();

  constructor(
    private readonly getDelayMs: () => number,
    private readonly subscriptionId: string,
    private readonly takeAsyncFault: (method: string, path: string) => { code?: string; message?: string } | undefined,
  ) {}

  get(id: string): Operation | undefined {
    return this.ops.get(id.toLowerCase());
  }

  all(): Operation[] {
    return [...this.ops.values()];
  }

  clear(): void {
    this.ops.clear();
  }

  inProgressFor(resourceId: string): Operation | undefined {
    const key = resourceId.toLowerCase();
    for (const op of this.ops.values()) if (op.status === 'InProgress' && op.resourceId.toLowerCase() === key) return op;
    return undefined;
  }

  start(ctx: Ctx, opts: StartOptions): Operation {
    const delay = this.getDelayMs();
    const fault = this.takeAsyncFault(ctx.method, ctx.path);
    let resolveDone!: () => void;
    const op: Operation = {
      id: randomUUID(),
      kind: opts.kind,
      name: opts.name,
      location: opts.location,
      apiVersion: ctx.apiVersion,
      status: 'InProgress',
      startTime: new Date().toISOString(),
      resourceId: opts.resourceId,
      originOperationId: ctx.operationId,
      dueAt: Date.now() + delay,
      done: new Promise<void>((r) => (resolveDone = r)),
    };
    this.ops.set(op.id, op);
    const finish = async (): Promise<void> => {
      try {
        if (fault) {
          throw new ArmError(200, fault.code ?? 'AllocationFailed', fault.message ?? ALLOCATION_FAILED_MESSAGE);
        }
        op.result = await opts.work();
        op.status = 'Succeeded';
      } catch (e) {
        const err = e instanceof ArmError ? e : new ArmError(500, 'InternalExecutionError', `An internal execution error occurred: ${(e as Error).message}`);
        op.status = 'Failed';
        op.error = err.toBody().error;
        op.errorStatus = err.status >= 400 ? err.status : 200;
        try {
          await opts.onFailed?.(op.error);
        } catch {
          /* state cleanup errors must not hide the operation's own error */
        }
      } finally {
        op.endTime = new Date().toISOString();
        opts.onFinally?.();
        resolveDone();
      }
    };
    setTimeout(() => void finish(), delay);
    return op;
  }

  /** Headers of the initial LRO response. */
  headers(ctx: Ctx, op: Operation, withLocation: boolean): Record<string, string> {
    const h: Record<string, string> = {
      'Azure-AsyncOperation': this.statusUrl(ctx.baseUrl, op, false),
      'Retry-After': String(Math.ceil(Math.max(0, op.dueAt - Date.now()) / 1000)),
    };
    if (withLocation) h['Location'] = this.statusUrl(ctx.baseUrl, op, true);
    return h;
  }

  statusUrl(baseUrl: string, op: Operation, monitor: boolean): string {
    const base = `${baseUrl}/subscriptions/${this.subscriptionId}/providers`;
    const q = `api-version=${op.apiVersion}`;
    switch (op.kind) {
      case 'compute':
        return `${base}/Microsoft.Compute/locations/${op.location}/operations/${op.id}?${monitor ? 'monitor=true&' : ''}${q}`;
      case 'disk':
        return `${base}/Microsoft.Compute/locations/${op.location}/DiskOperations/${op.id}?${monitor ? 'monitor=true&' : ''}${q}`;
      case 'network':
        return `${base}/Microsoft.Network/locations/${op.location}/${monitor ? 'operationResults' : 'operations'}/${op.id}?${q}`;
    }
  }

  /** Waits for an operation whose delay has passed but whose work is still running. */
  private async settle(op: Operation): Promise<void> {
    if (op.status === 'InProgress' && Date.now() >= op.dueAt) {
      await Promise.race([op.done, new Promise((r) => setTimeout(r, 30000).unref())]);
    }
  }

  /** GET of an Azure-AsyncOperation URL. */
  async statusDocument(ctx: Ctx, id: string): Promise<Reply> {
    const op = this.get(id);
    if (!op) throw new ArmError(404, 'NotFound', `The operation '${id}' could not be found.`);
    await this.settle(op);
    const retry = { 'Retry-After': String(Math.ceil(Math.max(0, op.dueAt - Date.now()) / 1000)) };
    if (op.kind === 'network') {
      const body: Record<string, unknown> = { status: op.status };
      if (op.error) body.error = op.error;
      return { status: 200, body, headers: op.status === 'InProgress' ? retry : undefined };
    }
    const body: Record<string, unknown> = { name: op.id, status: op.status, startTime: op.startTime };
    if (op.endTime) body.endTime = op.endTime;
    if (op.error) body.error = op.error;
    if (op.status === 'Succeeded' && op.result !== undefined) body.properties = { output: op.result };
    return { status: 200, body, headers: op.status === 'InProgress' ? retry : undefined };
  }

  /** GET of a Location (monitor / operationResults) URL. */
  async monitor(ctx: Ctx, id: string): Promise<Reply> {
    const op = this.get(id);
    if (!op) throw new ArmError(404, 'NotFound', `The operation '${id}' could not be found.`);
    await this.settle(op);
    if (op.status === 'InProgress') {
      return {
        status: 202,
        headers: {
          Location: this.statusUrl(ctx.baseUrl, op, true),
          'Retry-After': String(Math.ceil(Math.max(0, op.dueAt - Date.now()) / 1000)),
        },
      };
    }
    if (op.status === 'Failed' && op.error) {
      return { status: op.errorStatus && op.errorStatus >= 400 ? op.errorStatus : 500, body: { error: op.error } };
    }
    if (op.result !== undefined) return { status: 200, body: op.result };
    return { status: op.kind === 'network' ? 204 : 200 };
  }
}
