// The benchmark's measurements (docs/performance.md). Every figure is paired with a floor measured in
// the same run, side by side, and shown as a ratio to it: the machine this runs on is shared and busy,
// so absolute times drift from run to run while the ratios hold. Everything goes through the public
// HTTP API of an app the bench starts itself (bench/stack.ts); ARM calls are read from the emulator's
// request log, Table requests from the counting proxy in front of Azurite.
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { TIMERS } from '../shared/timers/registry';
import { hashPassword, verifyPassword } from '../shared/identity/passwords';
import { log as appLog } from '../shared/log';
import { orderKey } from '../shared/compute/servers/model';
import { volumeOrderKey } from '../shared/volume/model';
import { waitFor } from '../test/support/armStack';
import type { Creds } from '../test/support/stack';
import type { RecordedRequest } from '../emulator/control';
import { startBenchStack, type BenchStack, type TableCounts } from './stack';
import { captureTemplate, seedCopies, type Template } from './seed';

export interface BenchOptions {
  /** Record counts (in one project) at which lists and creates are measured; the first is the baseline. */
  levels: number[];
  /** The level at which the timer passes run (must be one of levels). */
  timersAt: number[];
  /** Emulator operation delays (ms) at which the ARM calls per action are counted. */
  delaysMs: number[];
  /** The optional actions (reboot, stop, start, attach, snapshot, backup) at the first delay; all when absent. */
  actions?: string[];
  /** The optional actions at the later delays (none when absent: creates and deletes are always measured). */
  delayedActions?: string[];
  /** Repetitions for medians. */
  repeats: number;
  /**
   * Pairs (API call, raw read) per list row; `repeats` when absent. A list read costs milliseconds, so
   * many pairs are cheap, and a list ratio from 7 was seen to move by ±0.2 between quiet runs.
   */
  listRepeats?: number;
  /** Cold-import runs per entry point. */
  importRuns: number;
  /** Only the cold-start section (no stack started). */
  coldStartOnly?: boolean;
  log?: (line: string) => void;
}

export interface BenchRow {
  section: string;
  what: string;
  value: number;
  floor: number;
  unit: string;
  /** How the floor was obtained. */
  floorIs: string;
  note?: string;
  /** The ratio when it is not value / floor (the list rows: the median of back-to-back pairs' ratios). */
  pairedRatio?: number;
}

export const ratio = (r: BenchRow): number | undefined => r.pairedRatio ?? (r.floor > 0 ? r.value / r.floor : r.value === 0 ? 1 : undefined);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function timed<T>(f: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = process.hrtime.bigint();
  const value = await f();
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, value };
}

/** Median wall time of `node ARGS` in fresh processes. */
function nodeRunMs(args: string[], runs: number, cwd: string): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, JACKET_LOG_LEVEL: 'silent' } });
    if (r.status !== 0) throw new Error(`node ${args.join(' ')} failed: ${r.stderr?.toString().slice(0, 500)}`);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(times);
}

/**
 * Cold import of each Functions entry point against `node -e 0`, alternating runs so load hits both
 * alike: the bundles the package deploys (dist/bundle, made here with scripts/bundle.mjs from the
 * current build), the compiled files beside them, and all entry points in one process in package.json
 * "main" order, as the host loads them.
 */
export function coldImports(runs: number): BenchRow[] {
  const dist = path.resolve(__dirname, '..');
  const bundle = path.join(dist, 'bundle');
  const made = spawnSync(process.execPath, [path.join(dist, '..', 'scripts', 'bundle.mjs'), bundle], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`scripts/bundle.mjs failed: ${made.stderr}`);
  const rows: BenchRow[] = [];
  const measure = (what: string, files: string[], note?: string) => {
    const floors: number[] = [];
    const values: number[] = [];
    const script = files.map((f) => `require(${JSON.stringify(f)})`).join(';');
    for (let i = 0; i < runs; i++) {
      floors.push(nodeRunMs(['-e', '0'], 1, dist));
      values.push(nodeRunMs(['-e', script], 1, dist));
    }
    rows.push({ section: 'cold start', what, value: median(values), floor: median(floors), unit: 'ms', floorIs: '`node -e 0`', ...(note ? { note } : {}) });
  };
  for (const entry of ['http', 'worker', 'timers']) measure(`import dist/bundle/functions/${entry}.mjs`, [path.join(bundle, 'functions', `${entry}.mjs`)], 'deployed bundle');
  for (const entry of ['http', 'worker', 'timers']) measure(`import dist/functions/${entry}.js`, [path.join(dist, 'functions', `${entry}.js`)], 'compiled, unbundled');
  const all = ['shared/telemetry', 'functions/http', 'functions/timers', 'functions/worker'];
  measure(
    'import all bundles in one process',
    all.map((f) => path.join(bundle, `${f}.mjs`)),
    'telemetry, http, timers, worker, as the host loads "main"',
  );
  measure(
    'import all compiled entry points in one process',
    all.map((f) => path.join(dist, `${f}.js`)),
    'the same, unbundled',
  );
  return rows;
}

