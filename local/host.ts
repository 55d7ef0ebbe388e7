// The local host: serves the shared route table over HTTP on loopback and runs the work-queue
// dispatcher, the way the Functions host would in Azure. Used by `npm start` and the e2e tests.
import http from 'node:http';
import { Readable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { router } from '../shared/routes';
import { handle } from '../shared/http/pipeline';
import type { Services } from '../shared/services';
import { bootstrapOnce } from '../shared/startup';
import type { ApiRequest } from '../shared/http/types';
import { QueueDispatcher } from './dispatcher';
import { TimerScheduler } from './scheduler';
import '../shared/work/handlers';

/** Reads a body of at most `limit` bytes; larger ones get Nova's 413. */
function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
    });
    req.on('end', () => resolve(size > limit ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export interface LocalHost {
  url: string;
  server: http.Server;
  dispatcher: QueueDispatcher;
  /** The timer functions' runner, when started with timers: true. */
  scheduler?: TimerScheduler;
  stop(): Promise<void>;
}

export const MAX_BODY_BYTES = 1024 * 1024 * 1024;

/**
 * Starts the host. `makeServices` gets the URL the server listens on (the public URL clients use,
 * which the service catalog needs) once the port is known.
 */
export async function startHost(makeServices: (url: string) => Services, opts: { port?: number; dispatch?: boolean; timers?: boolean } = {}): Promise<LocalHost & { services: Services }> {
  // Assigned once the services exist; until then requests get 503 (so not a const declared later).
  // eslint-disable-next-line prefer-const
  let services: Services | undefined;
  // serve() answers every error itself (500 below), so its promise is not awaited by the server.
  const serve = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    if (!services) {
      res.writeHead(503).end();
      return;
    }
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      // Streaming routes (image upload) read the body themselves; the rest get it buffered.
      const streamed = router.match(req.method ?? 'GET', url.pathname).match?.route.streamBody === true;
      const body = streamed ? Buffer.alloc(0) : await readBody(req, MAX_BODY_BYTES);
      if (body === undefined) {
        res.writeHead(413, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ overLimit: { code: 413, message: 'Request is too large.' } }));
        return;
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      const apiReq: ApiRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers, body, ...(streamed ? { stream: req } : {}) };
      const out = await handle(router, services, apiReq);
      if (out.body instanceof Readable) {
        res.writeHead(out.status, out.headers);
        if (req.method === 'HEAD') {
          out.body.destroy();
          res.end();
        } else {
          out.body.on('error', () => res.destroy()).pipe(res);
        }
        return;
      }
      const h: Record<string, string> = { ...out.headers };
      // A JSON body goes to the socket as the string itself (no copy into a Buffer first).
      let payload: Buffer | string | undefined;
      if (out.body !== undefined) {
        if (Buffer.isBuffer(out.body)) payload = out.body;
        else {
          payload = JSON.stringify(out.body);
          h['Content-Type'] ??= 'application/json';
        }
      }
      h['Content-Length'] = String(payload === undefined ? 0 : Buffer.byteLength(payload));
      res.writeHead(out.status, h);
      res.end(req.method === 'HEAD' ? undefined : payload);
    } catch (e) {
      res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ computeFault: { code: 500, message: String(e) } }));
    }
  };
  const server = http.createServer((req, res) => void serve(req, res));
  // Clients reuse idle connections (undici for 4 s): the server must keep them longer than that, or a
  // request sent on a socket the server is closing at its 5 s default fails with ECONNRESET — seen in
  // CI under load. 30 s, under Node's 60 s headers timeout.
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', resolve);
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let svc: Services;
  try {
    svc = makeServices(url);
    await bootstrapOnce(svc);
  } catch (e) {
    server.close(); // a bad setting or an unreachable store: free the port for the next try
    throw e;
  }
  services = svc;
  const dispatcher = new QueueDispatcher(svc);
  if (opts.dispatch !== false) dispatcher.start();
  // Off unless asked for: a sweep must not run behind a test's back.
  const scheduler = opts.timers ? new TimerScheduler(svc) : undefined;
  scheduler?.start();
  return {
    url,
    services: svc,
    server,
    dispatcher,
    scheduler,
    stop: async () => {
      await scheduler?.stop();
      await dispatcher.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
    },
  };
}
