// The deployment, checked without Azure (no Bicep compiler is installable here: see infra/README.md):
// - `npm run package` makes the zip the platform runs, with exactly the bundled entry points (and their
//   source maps), host.json and the production dependencies;
// - infra/main.bicep carries every setting shared/config.ts requires and every timer schedule the
//   Functions host resolves (shared/timers/registry.ts), and the app's config loads from its settings;
// - the template is Flex Consumption on Node 22, keyless (no listKeys, no account key, shared keys
//   off), with the custom role, Key Vault references, the workbook and the alerts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { REPO_ROOT } from '../support/paths';
import { loadConfig } from '../../shared/config';
import { TIMERS } from '../../shared/timers/registry';
import { METRIC } from '../../shared/metrics';

const bicep = readFileSync(path.join(REPO_ROOT, 'infra/main.bicep'), 'utf8');
const alertsBicep = readFileSync(path.join(REPO_ROOT, 'infra/alerts.bicep'), 'utf8');
const code = (text: string) => text.replace(/\/\/[^\n]*/g, ''); // comments may mention what the code must not do
const infraCode = code(bicep + alertsBicep + readFileSync(path.join(REPO_ROOT, 'infra/regional-role.bicep'), 'utf8'));

/** Reads a zip's central directory; returns entry name -> contents (inflated on demand). */
function readZip(buf: Buffer): Map<string, () => Buffer> {
  const end = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  assert.ok(end >= 0, 'no end of central directory');
  const count = buf.readUInt16LE(end + 10);
  let p = buf.readUInt32LE(end + 16);
  const out = new Map<string, () => Buffer>();
  for (let i = 0; i < count; i++) {
    assert.equal(buf.readUInt32LE(p), 0x02014b50);
    const method = buf.readUInt16LE(p + 10);
    const csize = buf.readUInt32LE(p + 20);
    const nlen = buf.readUInt16LE(p + 28);
    const elen = buf.readUInt16LE(p + 30);
    const clen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nlen).toString('utf8');
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    out.set(name, () => (method === 8 ? inflateRawSync(buf.subarray(start, start + csize)) : buf.subarray(start, start + csize)));
    p += 46 + nlen + elen + clen;
  }
  return out;
}

test('npm run package: the bundled entry points with their source maps, host.json and production dependencies only', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'jacket-package-'));
  // The bundles go under dist/ (they resolve nothing at build time from there; scripts/bundle.mjs).
  const bundleDir = mkdtempSync(path.join(REPO_ROOT, 'dist', '.package-test-'));
  try {
    const { buildPackage } = (await import(path.join(REPO_ROOT, 'scripts/package.mjs'))) as { buildPackage(out: string, root?: string, bundleDir?: string): Promise<{ out: string }> };
    const { out } = await buildPackage(path.join(dir, 'jacket.zip'), REPO_ROOT, bundleDir);
    const entries = readZip(readFileSync(out));
    const names = [...entries.keys()];
    assert.deepEqual(JSON.parse(entries.get('host.json')!().toString()), JSON.parse(readFileSync(path.join(REPO_ROOT, 'host.json'), 'utf8')));
    const pkg = JSON.parse(entries.get('package.json')!().toString());
    // The host loads the bundles, telemetry first (the same order as the compiled files' "main").
    assert.equal(JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).main, 'dist/{shared/telemetry.js,functions/*.js}');
    assert.equal(pkg.main, 'dist/bundle/{shared/telemetry.mjs,functions/*.mjs}');
    assert.equal(pkg.devDependencies, undefined);
    assert.equal(pkg.scripts, undefined);
    // Of dist/, only the bundles (entry points and their shared chunks), each with its map.
    const app = names.filter((n) => n.startsWith('dist/')).sort();
    const code = app.filter((n) => n.endsWith('.mjs'));
    for (const f of ['functions/http.mjs', 'functions/timers.mjs', 'functions/worker.mjs', 'shared/telemetry.mjs']) assert.ok(code.includes(`dist/bundle/${f}`), f);
    assert.ok(
      code.every((n) => /^dist\/bundle\/(functions|shared|chunks)\/[\w-]+\.mjs$/.test(n)),
      code.join(', '),
    );
    assert.deepEqual(app, code.flatMap((b) => [b, `${b}.map`]).sort(), 'the bundles and their maps, nothing else of dist/');
    for (const b of code)
      assert.ok(
        entries.get(b)!()
          .toString()
          .endsWith(`//# sourceMappingURL=${path.basename(b)}.map\n`),
        `${b} names its map`,
      );
    // The maps lead to the TypeScript sources (through tsc's maps), without embedding them.
    const map = JSON.parse(entries.get('dist/bundle/functions/http.mjs.map')!().toString());
    assert.ok(map.sources.includes('../../../functions/http.ts'), 'the map names functions/http.ts');
    assert.equal(map.sourcesContent, undefined);
    // Every production dependency is there, at its installed version (the bundles' externals among them).
    for (const dep of Object.keys(pkg.dependencies)) {
      const manifest = entries.get(`node_modules/${dep}/package.json`);
      assert.ok(manifest, `production dependency ${dep} missing`);
      const installed = JSON.parse(readFileSync(path.join(REPO_ROOT, 'node_modules', dep, 'package.json'), 'utf8')).version;
      assert.equal(JSON.parse(manifest().toString()).version, installed, dep);
    }
    // No sources, tests, emulator, local host or dev tools.
    const forbidden = names.filter(
      (n) =>
        /^(functions|shared|emulator|local|test|scripts|infra|docs)\//.test(n) ||
        /^node_modules\/(azurite|typescript|esbuild|@esbuild)\//.test(n) || // devDependencies (@types/* may be production dependencies of instrumentations)
        /(^|\/)local\.settings\.json$/.test(n),
    );
    assert.deepEqual(forbidden.slice(0, 10), []);
    // A bundle round-trips byte for byte.
    assert.ok(entries.get('dist/bundle/functions/worker.mjs')!().equals(readFileSync(path.join(bundleDir, 'functions/worker.mjs'))));
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(bundleDir, { recursive: true, force: true });
  }
});