type Http = (method: string, p: string, body?: unknown) => Promise<{ status: number; body: any; text: string }>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Ctx {
  b: BenchStack;
  user: Creds & { projectId: string; userId: string };
  token: string;
  nova: Http;
  cinder: Http;
  imageId: string;
  networkId: string;
  opts: BenchOptions;
  rows: BenchRow[];
  log: (line: string) => void;
}

const WAIT_MS = 180000;

async function serverAtRest(c: Ctx, id: string, status: string): Promise<void> {
  await waitFor(
    `server ${id} ${status}`,
    async () => {
      const r = await c.nova('GET', `/servers/${id}`);
      const s = r.body?.server;
      if (s?.status === 'ERROR' && status !== 'ERROR') throw new Error(`server ${id} went to ERROR: ${JSON.stringify(s.fault)}`);
      if (status === 'DELETED') return r.status === 404 ? true : undefined;
      return s?.status === status && s['OS-EXT-STS:task_state'] === null ? true : undefined;
    },
    WAIT_MS,
  );
}

async function cinderAtRest(c: Ctx, kind: 'volumes' | 'snapshots' | 'backups', id: string, status: string): Promise<void> {
  const one = kind.slice(0, -1);
  await waitFor(
    `${one} ${id} ${status}`,
    async () => {
      const r = await c.cinder('GET', `/${kind}/${id}`);
      if (status === 'deleted') return r.status === 404 ? true : undefined;
      const st = r.body?.[one]?.status;
      if (st === 'error' && status !== 'error') throw new Error(`${one} ${id} went to error: ${r.text}`);
      return st === status ? true : undefined;
    },
    WAIT_MS,
  );
}

/** POST /{kind} in Cinder, then waits until the new resource is available; returns its id. */
async function cinderCreate(c: Ctx, kind: 'volumes' | 'snapshots' | 'backups', body: Record<string, unknown>): Promise<string> {
  const one = kind.slice(0, -1);
  const r = await c.cinder('POST', `/${kind}`, { [one]: body });
  expect202(r, `POST /${kind}`);
  const id: string = r.body[one].id;
  await cinderAtRest(c, kind, id, 'available');
  return id;
}

function expect202(r: { status: number; text: string }, what: string, ok = [202]): void {
  if (!ok.includes(r.status)) throw new Error(`${what}: ${r.status} ${r.text}`);
}

const ARM = 'ARM calls per action';

/** Counts the ARM requests `f` caused: writes (anything but GET) and polls/reads (GET). */
async function armCalls(c: Ctx, f: () => Promise<void>): Promise<RecordedRequest[]> {
  await c.b.control.clearRequests();
  await f();
  // An action's record can be at rest before its last clean-up calls (a backup revokes its grant and
  // deletes its snapshot after the volume is available again): wait until ARM has been quiet for 1.5 s,
  // so they count for this action and not the next (10 s at most).
  let seen = -1;
  for (let quiet = 0, tries = 0; quiet < 3 && tries < 20; tries++) {
    await new Promise((r) => setTimeout(r, 500));
    const n = (await c.b.control.requests()).length;
    quiet = n === seen ? quiet + 1 : 0;
    seen = n;
  }
  return c.b.control.requests();
}

