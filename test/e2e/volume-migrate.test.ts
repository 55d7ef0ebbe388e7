// Cinder's os-migrate_volume (admin) end to end against the ARM emulator: a migration to another pool of
// jacket@azure is a PATCH of the managed disk's SKU on the work queue; the volume keeps its type, its
// host and migration_status follow. Cinder's refusals at 3.15 and 3.16 (VOLUME_MIGRATE_CLUSTER: host or
// cluster; manage takes a cluster too), the real `openstack volume migrate`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import type { Creds } from '../support/stack';
import { tokenProjectId } from '../support/fixtures';

let env: ArmStack;
let alice: Creds & { projectId: string; userId: string };
let tAlice: string;
let tAdmin: string;
const RG = 'ops_resource_group';

let adminProject: string;
/** A Cinder call at `mv`, in the token's own project's URL (the admin's reaches alice's volumes by id). */
const cinder = (token: string, mv: string) => (method: string, p: string, body?: unknown) =>
  env.stack.http(method, `/volume/v3/${token === tAdmin ? adminProject : alice.projectId}${p}`, { token, body, headers: { 'OpenStack-API-Version': `volume ${mv}` } });
const settled = (id: string, want: (v: Record<string, any>) => boolean, what: string) =>
  waitFor(
    `volume ${id} ${what}`,
    async () => {
      const v = (await cinder(tAdmin, '3.16')('GET', `/volumes/${id}`)).body?.volume;
      return v && want(v) ? v : undefined;
    },
    90000,
  );
const migrate = (id: string, params: Record<string, unknown>, mv = '3.15', token = tAdmin) => cinder(token, mv)('POST', `/volumes/${id}/action`, { 'os-migrate_volume': params });
const refused = async (r: Promise<{ status: number; body: any; text: string }>, status: number, message: string) => {
  const x = await r;
  assert.equal(x.status, status, x.text);
  assert.equal((Object.values(x.body)[0] as { message: string }).message, message);
};

before(async () => {
  env = await startArmStack({ asyncDelayMs: 0 });
  alice = await env.stack.makeProjectUser('mig-a', 'alice');
  [tAlice, tAdmin] = await Promise.all([env.stack.token(alice), env.stack.token()]);
  adminProject = await tokenProjectId(env.stack, tAdmin);
});
after(() => env?.stop());

