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
  /** The unread request body, for routes with streamBody (then `body` is empty): image uploads. */
  stream?: AsyncIterable<Uint8Array>;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  /** A JSON value, raw bytes, a Readable stream (image downloads; set Content-Length), or nothing. */
  body?: unknown;
}

export function isBuffer(b: unknown): b is Buffer {
  return Buffer.isBuffer(b);
}