function actionRows(c: Ctx, what: string, delayMs: number, reqs: RecordedRequest[], floorWrites: number, floorIs: string): void {
  const writes = reqs.filter((r) => r.method !== 'GET');
  const reads = reqs.filter((r) => r.method === 'GET');
  const throttled = reqs.filter((r) => r.status === 429).length;
  const d = `delay ${delayMs / 1000} s`;
  const detail = [...new Set(writes.map((r) => `${r.method} ${r.path.split('/').slice(-2).join('/')}`))].join(', ');
  c.rows.push({ section: ARM, what: `${what}: writes (${d})`, value: writes.length, floor: floorWrites, unit: 'calls', floorIs, note: detail + (throttled ? `; ${throttled}×429` : '') });
  c.rows.push({ section: ARM, what: `${what}: GETs (polls, reads) (${d})`, value: reads.length, floor: floorWrites, unit: 'calls', floorIs: 'one status read per LRO' });
}

/** One pass over the actions, with the emulator's operations taking `delayMs`. */
async function actions(c: Ctx, delayMs: number, only?: string[]): Promise<void> {
  await c.b.control.setConfig({ asyncDelayMs: delayMs });
  const want = (a: string) => !only || only.includes(a);
  c.log(`actions at delay ${delayMs} ms`);
  // POST /servers itself: what it calls on ARM before it answers (the dispatcher is paused so the
  // build's own calls do not land in the same window).
  await c.b.stack.cloud.host.dispatcher.stop();
  let serverId = '';
  const post = await armCalls(c, async () => {
    const r = await c.nova('POST', '/servers', { server: { name: 'bench-a', flavorRef: '3', imageRef: c.imageId, networks: [{ uuid: c.networkId }] } });
    expect202(r, 'POST /servers');
    serverId = r.body.server.id;
  });
  c.b.stack.cloud.host.dispatcher.start();
  if (delayMs === c.opts.delaysMs[0])
    c.rows.push({
      section: ARM,
      what: 'POST /servers request itself (any method)',
      value: post.length,
      floor: 0,
      unit: 'calls',
      floorIs: 'none: the build is queued',
      note: [...new Set(post.map((r) => `${r.method} ${r.path.split('/').slice(-2).join('/')}`))].join(', '),
    });
  const build = await armCalls(c, () => serverAtRest(c, serverId, 'ACTIVE'));
  actionRows(c, 'server create', delayMs, [...post, ...build], 2, 'NIC PUT + VM PUT');
  const power = async (name: string, body: unknown, status: string) => {
    if (!want(name)) return;
    const reqs = await armCalls(c, async () => {
      expect202(await c.nova('POST', `/servers/${serverId}/action`, body), name);
      await serverAtRest(c, serverId, status);
    });
    actionRows(c, `server ${name}`, delayMs, reqs, 1, '1 POST');
  };
  await power('reboot', { reboot: { type: 'SOFT' } }, 'ACTIVE');
  await power('stop', { 'os-stop': null }, 'SHUTOFF');
  await power('start', { 'os-start': null }, 'ACTIVE');

  let volumeId = '';
  const vc = await armCalls(c, async () => {
    volumeId = await cinderCreate(c, 'volumes', { size: 1, name: 'bench-v' });
  });
  actionRows(c, 'volume create', delayMs, vc, 1, '1 PUT');
  if (want('attach')) {
    const at = await armCalls(c, async () => {
      expect202(await c.nova('POST', `/servers/${serverId}/os-volume_attachments`, { volumeAttachment: { volumeId } }), 'attach', [200]);
      await cinderAtRest(c, 'volumes', volumeId, 'in-use');
      await serverAtRest(c, serverId, 'ACTIVE');
    });
    actionRows(c, 'volume attach', delayMs, at, 1, '1 POST');
    const de = await armCalls(c, async () => {
      expect202(await c.nova('DELETE', `/servers/${serverId}/os-volume_attachments/${volumeId}`), 'detach');
      await cinderAtRest(c, 'volumes', volumeId, 'available');
      await serverAtRest(c, serverId, 'ACTIVE');
    });
    actionRows(c, 'volume detach', delayMs, de, 1, '1 POST');
  }
  if (want('snapshot')) {
    let snapId = '';
    const sc = await armCalls(c, async () => {
      snapId = await cinderCreate(c, 'snapshots', { volume_id: volumeId, name: 'bench-s' });
    });
    actionRows(c, 'snapshot create', delayMs, sc, 1, '1 PUT');
    const sd = await armCalls(c, async () => {
      expect202(await c.cinder('DELETE', `/snapshots/${snapId}`), 'DELETE snapshot');
      await cinderAtRest(c, 'snapshots', snapId, 'deleted');
    });
    actionRows(c, 'snapshot delete', delayMs, sd, 1, '1 DELETE');
  }
  if (want('backup')) {
    let backupId = '';
    const bc = await armCalls(c, async () => {
      backupId = await cinderCreate(c, 'backups', { volume_id: volumeId, name: 'bench-b' });
      await cinderAtRest(c, 'volumes', volumeId, 'available');
    });
    // The backup's cleanup (revoke, snapshot DELETE) may finish after the volume is available again, in
    // the next action's window: the floor counts all four of the backup's writes.
    actionRows(c, 'backup create', delayMs, bc, 4, 'snapshot PUT + grant POST + revoke POST + snapshot DELETE');
    expect202(await c.cinder('DELETE', `/backups/${backupId}`), 'DELETE backup');
    await cinderAtRest(c, 'backups', backupId, 'deleted');
  }
  const vd = await armCalls(c, async () => {
    expect202(await c.cinder('DELETE', `/volumes/${volumeId}`), 'DELETE volume');
    await cinderAtRest(c, 'volumes', volumeId, 'deleted');
  });
  actionRows(c, 'volume delete', delayMs, vd, 1, '1 DELETE');
  const sdel = await armCalls(c, async () => {
    expect202(await c.nova('DELETE', `/servers/${serverId}`), 'DELETE server', [204]);
    await serverAtRest(c, serverId, 'DELETED');
  });
  actionRows(c, 'server delete', delayMs, sdel, 1, '1 DELETE (the VM takes its NIC and OS disk)');
}

