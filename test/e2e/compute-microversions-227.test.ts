// Compute microversions 2.27 and up (docs/microversions.md): each version's APIs at the version before
// and at it, bodies checked against Nova's response schema for that version (test/support/oracle.ts),
// refusals against Nova's status and words; and the real `openstack` CLI where it drives the feature.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { assertNovaResponse } from '../support/oracle';
import type { Creds } from '../support/stack';

let arm: ArmStack;
let alice: Creds & { projectId: string; userId: string };
let tAlice: string;
let tAdmin: string;
let image: string;
let net: string;

before(async () => {
  arm = await startArmStack({ asyncDelayMs: 0 });
  alice = await arm.stack.makeProjectUser('mv227-a', 'mv227alice');
  [tAlice, tAdmin] = await Promise.all([arm.stack.token(alice), arm.stack.token()]);
  image = (await arm.stack.http('GET', '/image/v2/images?name=ubuntu-22.04', { token: tAlice })).body.images[0].id;
  net = (await arm.stack.http('GET', '/network/v2.0/networks?name=private', { token: tAlice })).body.networks[0].id;
});
after(async () => {
  arm?.control.close();
  await arm?.stop();
});

/** A Nova call at microversion `mv` (none: the default, 2.1). */
const nova = (token: string, mv?: string) => (method: string, p: string, body?: unknown) =>
  arm.stack.http(method, `/compute/v2.1${p}`, { token, body, headers: mv ? { 'OpenStack-API-Version': `compute ${mv}` } : {} });

async function boot(name: string): Promise<string> {
  const r = await nova(tAlice)('POST', '/servers', { server: { name, flavorRef: '3', imageRef: image, networks: [{ uuid: net }] } });
  assert.equal(r.status, 202, r.text);
  const id = r.body.server.id as string;
  await waitFor(
    `server ${id} ACTIVE`,
    async () => {
      const s = (await nova(tAlice)('GET', `/servers/${id}`)).body?.server;
      if (s?.status === 'ERROR') throw new Error(`server ${id} went ERROR: ${JSON.stringify(s.fault)}`);
      return s?.status === 'ACTIVE' ? s : undefined;
    },
    120000,
  );
  return id;
}
const act = (token: string, mv: string | undefined, id: string, body: unknown) => nova(token, mv)('POST', `/servers/${id}/action`, body);
const msg = (body: unknown) => Object.values(body as Record<string, { message: string }>)[0].message;
const cliVersion = (mv: string) => ['--os-compute-api-version', mv];

test('2.27/2.31: the OpenStack-API-Version header and the legacy one both negotiate and are answered; no os-console-auth-tokens', async () => {
  const generic = await nova(tAlice, '2.27')('GET', '/flavors');
  assert.equal(generic.status, 200, generic.text);
  assert.equal(generic.headers.get('openstack-api-version'), 'compute 2.27');
  assert.equal(generic.headers.get('x-openstack-nova-api-version'), '2.27');
  const legacy = await arm.stack.http('GET', '/compute/v2.1/flavors', { token: tAlice, headers: { 'X-OpenStack-Nova-API-Version': '2.27' } });
  assert.equal(legacy.status, 200, legacy.text);
  assert.equal(legacy.headers.get('openstack-api-version'), 'compute 2.27');
  assert.match(legacy.headers.get('vary') ?? '', /OpenStack-API-Version/);
  // 2.31 changes os-console-auth-tokens, which Jacket does not serve (no console token is ever issued).
  assert.equal((await nova(tAdmin, '2.31')('GET', '/os-console-auth-tokens/abc')).status, 404);
});

test('2.28: os-hypervisors cpu_info is a JSON string up to 2.27 and an object from 2.28', async () => {
  const d227 = await nova(tAdmin, '2.27')('GET', '/os-hypervisors/detail');
  assert.equal(d227.status, 200, d227.text);
  assertNovaResponse('hypervisors', 'HypervisorsController', 'detail', '2.27', d227.body);
  const h = d227.body.hypervisors[0];
  assert.equal(typeof h.cpu_info, 'string');
  const d228 = await nova(tAdmin, '2.28')('GET', '/os-hypervisors/detail');
  assertNovaResponse('hypervisors', 'HypervisorsController', 'detail', '2.28', d228.body);
  assert.deepEqual(d228.body.hypervisors[0].cpu_info, JSON.parse(h.cpu_info));
  const s227 = await nova(tAdmin, '2.27')('GET', `/os-hypervisors/${h.id}`);
  assertNovaResponse('hypervisors', 'HypervisorsController', 'show', '2.27', s227.body);
  assert.equal(s227.body.hypervisor.cpu_info, h.cpu_info);
  const s228 = await nova(tAdmin, '2.28')('GET', `/os-hypervisors/${h.id}`);
  assertNovaResponse('hypervisors', 'HypervisorsController', 'show', '2.28', s228.body);
  assert.equal(s228.body.hypervisor.cpu_info.arch, 'x86_64');
  // (`openstack hypervisor show` also reads os-aggregates, which Jacket does not serve: no CLI here.)
});

test('2.29/2.30: evacuate and os-migrateLive take force (schema per version); forcing without a host is 400', async () => {
  const id = await boot('forced');
  const host = (await nova(tAdmin)('GET', `/servers/${id}`)).body.server['OS-EXT-SRV-ATTR:host'] as string;
  const ev = (mv: string, body: unknown) => act(tAdmin, mv, id, { evacuate: body });
  // evacuate_v214 has no force; evacuate_v229 has it.
  const ev228 = await ev('2.28', { force: true });
  assert.equal(ev228.status, 400);
  assert.match(msg(ev228.body), /Additional properties are not allowed \('force' was unexpected\)/);
  const ev229 = await ev('2.29', { force: true });
  assert.equal(ev229.status, 400);
  assert.equal(msg(ev229.body), "Can't force to a non-provided destination");
  assert.equal((await ev('2.29', { force: 'yes' })).status, 400);
  // Forced to a host: the server's own (Jacket's only compute host) is still refused, as Nova does.
  const evHost = await ev('2.29', { force: true, host });
  assert.equal(evHost.status, 400);
  assert.equal(msg(evHost.body), "The target host can't be the same one.");
  // Not forced, no host: on to the compute service check (the host is up).
  const evPlain = await ev('2.29', { force: false });
  assert.equal(evPlain.status, 400);
  assert.equal(msg(evPlain.body), `Compute service of ${host} is still in use.`);

  const ml = (mv: string, body: Record<string, unknown>) => act(tAdmin, mv, id, { 'os-migrateLive': body });
  const ml229 = await ml('2.29', { block_migration: 'auto', host: null, force: true });
  assert.equal(ml229.status, 400);
  assert.match(msg(ml229.body), /Additional properties are not allowed \('force' was unexpected\)/);
  const ml230 = await ml('2.30', { block_migration: 'auto', host: null, force: true });
  assert.equal(ml230.status, 400);
  assert.equal(msg(ml230.body), "Can't force to a non-provided destination");
  const ml230f = await ml('2.30', { block_migration: 'auto', host: null, force: 'False' });
  assert.equal(ml230f.status, 400);
  assert.match(msg(ml230f.body), /^Migration pre-check error/);
  // The CLI at 2.30.
  const cli = await arm.stack.osc([...cliVersion('2.30'), 'server', 'migrate', '--live-migration', id]);
  assert.notEqual(cli.code, 0);
  assert.match(cli.stderr, /Migration pre-check error/);
});