/** The app settings main.bicep gives the Function App: name -> the Bicep expression of its value. */
function templateSettings(): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of bicep.matchAll(/\{\s*name:\s*'([A-Za-z0-9_]+)'\s*,\s*value:\s*([^}\n]+?)\s*\}/g)) out.set(m[1], m[2]);
  const block = (start: RegExp) => {
    const i = bicep.search(start);
    assert.ok(i >= 0, `${start} not in main.bicep`);
    return bicep.slice(i, bicep.indexOf('\n}', i));
  };
  for (const b of [block(/var jacketSettings = union\(\{/), block(/param schedules object = \{/)]) {
    for (const m of b.matchAll(/^\s+(JACKET_[A-Z0-9_]+):\s*(.+)$/gm)) out.set(m[1], m[2].trim());
  }
  return out;
}

/** A setting's value as deployed: a literal, a parameter's default, or a stand-in for what Azure fills in. */
function evaluate(name: string, expr: string): string {
  const lit = /^'([^']*)'$/.exec(expr);
  if (lit && !lit[1].includes('${')) return lit[1];
  const param = new RegExp(`^param ${expr} \\w+ = '([^']*)'`, 'm').exec(bicep);
  if (/^\w+$/.test(expr) && param) return param[1];
  const standIns: Record<string, string> = {
    JACKET_PUBLIC_URL: 'https://jacket-abc.azurewebsites.net',
    JACKET_TOKEN_KEYS: Buffer.alloc(32, 7).toString('base64'), // a Key Vault reference, resolved by the platform
    JACKET_BOOTSTRAP_PASSWORD: 'from-key-vault',
    JACKET_STORAGE__accountName: 'ops0storage0account',
    JACKET_STORAGE_ACCOUNT: 'ops0storage0account',
    JACKET_AZURE_SUBSCRIPTION_ID: '11111111-2222-3333-4444-555555555555',
    JACKET_AZURE_RESOURCE_GROUP: 'ops_resource_group',
    JACKET_AZURE_LOCATION: 'eastus',
    JACKET_CATALOG: '{}',
  };
  return standIns[name] ?? `<${expr}>`;
}