const fmtN = (n: number) => (n >= 1000 ? `${n / 1000}k` : String(n));

/** Median latency of an API read and of the raw Table read of the same page, interleaved. */
async function listRow(c: Ctx, n: number, what: string, call: () => Promise<unknown>, raw: () => Promise<unknown>): Promise<void> {
  const api: number[] = [];
  const floor: number[] = [];
  let reads: TableCounts | undefined;
  await call(); // warm both paths (clients, connections)
  await raw();
  // Each API call is followed by its floor, so a pair shares the machine's state (load, GC, Azurite's
  // caches); the row's ratio is the median of the pairs' ratios, which a burst of load on one side of
  // one pair does not move (the medians of each side are shown too).
  const pairs: number[] = [];
  for (let i = 0; i < (c.opts.listRepeats ?? c.opts.repeats); i++) {
    const t = await c.b.tableCounter.during(() => timed(call));
    api.push(t.value.ms);
    reads = t.counts;
    floor.push((await timed(raw)).ms);
    pairs.push(api[i] / floor[i]);
  }
  c.rows.push({
    section: 'list latency',
    what: `${what} at N=${fmtN(n)}`,
    value: median(api),
    floor: median(floor),
    pairedRatio: median(pairs),
    unit: 'ms',
    floorIs: `raw Table read of the page (ratio: median of ${pairs.length} back-to-back pairs)`,
    note: `${reads!.reads} Table GETs, ${(reads!.readBytes / 1024).toFixed(0)} KiB read`,
  });
}

/**
 * A list page read through the API with a keep-alive node:http client and one JSON.parse: the client the
 * floor's Table SDK uses underneath, so both sides of the ratio pay the same client (undici's fetch,
 * which the other rows use, costs ~1 ms more per call than node:http here, and the floor never paid it).
 */
const listAgent = new http.Agent({ keepAlive: true });
function apiPage(c: Ctx, p: string): Promise<number> {
  const u = new URL(c.b.stack.url + p);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, agent: listAgent, headers: { Accept: 'application/json', 'X-Auth-Token': c.token } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (b: Buffer) => chunks.push(b));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`GET ${p}: ${res.statusCode}`));
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown[]>;
        resolve(Object.values(body)[0].length);
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function rawPage(b: BenchStack, table: string, pk: string, size: number): Promise<number> {
  const pages = b
    .proxiedTable(table)
    .listEntities({ queryOptions: { filter: `PartitionKey eq '${pk.replace(/'/g, "''")}'` } })
    .byPage({ maxPageSize: size });
  const first = await pages.next();
  return first.done ? 0 : first.value.length;
}

