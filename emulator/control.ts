/** Typed client of the emulator's control API (/_emulator/...), for tests anywhere in the project. */
import * as fs from 'node:fs';
import * as https from 'node:https';
import type { FaultSpec } from './arm/faults';
import type { RecordedRequest } from './arm/recorder';
import type { PowerState } from './compute/model';
import type { ThrottleConfig } from './config';

export type { FaultSpec } from './arm/faults';
export type { RecordedRequest } from './arm/recorder';
export type { PowerState } from './compute/model';

export interface EmulatorConfigView {
  asyncDelayMs: number;
  nicReservationMs: number;
  throttle: ThrottleConfig;
  coresQuota?: number;
}

export interface OperationView {
  id: string;
  kind: string;
  name: string;
  status: string;
  resourceId: string;
  startTime: string;
  endTime?: string;
  error?: { code: string; message: string };
}

export class EmulatorControl {
  private readonly agent: https.Agent;

  /** url: the emulator's https URL; ca: PEM text or a path to the PEM file. */
  constructor(
    readonly url: string,
    ca: string,
  ) {
    const pem = ca.includes('-----BEGIN') ? ca : fs.readFileSync(ca, 'utf8');
    this.agent = new https.Agent({ ca: pem, keepAlive: false });
  }

  private request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const u = new URL(path, this.url);
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise<T>((resolve, reject) => {
      const req = https.request(u, { method, agent: this.agent, headers: data ? { 'Content-Type': 'application/json', 'Content-Length': String(data.length) } : {} }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const parsed = text ? JSON.parse(text) : undefined;
          if ((res.statusCode ?? 500) >= 400) {
            reject(new Error(`control ${method} ${path} -> ${res.statusCode}: ${text}`));
          } else resolve(parsed as T);
        });
      });
      req.on('error', reject);
      if (data) req.write(data);
      req.end();
    });
  }

  health(): Promise<{ ok: boolean; subscriptionId: string; location: string }> {
    return this.request('GET', '/_emulator/health');
  }

  /** Fail/delay/drop the next `count` requests matching method + path regex, or fail their async operation. */
  addFault(spec: FaultSpec): Promise<FaultSpec & { id: string; remaining: number }> {
    return this.request('POST', '/_emulator/faults', spec);
  }

  listFaults(): Promise<Array<FaultSpec & { id: string; remaining: number; hits: number }>> {
    return this.request('GET', '/_emulator/faults');
  }

  clearFaults(): Promise<void> {
    return this.request('DELETE', '/_emulator/faults');
  }

  /** Recorded ARM requests (not control calls), oldest first; `since` = last seen seq. */
  requests(since = 0): Promise<RecordedRequest[]> {
    return this.request('GET', `/_emulator/requests?since=${since}`);
  }

  clearRequests(): Promise<void> {
    return this.request('DELETE', '/_emulator/requests');
  }

  /** Count recorded requests matching method and a path regex. */
  async countRequests(method: string, pathRegex: RegExp | string): Promise<number> {
    const re = typeof pathRegex === 'string' ? new RegExp(pathRegex, 'i') : pathRegex;
    return (await this.requests()).filter((r) => r.method === method.toUpperCase() && re.test(r.path)).length;
  }

  operations(): Promise<OperationView[]> {
    return this.request('GET', '/_emulator/operations');
  }

  /** Forget every resource, fault and recorded request; delete the emulator's blobs; seed again. */
  reset(): Promise<void> {
    return this.request('POST', '/_emulator/reset');
  }

  getConfig(): Promise<EmulatorConfigView> {
    return this.request('GET', '/_emulator/config');
  }

  setConfig(c: Partial<{ asyncDelayMs: number; nicReservationMs: number; throttle: Partial<ThrottleConfig>; coresQuota: number }>): Promise<EmulatorConfigView> {
    return this.request('PUT', '/_emulator/config', c);
  }

  /** Change a VM's power state behind Jacket's back (e.g. stopped from the portal). */
  setPowerState(vmId: string, state: PowerState): Promise<{ id: string; powerState: PowerState }> {
    return this.request('POST', '/_emulator/powerState', { id: vmId, state });
  }

  /** Delete a resource behind Jacket's back (a VM honours its deleteOptions). */
  deleteResource(id: string): Promise<void> {
    return this.request('DELETE', `/_emulator/resources?id=${encodeURIComponent(id)}`);
  }

  /** The emulator's internal record of a resource (includes e.g. guestUsers of a VM). */
  getResource<T = any>(id: string): Promise<T> {
    return this.request('GET', `/_emulator/resources?id=${encodeURIComponent(id)}`);
  }

  close(): void {
    this.agent.destroy();
  }
}