test('main.bicep carries every required setting and every timer schedule, and the config loads from them', () => {
  const settings = templateSettings();
  const src = readFileSync(path.join(REPO_ROOT, 'shared/config.ts'), 'utf8');
  // What loadConfig requires: required(env, 'X') and the "setting X is required" checks (identity-based storage, token keys).
  const required = new Set([...src.matchAll(/required\(env, '(\w+)'\)/g)].map((m) => m[1]));
  for (const m of src.matchAll(/setting (JACKET_\w+) \(identity-based\)|setting (JACKET_\w+) is required/g)) required.add(m[1] ?? m[2]);
  assert.ok(required.has('JACKET_PUBLIC_URL') && required.has('JACKET_TOKEN_KEYS') && required.has('JACKET_STORAGE__accountName'), [...required].join(', '));
  for (const r of required) assert.ok(settings.has(r), `main.bicep lacks the required setting ${r}`);
  for (const t of TIMERS) assert.ok(settings.has(t.setting), `main.bicep lacks ${t.setting} (timer ${t.name}): the host cannot resolve %${t.setting}%`);

  const env: Record<string, string> = {};
  for (const [k, v] of settings) if (k.startsWith('JACKET_')) env[k] = evaluate(k, v);
  const cfg = loadConfig(env);
  assert.equal(cfg.storage.kind, 'identity');
  assert.equal(cfg.storageConnectionString, '');
  assert.equal(cfg.azure.credential, 'default');
  // The template's schedules are the app's defaults (one set of numbers, docs/timers.md).
  const defaults = loadConfig({ JACKET_PUBLIC_URL: 'https://x', JACKET_STORAGE__accountName: 'acct', JACKET_TOKEN_KEYS: env.JACKET_TOKEN_KEYS });
  assert.deepEqual(cfg.timers, defaults.timers);
});

test('main.bicep: Flex Consumption on Node 22, identity everywhere, no keys', () => {
  assert.match(bicep, /sku: \{ name: 'FC1', tier: 'FlexConsumption' \}/);
  assert.match(bicep, /functionAppConfig: \{/);
  assert.match(bicep, /type: 'blobContainer'/);
  assert.match(bicep, /instanceMemoryMB: instanceMemoryMB/);
  assert.match(bicep, /maximumInstanceCount: maximumInstanceCount/);
  assert.match(bicep, /runtime: \{ name: 'node', version: nodeVersion \}/);
  assert.match(bicep, /param nodeVersion string = '22'/);
  assert.doesNotMatch(bicep, /Y1|'Dynamic'|linuxFxVersion/);
  // Keyless: no key is read, no connection string with a key is built, shared keys are off.
  assert.doesNotMatch(infraCode, /listKeys|AccountKey|SharedAccessSignature|connectionString\(/i);
  assert.match(bicep, /allowSharedKeyAccess: false/);
  assert.match(bicep, /AzureWebJobsStorage__accountName/);
  assert.match(bicep, /JACKET_STORAGE__accountName/);
  assert.doesNotMatch(code(bicep), /'AzureWebJobsStorage'|JACKET_STORAGE_CONNECTION_STRING|FUNCTIONS_WORKER_RUNTIME|FUNCTIONS_EXTENSION_VERSION/);
  assert.match(bicep, /DisableLocalAuth: true/);
  // Secrets through Key Vault (RBAC) references.
  assert.match(bicep, /enableRbacAuthorization: true/);
  assert.match(bicep, /JACKET_TOKEN_KEYS: kvRef\(/);
  assert.match(bicep, /JACKET_BOOTSTRAP_PASSWORD: kvRef\(/);
  assert.match(bicep, /@Microsoft\.KeyVault\(VaultName=/);
  // The custom role, not Contributor/Owner.
  assert.match(bicep, /loadJsonContent\('jacket-role\.json'\)/);
  assert.match(bicep, /type: 'CustomRole'/);
  assert.doesNotMatch(infraCode, /b24988ac-6180-42a0-ab88-20f7382dd24c|8e3af657-a8ff-443c-a75c-2fe8c4bcb635/); // Contributor, Owner
});

test('main.bicep deploys the workbook and the alert rules, over metrics the app emits', () => {
  assert.match(bicep, /Microsoft\.Insights\/workbooks@/);
  assert.match(bicep, /serializedData: loadTextContent\('workbook\.json'\)/);
  assert.match(bicep, /module alerts 'alerts\.bicep'/);
  const workbook = readFileSync(path.join(REPO_ROOT, 'infra/workbook.json'), 'utf8');
  JSON.parse(workbook);
  const emitted = new Set<string>(Object.values(METRIC));
  for (const text of [workbook, alertsBicep]) {
    for (const m of text.matchAll(/jacket\.[a-z_]+\.[a-z_]+/g)) assert.ok(emitted.has(m[0]), `${m[0]} is not a metric of shared/metrics.ts`);
  }
  for (const m of [METRIC.WORK_FINISHED, METRIC.SWEEP_DELETED, METRIC.POISON_DEPTH, METRIC.ARM_THROTTLED]) assert.ok(workbook.includes(m), `workbook lacks ${m}`);
  for (const rule of ['poison-queue', 'api-error-rate', 'sweep-deletes', 'arm-throttling']) assert.match(alertsBicep, new RegExp(`name: '${rule}'`));
  assert.match(alertsBicep, /jacket\.work\.poison_depth[\s\S]*threshold: 0/);
});