/** Median ms of a raw insert, point read and delete of one row in the volumes table (its own partition, which no list reads). */
async function storagePointCost(b: BenchStack, pk: string, repeats: number): Promise<number> {
  const table = b.rawTable('volumes');
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const [partitionKey, rowKey] = [`${pk}-bench-probe`, `probe-${i}`];
    const t = await timed(async () => {
      await table.createEntity({ partitionKey, rowKey, doc: '{}' });
      await table.getEntity(partitionKey, rowKey);
      await table.deleteEntity(partitionKey, rowKey);
    });
    times.push(t.ms);
  }
  return median(times);
}

interface CreateCost {
  ms: number;
  reads: number;
  readBytes: number;
}

/** POST /volumes and POST /servers: median latency and Table GETs of the request (the quota check's share). */
async function createCost(c: Ctx): Promise<{ volume: CreateCost; server: CreateCost }> {
  const vol: CreateCost[] = [];
  const srv: CreateCost[] = [];
  const made: Array<() => Promise<void>> = [];
  // At most 3: at 10k records a create that reads the whole project takes seconds.
  for (let i = 0; i < Math.min(3, c.opts.repeats); i++) {
    const v = await c.b.tableCounter.during(() => timed(() => c.cinder('POST', '/volumes', { volume: { size: 1, name: 'bench-q' } })));
    expect202(v.value.value, 'POST /volumes');
    vol.push({ ms: v.value.ms, reads: v.counts.reads, readBytes: v.counts.readBytes });
    made.push(() => cinderAtRest(c, 'volumes', v.value.value.body.volume.id, 'available'));
    const s = await c.b.tableCounter.during(() => timed(() => c.nova('POST', '/servers', { server: { name: 'bench-q', flavorRef: '3', imageRef: c.imageId, networks: [{ uuid: c.networkId }] } })));
    expect202(s.value.value, 'POST /servers');
    srv.push({ ms: s.value.ms, reads: s.counts.reads, readBytes: s.counts.readBytes });
    made.push(() => serverAtRest(c, s.value.value.body.server.id, 'ACTIVE'));
  }
  // Built before anything else is measured (a timer pass must not count a build's calls).
  for (const wait of made) await wait();
  const pick = (xs: CreateCost[]) => ({ ms: median(xs.map((x) => x.ms)), reads: median(xs.map((x) => x.reads)), readBytes: median(xs.map((x) => x.readBytes)) });
  return { volume: pick(vol), server: pick(srv) };
}

/**
 * One timer pass: its ARM requests (GETs, writes, 429s) and Table requests, against a listing floor:
 * one ARM list of the resource group (Azure pages at its own size; the emulator answers in one page)
 * and one Table query page per 1000 records (Table storage's page size).
 */
async function timerPass(c: Ctx, name: string, n: number): Promise<void> {
  const def = TIMERS.find((t) => t.name === name);
  if (!def) throw new Error(`no timer ${name}`);
  await c.b.control.clearRequests();
  const t = await c.b.tableCounter.during(() => timed(() => def.run(c.b.stack.cloud.services, new Date())));
  const reqs = await c.b.control.requests();
  const gets = reqs.filter((r) => r.method === 'GET').length;
  const throttled = reqs.filter((r) => r.status === 429).length;
  const pages = Math.max(1, Math.ceil(n / 1000));
  const common = { section: 'timer passes', unit: 'calls' };
  c.rows.push({
    ...common,
    what: `${name} at ${fmtN(n)}: ARM calls`,
    value: reqs.length,
    floor: 1,
    floorIs: 'one ARM list (the emulator does not page)',
    note: `${gets} GETs, ${reqs.length - gets} writes${throttled ? `, ${throttled}×429` : ''}; pass ${(t.value.ms / 1000).toFixed(1)} s`,
  });
  c.rows.push({
    ...common,
    what: `${name} at ${fmtN(n)}: Table requests`,
    value: t.counts.reads + t.counts.writes,
    floor: pages,
    floorIs: 'one query page per 1000 records',
    note: `${t.counts.reads} reads, ${t.counts.writes} writes`,
  });
}

