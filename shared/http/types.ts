// The transport-neutral request and response the API layer works with. The Azure Functions adapter
// (functions/http.ts) and the local host (local/host.ts) both translate to and from these.
export interface ApiRequest {
  method: string;
  /** Path without query string, e.g. /compute/v2.1/servers */
  path: string;
  query: URLSearchParams;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: Buffer;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  /** A JSON value, raw bytes, or nothing. */
  body?: unknown;
}

export function isBuffer(b: unknown): b is Buffer {
  return Buffer.isBuffer(b);
}
