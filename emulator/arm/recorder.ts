/** Every ARM request the emulator answered, for tests that count calls or validate bodies. */

export interface RecordedRequest {
  seq: number;
  time: string;
  method: string;
  /** Path without query. */
  path: string;
  /** Full query string including the leading '?', or ''. */
  query: string;
  apiVersion: string | null;
  status: number;
  requestBody?: unknown;
  responseBody?: unknown;
  /** Spec operationId when the route declares it. */
  operationId?: string;
  /** What produced the answer: a route, or a fault / the protocol checks. */
  servedBy: 'route' | 'fault' | 'protocol' | 'operation-status';
}

export class Recorder {
  private items: RecordedRequest[] = [];
  private seq = 0;
  constructor(private max = 20000) {}

  add(r: Omit<RecordedRequest, 'seq' | 'time'>): void {
    this.items.push({ seq: ++this.seq, time: new Date().toISOString(), ...r });
    if (this.items.length > this.max) this.items.splice(0, this.items.length - this.max);
  }

  list(): RecordedRequest[] {
    return this.items.slice();
  }

  clear(): void {
    this.items = [];
  }
}