async function setupUser(b: BenchStack): Promise<Omit<Ctx, 'opts' | 'rows' | 'log'>> {
  const user = await b.stack.makeProjectUser('bench', 'bench-user');
  const token = await b.stack.token(user);
  const admin = await b.stack.token();
  const mk =
    (prefix: string): Http =>
    (method, p, body) =>
      b.stack.http(method, `${prefix}${p}`, { token, body });
  const adminProject = (await b.stack.http('GET', '/identity/v3/auth/tokens', { token: admin, headers: { 'X-Subject-Token': admin } })).body.token.project.id;
  // Quotas high enough for 10k records, but not unlimited: the check must actually run.
  const big = 10_000_000;
  const ram = 2_000_000_000; // MiB; Nova's schema caps quotas at 2^31-1
  const nq = await b.stack.http('PUT', `/compute/v2.1/os-quota-sets/${user.projectId}`, { token: admin, body: { quota_set: { instances: big, cores: big, ram } } });
  expect202(nq, 'nova quota update', [200]);
  const cq = await b.stack.http('PUT', `/volume/v3/${adminProject}/os-quota-sets/${user.projectId}`, {
    token: admin,
    body: { quota_set: { volumes: big, gigabytes: big, snapshots: big, backups: big, backup_gigabytes: big } },
  });
  expect202(cq, 'cinder quota update', [200]);
  const imageId = (await b.stack.http('GET', '/image/v2/images?name=ubuntu-22.04', { token })).body.images[0].id;
  const networkId = (await b.stack.http('GET', '/network/v2.0/networks?name=private', { token })).body.networks[0].id;
  // The project's `default` security group is made at its first look at its groups (docs/network.md:
  // an ASG and an NSG PUT, once per project): made here, so the per-action counts are every later
  // server create's, not the project's first one's.
  const groups = await b.stack.http('GET', '/network/v2.0/security-groups', { token });
  expect202(groups, 'security group list', [200]);
  return { b, user, token, nova: mk('/compute/v2.1'), cinder: mk(`/volume/v3/${user.projectId}`), imageId, networkId };
}

export interface BenchResult {
  rows: BenchRow[];
  seconds: number;
}