test('os-migrate_volume to another pool: the disk changes SKU, the volume keeps its type; host and migration_status follow', async () => {
  const v = await env.stack.oscJson(['volume', 'create', '--size', '2', 'm1'], alice);
  const start = await settled(v.id, (x) => x.status === 'available', 'available');
  assert.equal(start['os-vol-host-attr:host'], 'jacket@azure#Standard_LRS');
  assert.equal(start.migration_status, null);

  // Refusals, each changing nothing.
  await refused(migrate(v.id, { host: 'jacket@azure#Premium_LRS' }, '3.15', tAlice), 403, "Policy doesn't allow volume_extension:volume_admin_actions:migrate_volume to be performed.");
  const noHost = await migrate(v.id, {});
  assert.equal(noHost.status, 400, noHost.text);
  await refused(migrate(v.id, { host: '' }), 400, 'Invalid input received: Host field is missing.');
  const cluster315 = await migrate(v.id, { host: 'jacket@azure#Premium_LRS', cluster: 'c1' });
  assert.equal(cluster315.status, 400, 'cluster is a 3.16 key');
  await refused(migrate(v.id, { host: 'other@backend#Premium_LRS' }), 400, "Invalid host: No available service named 'other@backend#Premium_LRS'");
  await refused(
    migrate(v.id, { host: 'jacket@azure#Standard_LRS' }),
    400,
    `Invalid volume: Volume ${v.id} status must be available or in-use, must not be migrating, have snapshots, be replicated, be part of a group and destination host/cluster must be different than the current one`,
  );
  assert.equal((await settled(v.id, () => true, 'read')).migration_status, null);

  // The migration, locked: maintenance while it runs, then available again on the new pool.
  const r = await migrate(v.id, { host: 'jacket@azure#Premium_LRS', lock_volume: true, force_host_copy: 'False' });
  assert.equal(r.status, 202, r.text);
  const done = await settled(v.id, (x) => x.migration_status === 'success', 'migrated');
  assert.equal(done.status, 'available');
  assert.equal(done['os-vol-host-attr:host'], 'jacket@azure#Premium_LRS');
  assert.equal(done.volume_type, '__DEFAULT__', 'the type stays');
  assert.equal((await env.compute.disks.get(RG, `volume-${v.id}`)).sku?.name, 'Premium_LRS');

  // A pool the backend does not have: accepted, then the scheduler's failure ends it in error.
  const bad = await migrate(v.id, { host: 'jacket@azure#NoSuchPool' });
  assert.equal(bad.status, 202, bad.text);
  const failed = await settled(v.id, (x) => x.migration_status === 'error', 'migration error');
  assert.equal(failed.status, 'available');
  assert.equal(failed['os-vol-host-attr:host'], 'jacket@azure#Premium_LRS');

  // The CLI; a volume with snapshots is refused.
  await env.stack.oscOk(['volume', 'migrate', '--host', 'jacket@azure#StandardSSD_LRS', v.id]);
  await settled(v.id, (x) => x.migration_status === 'success' && x['os-vol-host-attr:host'] === 'jacket@azure#StandardSSD_LRS', 'migrated by the CLI');
  const snap = await env.stack.oscJson(['volume', 'snapshot', 'create', '--volume', v.id, 'm1-s'], alice);
  await waitFor('snapshot available', async () => ((await cinder(tAlice, '3.0')('GET', `/snapshots/${snap.id}`)).body.snapshot.status === 'available' ? true : undefined));
  await refused(
    migrate(v.id, { host: 'jacket@azure#Premium_LRS' }),
    400,
    `Invalid volume: Volume ${v.id} status must be available or in-use, must not be migrating, have snapshots, be replicated, be part of a group and destination host/cluster must be different than the current one`,
  );
  await env.stack.oscOk(['volume', 'snapshot', 'delete', snap.id], alice);
  await waitFor('snapshot gone', async () => ((await cinder(tAlice, '3.0')('GET', `/snapshots/${snap.id}`)).status === 404 ? true : undefined));

  // A finished migration does not hold the volume: it deletes.
  await env.stack.oscOk(['volume', 'delete', v.id], alice);
  await waitFor('volume gone', async () => ((await cinder(tAlice, '3.0')('GET', `/volumes/${v.id}`)).status === 404 ? true : undefined));
});

test('3.16: os-migrate_volume takes a host or a cluster (Jacket has none), manage takes a cluster', async () => {
  const v = await env.stack.oscJson(['volume', 'create', '--size', '1', 'm2'], alice);
  await settled(v.id, (x) => x.status === 'available', 'available');
  await refused(migrate(v.id, { host: 'jacket@azure#Premium_LRS', cluster: 'c1' }, '3.16'), 400, 'Invalid input received: One and only one of cluster and host must be set.');
  await refused(migrate(v.id, { host: null }, '3.16'), 400, 'Invalid input received: One and only one of cluster and host must be set.');
  await refused(migrate(v.id, { cluster: 'c1' }, '3.16'), 400, "Invalid host: No available service named 'c1'");
  const r = await migrate(v.id, { host: 'jacket@azure#Premium_LRS' }, '3.16');
  assert.equal(r.status, 202, r.text);
  await settled(v.id, (x) => x.migration_status === 'success', 'migrated at 3.16');

  // Manage: a cluster only from 3.16, and no cluster exists.
  const manage = (mv: string, volume: Record<string, unknown>) => cinder(tAdmin, mv)('POST', '/manageable_volumes', { volume: { ref: { 'source-name': 'nope' }, ...volume } });
  const m315 = await manage('3.15', { cluster: 'c1' });
  assert.equal(m315.status, 400, 'cluster is a 3.16 key');
  await refused(manage('3.16', { cluster: 'c1', host: 'jacket@azure' }), 400, 'Invalid input received: One and only one of cluster and host must be set.');
  await refused(manage('3.16', { cluster: 'c1' }), 400, "Cluster 'c1' not found");
});
