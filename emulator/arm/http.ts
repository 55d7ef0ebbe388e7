/** Request context and reply shapes shared by the ARM handlers. */
import type { Emulator } from '../emulator';

export type ApiGroup = 'compute' | 'disk' | 'network' | 'skus' | 'resources';

export interface Ctx {
  emu: Emulator;
  method: string;
  /** URL path as received (no query). */
  path: string;
  query: URLSearchParams;
  params: Record<string, string>;
  body: any;
  apiVersion: string;
  /** https://127.0.0.1:PORT */
  baseUrl: string;
  /** Spec operationId of the route serving the request. */
  operationId?: string;
  /** Request headers (lower-case names). */
  headers: Record<string, string | string[] | undefined>;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler = (ctx: Ctx) => Promise<Reply> | Reply;

export const ok = (body: unknown, headers?: Record<string, string>): Reply => ({ status: 200, body, headers });

export const list = (value: unknown[]): Reply => ({ status: 200, body: { value } });