export async function runBench(opts: BenchOptions): Promise<BenchResult> {
  const t0 = Date.now();
  const log = opts.log ?? (() => undefined);
  const rows: BenchRow[] = [];
  log('cold imports');
  rows.push(...coldImports(opts.importRuns));
  if (opts.coldStartOnly) return { rows, seconds: (Date.now() - t0) / 1000 };
  // The app's request log would drown the table (JACKET_LOG_LEVEL=info brings it back).
  if (!process.env.JACKET_LOG_LEVEL) appLog.setLevel('silent');
  const b = await startBenchStack();
  try {
    // The seeded VMs count against the emulator's regional cores quota (100 by default), as on Azure.
    await b.control.setConfig({ coresQuota: 100_000_000 });
    const c: Ctx = { ...(await setupUser(b)), opts, rows, log };
    for (const [i, d] of opts.delaysMs.entries()) await actions(c, d, i === 0 ? opts.actions : (opts.delayedActions ?? []));
    await b.control.setConfig({ asyncDelayMs: 0 });

    log('token issue');
    const tokens: number[] = [];
    const hashes: number[] = [];
    const stored = await hashPassword(c.user.password);
    for (let i = 0; i < opts.repeats; i++) {
      tokens.push((await timed(() => b.stack.token(c.user))).ms);
      hashes.push((await timed(() => verifyPassword(c.user.password, stored))).ms);
    }
    rows.push({ section: 'token issue', what: 'POST /v3/auth/tokens (password, project scope)', value: median(tokens), floor: median(hashes), unit: 'ms', floorIs: 'verifyPassword alone' });

    // Templates: one real volume and one real server made through the API, copied N times.
    log('templates');
    const templateVolume = await cinderCreate(c, 'volumes', { size: 1, name: 'bench-t' });
    const s = await c.nova('POST', '/servers', { server: { name: 'bench-t', flavorRef: '3', imageRef: c.imageId, networks: [{ uuid: c.networkId }] } });
    expect202(s, 'POST /servers');
    await serverAtRest(c, s.body.server.id, 'ACTIVE');
    // The volumes' ordered copies are keyed by volumeOrderKey(created_at, id), the app's function.
    const volCreated: string = (await c.cinder('GET', `/volumes/${templateVolume}`)).body.volume.created_at;
    const volT = await captureTemplate(b, templateVolume, (id) => [volumeOrderKey({ created_at: volCreated, id })]);
    // The servers' RowKey is a sort key made from created_at and the id (the app's orderKey).
    const created = s.body.server.created ?? (await c.nova('GET', `/servers/${s.body.server.id}`)).body.server.created;
    const srvT = await captureTemplate(b, s.body.server.id, (id) => [orderKey(created, id)]);
    const pkOf = (t: Template, table: string) => {
      const r = t.rows.find((x) => x.table === table);
      if (!r) throw new Error(`the template has no row in ${table}`);
      return r.entity.partitionKey;
    };
    let have = 1;
    let baseline: { volume: CreateCost; server: CreateCost } | undefined;
    let storageBase: number | undefined;
    for (const n of opts.levels) {
      log(`seeding to N=${n}`);
      const t = await timed(async () => {
        await seedCopies(b, volT, n - have, true);
        await seedCopies(b, srvT, n - have, true);
      });
      log(`  seeded ${2 * (n - have)} records in ${(t.ms / 1000).toFixed(1)} s`);
      have = n;
      await listRow(
        c,
        n,
        'GET /volumes/detail?limit=10',
        () => apiPage(c, `/volume/v3/${c.user.projectId}/volumes/detail?limit=10`),
        () => rawPage(b, 'volumes', pkOf(volT, 'volumes'), 10),
      );
      await listRow(
        c,
        n,
        'GET /servers/detail?limit=100',
        () => apiPage(c, '/compute/v2.1/servers/detail?limit=100'),
        () => rawPage(b, 'servers', pkOf(srvT, 'servers'), 100),
      );
      const cost = await createCost(c);
      baseline ??= cost;
      const base = opts.levels[0];
      // What the storage itself does as the tables grow: a raw insert and point read of one row in the
      // volumes table (the create's own writes and reads are of that kind). Azure's are O(1); Azurite's
      // in-memory tables are not, and the creates' latency rows inherit that.
      const storage = await storagePointCost(b, pkOf(volT, 'volumes'), opts.listRepeats ?? opts.repeats);
      storageBase ??= storage;
      rows.push({
        section: 'quota check cost',
        what: `Azurite insert + point read + delete of one row at N=${fmtN(n)}`,
        value: storage,
        floor: storageBase,
        unit: 'ms',
        floorIs: `the same at N=${fmtN(base)}`,
        note: 'the storage emulator alone: context for the latency rows',
      });
      for (const [k, label] of [
        ['volume', 'POST /volumes'],
        ['server', 'POST /servers'],
      ] as const) {
        rows.push({
          section: 'quota check cost',
          what: `${label} Table GETs at N=${fmtN(n)}`,
          value: cost[k].reads,
          floor: baseline[k].reads,
          unit: 'GETs',
          floorIs: `the same at N=${fmtN(base)}`,
          note: `${(cost[k].readBytes / 1024).toFixed(0)} KiB read (${(baseline[k].readBytes / 1024).toFixed(0)} at N=${fmtN(base)})`,
        });
        rows.push({ section: 'quota check cost', what: `${label} latency at N=${fmtN(n)}`, value: cost[k].ms, floor: baseline[k].ms, unit: 'ms', floorIs: `the same at N=${fmtN(base)}` });
      }
      if (opts.timersAt.includes(n)) {
        log(`timer passes at N=${n}`);
        await timerPass(c, 'reconcile-servers', n);
        await timerPass(c, 'sweep-disks', n);
      }
    }
  } finally {
    listAgent.destroy();
    await b.stop();
  }
  return { rows, seconds: (Date.now() - t0) / 1000 };
}

/** The table, in Markdown (it reads well in a terminal too). */
export function formatTable(rows: BenchRow[]): string {
  const num = (x: number, unit: string) => (unit === 'ms' ? x.toFixed(1) : Number.isInteger(x) ? String(x) : x.toFixed(1));
  const lines = ['| section | what | measured | floor | ratio | floor is | notes |', '|---|---|---|---|---|---|---|'];
  for (const r of rows) {
    const q = ratio(r);
    lines.push(`| ${r.section} | ${r.what} | ${num(r.value, r.unit)} ${r.unit} | ${num(r.floor, r.unit)} | ${q === undefined ? '—' : `${q.toFixed(2)}×`} | ${r.floorIs} | ${r.note ?? ''} |`);
  }
  return lines.join('\n');
}
