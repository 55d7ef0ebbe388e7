// Azure Functions entry point for the HTTP APIs: one function per route of the shared route table
// (so the portal shows each API operation on its own), plus a catch-all for the root and unknown paths.
import { Readable } from 'node:stream';
import { app, type HttpRequest, type HttpResponseInit, type HttpMethod } from '@azure/functions';
import { routes, router } from '../shared/routes';
import { handle } from '../shared/http/pipeline';
import { services } from '../shared/services';
import { bootstrapOnce } from '../shared/startup';
import type { ApiRequest } from '../shared/http/types';

// Stream request and response bodies (image upload/download) instead of buffering them.
app.setup({ enableHttpStream: true });

async function toApiRequest(req: HttpRequest): Promise<ApiRequest> {
  const url = new URL(req.url);
  const headers: Record<string, string> = {};
  req.headers.forEach((v, k) => (headers[k.toLowerCase()] = v));
  if (router.match(req.method, url.pathname).match?.route.streamBody && req.body) {
    return { method: req.method, path: url.pathname, query: url.searchParams, headers, body: Buffer.alloc(0), stream: req.body as unknown as AsyncIterable<Uint8Array> };
  }
  return { method: req.method, path: url.pathname, query: url.searchParams, headers, body: Buffer.from(await req.arrayBuffer()) };
}

async function serve(req: HttpRequest): Promise<HttpResponseInit> {
  const s = services();
  await bootstrapOnce(s);
  const res = await handle(router, s, await toApiRequest(req));
  if (res.body instanceof Readable) return { status: res.status, headers: res.headers, body: res.body };
  const body = res.body === undefined ? undefined : Buffer.isBuffer(res.body) ? res.body : JSON.stringify(res.body);
  const headers = { ...res.headers };
  if (body !== undefined && !Buffer.isBuffer(res.body)) headers['Content-Type'] ??= 'application/json';
  return { status: res.status, headers, body };
}

for (const r of routes) {
  if (r.path === '/') continue; // the catch-all below serves the root
  app.http(r.name, { methods: [r.method as HttpMethod], route: r.path.slice(1), authLevel: 'anonymous', handler: serve });
}
app.http('fallback', {
  methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
  route: '{*path}',
  authLevel: 'anonymous',
  handler: serve,
});
