/**
 * HTTPS server of the ARM emulator: authentication, api-version, throttling, fault injection and
 * recording around the routed handlers.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureCert } from './cert';
import { EmulatorOptions, resolveConfig } from './config';
import { ArmError } from './arm/errors';
import type { Ctx, Reply } from './arm/http';
import { methodNotAllowed, unknownRoute } from './arm/router';
import { registerAll } from './arm/routes';
import { handleControl } from './controlApi';
import { Emulator } from './emulator';
import { SpecValidator } from './spec/validator';

export type { EmulatorOptions, EmulatorSeed } from './config';
export { defaultSeed } from './config';

export interface RunningEmulator {
  /** https://127.0.0.1:PORT */
  url: string;
  port: number;
  /** PEM file of the certificate the emulator serves; trust it (NODE_EXTRA_CA_CERTS or tlsOptions.ca). */
  caCertPath: string;
  subscriptionId: string;
  location: string;
  /** The in-process state, for tests in the same process. */
  emulator: Emulator;
  stop(): Promise<void>;
}

const MAX_BODY = 16 * 1024 * 1024;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new ArmError(413, 'RequestEntityTooLarge', 'The request content is too large.'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, reply: Reply, extra: Record<string, string> = {}): void {
  const headers: Record<string, string> = {
    'x-ms-request-id': randomUUID(),
    'x-ms-correlation-request-id': randomUUID(),
    'Cache-Control': 'no-cache',
    ...extra,
    ...(reply.headers ?? {}),
  };
  if (reply.body !== undefined && reply.status !== 204) {
    const data = Buffer.from(JSON.stringify(reply.body), 'utf8');
    headers['Content-Type'] = 'application/json; charset=utf-8';
    headers['Content-Length'] = String(data.length);
    res.writeHead(reply.status, headers);
    res.end(data);
  } else {
    headers['Content-Length'] = '0';
    res.writeHead(reply.status, headers);
    res.end();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * If-Match / If-None-Match on writes, against the etag the resource's GET shows (resources without an
 * etag never match a specific value): 412 PreconditionFailed as ARM answers.
 */
async function checkPreconditions(ctx: Ctx): Promise<void> {
  const ifMatch = ctx.headers['if-match'];
  const ifNoneMatch = ctx.headers['if-none-match'];
  if ((!ifMatch && !ifNoneMatch) || !['PUT', 'PATCH', 'DELETE'].includes(ctx.method)) return;
  const get = ctx.emu.router.match('GET', ctx.path);
  let etag: string | undefined;
  let exists = false;
  if (get && get !== 'method-not-allowed') {
    try {
      const cur = await get.route.handler({ ...ctx, method: 'GET', params: get.params, body: undefined });
      exists = cur.status === 200;
      etag = exists ? (cur.body as { etag?: string } | undefined)?.etag : undefined;
    } catch (e) {
      if (!(e instanceof ArmError) || e.status !== 404) throw e;
    }
  }
  const fail = () => new ArmError(412, 'PreconditionFailed', `The condition specified using HTTP conditional header(s) is not met (etag ${etag ?? 'none'}).`);
  if (typeof ifMatch === 'string') {
    if (
      ifMatch.trim() === '*'
        ? !exists
        : !ifMatch
            .split(',')
            .map((x) => x.trim())
            .includes(etag ?? '\u0000')
    )
      throw fail();
  }
  if (typeof ifNoneMatch === 'string' && ifNoneMatch.trim() === '*' && exists) throw fail();
}

export async function startEmulator(opts: EmulatorOptions): Promise<RunningEmulator> {
  const cfg = resolveConfig(opts, path.join(os.tmpdir(), 'jacket-emulator-cert'));
  const { certPath, keyPath } = ensureCert(cfg.certDir);
  const emu = new Emulator(cfg);
  registerAll(emu.router);
  let specs: SpecValidator | undefined;
  if (cfg.validateRequests) {
    try {
      specs = SpecValidator.load();
    } catch {
      specs = undefined; // spec files not available: request bodies are checked by the handlers only
    }
  }
  await emu.init();

  let baseUrl = '';
  const server = https.createServer({ cert: fs.readFileSync(certPath), key: fs.readFileSync(keyPath) });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', baseUrl);
    const p = url.pathname;
    const apiVersion = url.searchParams.get('api-version');
    let requestBody: unknown;
    const record = (status: number, responseBody: unknown, servedBy: 'route' | 'fault' | 'protocol' | 'operation-status', operationId?: string) =>
      emu.recorder.add({ method, path: p, query: url.search, apiVersion, status, requestBody, responseBody, operationId, servedBy });
    try {
      const raw = await readBody(req);
      if (raw.length > 0) {
        try {
          requestBody = JSON.parse(raw.toString('utf8'));
        } catch (e) {
          if (!p.startsWith('/_emulator')) {
            throw new ArmError(400, 'InvalidRequestContent', `The request content was invalid and could not be deserialized: '${(e as Error).message}'.`);
          }
          throw e;
        }
      }
      if (p === '/_emulator' || p.startsWith('/_emulator/')) {
        send(res, await handleControl(emu, req, url, requestBody));
        return;
      }
      if (cfg.log) process.stderr.write(`[arm-emulator] ${method} ${url.pathname}${url.search}\n`);

      const fault = emu.faults.takeRequestFault(method, p);
      if (fault) {
        if (fault.spec.latencyMs) await sleep(fault.spec.latencyMs);
        if (fault.spec.drop) {
          record(0, undefined, 'fault');
          req.socket.destroy();
          return;
        }
        if (fault.spec.status !== undefined) {
          const err = new ArmError(
            fault.spec.status,
            fault.spec.code ?? 'InjectedFault',
            fault.spec.message ?? `Injected fault for ${method} ${p}`,
            fault.spec.target,
            fault.spec.details,
            fault.spec.headers ?? {},
          );
          throw Object.assign(err, { servedBy: 'fault' });
        }
      }

      const auth = req.headers.authorization;
      if (!auth || !/^Bearer\s+\S+/i.test(auth)) {
        throw new ArmError(
          401,
          auth ? 'InvalidAuthenticationToken' : 'AuthenticationFailed',
          auth ? 'The access token is invalid.' : "Authentication failed. The 'Authorization' header is missing.",
          undefined,
          undefined,
          {
            'WWW-Authenticate':
              'Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token", error_description="The authentication failed because of missing \'Authorization\' header."',
          },
        );
      }
      if (!apiVersion) {
        throw new ArmError(400, 'MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.');
      }
      const group = emu.router.apiGroupFor(p);
      if (group && !cfg.apiVersions[group].includes(apiVersion)) {
        throw new ArmError(
          400,
          'NoRegisteredProviderFound',
          `No registered resource provider found for location '${emu.location}' and API version '${apiVersion}' for this resource type. The supported api-versions are '${cfg.apiVersions[group].join(', ')}'. The supported locations are '${emu.location}'.`,
        );
      }
      const sub = /^\/subscriptions\/([^/]+)/i.exec(p)?.[1];
      if (sub && sub.toLowerCase() !== emu.sub.toLowerCase()) {
        throw new ArmError(404, 'SubscriptionNotFound', `The subscription '${sub}' could not be found.`);
      }
      const rateHeaders = emu.throttle.spend(emu.sub, method);

      if (specs && requestBody !== undefined && (method === 'PUT' || method === 'PATCH' || method === 'POST')) {
        const res = specs.validateRequestBody(method, p, requestBody);
        const first = res?.errors.find((e) => e.keyword !== 'if');
        if (first) {
          const where = `${first.path.replace(/^\//, '').replace(/\//g, '.')}${first.property ? `${first.path ? '.' : ''}${first.property}` : ''}`;
          if (first.keyword === 'required') {
            throw new ArmError(400, 'InvalidParameter', `Required parameter '${first.property}' is missing (null).`, where);
          }
          throw new ArmError(400, 'InvalidRequestContent', `The request content was invalid and could not be deserialized: '${where || 'body'}' ${first.message}.`, where || undefined);
        }
      }
      const m = emu.router.match(method, p);
      if (m === 'method-not-allowed') throw methodNotAllowed(method);
      if (!m) throw unknownRoute(method, p, apiVersion);
      const ctx: Ctx = { emu, method, path: p, query: url.searchParams, params: m.params, body: requestBody, apiVersion, baseUrl, operationId: m.route.operationId, headers: req.headers };
      await checkPreconditions(ctx);
      const reply = await m.route.handler(ctx);
      const isStatus = /\/(operations|DiskOperations|operationResults)\//i.test(p);
      // Operation URLs are recorded with the operationId of the request that started them.
      const opId = isStatus ? emu.ops.get(m.params.op ?? '')?.originOperationId : m.route.operationId;
      record(reply.status, reply.body, isStatus ? 'operation-status' : 'route', opId);
      send(res, reply, rateHeaders);
    } catch (e) {
      const err = e instanceof ArmError ? e : new ArmError(500, 'InternalServerError', `The emulator failed: ${(e as Error).stack ?? e}`);
      const body = err.toBody();
      record(err.status, body, (e as { servedBy?: 'fault' }).servedBy ?? 'protocol');
      if (!res.headersSent) send(res, { status: err.status, body, headers: err.headers });
      else res.destroy();
    }
  }

  server.on('request', (req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.port, cfg.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  baseUrl = `https://${cfg.host}:${port}`;
  return {
    url: baseUrl,
    port,
    caCertPath: certPath,
    subscriptionId: cfg.subscriptionId,
    location: cfg.location,
    emulator: emu,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
