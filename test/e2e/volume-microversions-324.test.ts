// Block Storage microversions 3.24 to 3.27 (docs/volumes.md "Microversions"), each API at the version
// before and at it, against the ARM emulator: POST /workers/cleanup (3.24), a group's volumes (3.25),
// freeze/thaw/failover_host by cluster and the clusters' replication filters (3.26), and the
// attachments API (3.27), through HTTP and the real `openstack` CLI.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Stack, Creds } from '../support/stack';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { assertCinderShape } from '../support/cinderShapes';
import { reportState } from '../../shared/servicegroup/registry';
import { ledger, touch } from '../../shared/work/ledger';

let env: ArmStack;
let stack: Stack;
let alice: Creds & { projectId: string; userId: string };
let tA: string;
let tAdmin: string;
let adminProject: string;

const at = (v: string) => ({ 'OpenStack-API-Version': `volume ${v}` });
const asAlice = (v: string, method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${alice.projectId}${p}`, { token: tA, body, headers: at(v) });
const asAdmin = (v: string, method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${adminProject}${p}`, { token: tAdmin, body, headers: at(v) });
const msg = (body: unknown) => (Object.values(body as Record<string, { message: string }>)[0] as { message: string }).message;
async function refused(r: Promise<{ status: number; body: unknown; text: string }>, status: number, message?: string) {
  const x = await r;
  assert.equal(x.status, status, x.text);
  if (message !== undefined) assert.equal(msg(x.body), message);
}
const statusOf = (kind: string, key: string, id: string, want: string) =>
  waitFor(`${key} ${id} ${want}`, async () => ((await asAlice('3.27', 'GET', `/${kind}/${id}`)).body?.[key]?.status === want ? true : undefined), 120000);
async function newVolume(name: string, extra: Record<string, unknown> = {}, v = '3.0'): Promise<string> {
  const r = await asAlice(v, 'POST', '/volumes', { volume: { size: 1, name, ...extra } });
  assert.equal(r.status, 202, r.text);
  await statusOf('volumes', 'volume', r.body.volume.id, 'available');
  return r.body.volume.id;
}
/** The samples' connection_info is {} (a reserve's); a connected one holds the driver's keys, checked apart. */
const unconnected = (a: Record<string, unknown>) => ({ ...a, connection_info: {} });
const beat = () => reportState(stack.cloud.services, 'worker', new Date(), true);

before(async () => {
  env = await startArmStack({ asyncDelayMs: 0 });
  stack = env.stack;
  alice = await stack.makeProjectUser('mv324-a', 'mv324alice');
  [tA, tAdmin] = await Promise.all([stack.token(alice), stack.token()]);
  const me = await stack.http('GET', '/identity/v3/auth/tokens', { token: tAdmin, headers: { 'X-Subject-Token': tAdmin } });
  adminProject = me.body.token.project.id;
  await beat();
});
after(() => env?.stop());

test('3.24: POST /workers/cleanup selects services as Cinder does and resumes the volume actions a lost worker left', async () => {
  await refused(asAdmin('3.23', 'POST', '/workers/cleanup', {}), 404);
  // The body's schema before the policy (a member's bad body is 400), then the policy (admin).
  await refused(asAlice('3.24', 'POST', '/workers/cleanup', { nope: 1 }), 400);
  await refused(asAlice('3.24', 'POST', '/workers/cleanup', {}), 403);
  await refused(asAdmin('3.24', 'POST', '/workers/cleanup', { resource_type: 'backup' }), 400, 'Invalid input received: Resource type Backup not valid, must be Volume or Snapshot');
  const unknown = randomUUID();
  await refused(asAdmin('3.24', 'POST', '/workers/cleanup', { resource_id: unknown }), 400, `Invalid input received: ('There is no resource with UUID %s pending cleanup.', '${unknown}')`);
  await beat();
  // is_up defaults to false: only services that are down are selected, and both are up.
  const none = await asAdmin('3.24', 'POST', '/workers/cleanup', {});
  assert.equal(none.status, 202, none.text);
  assert.deepEqual(none.body, { cleaning: [], unavailable: [] });

  // A volume action whose message was lost long ago (its ledger row stale): the clean-up sends it again.
  const s = stack.cloud.services;
  const lost = randomUUID();
  const old = Date.now() - (s.config.work.staleSeconds + 60) * 1000;
  await touch(s, { kind: 'volume-extend', id: lost, data: { project: alice.projectId, size: 2 } }, old);
  const up = await asAdmin('3.24', 'POST', '/workers/cleanup', { is_up: 'true', resource_id: lost, service_id: 2 });
  assert.equal(up.status, 202, up.text);
  assert.deepEqual(up.body, { cleaning: [{ id: 2, host: 'jacket@azure', binary: 'cinder-volume', cluster_name: null }], unavailable: [] });
  // Resumed: the row was touched now (and the step, finding no volume, ends the action).
  await waitFor('resumed', async () => {
    const row = await ledger(s).get('work', `volume-extend:${lost}`);
    return !row || row.value.touchedAt > old ? true : undefined;
  });
  const both = await asAdmin('3.24', 'POST', '/workers/cleanup', { is_up: true });
  assert.deepEqual(
    both.body.cleaning.map((x: { binary: string }) => x.binary),
    ['cinder-scheduler', 'cinder-volume'],
  );
  assert.deepEqual((await asAdmin('3.24', 'POST', '/workers/cleanup', { is_up: true, cluster_name: 'c1' })).body, { cleaning: [], unavailable: [] });
});

test('3.25: a group lists its volumes with ?list_volume=true', async () => {
  await stack.oscJson(['--os-volume-api-version', '3.11', 'volume', 'group', 'type', 'create', 'mv325-gt']);
  const vt = ((await asAdmin('3.25', 'GET', '/types')).body.volume_types as { id: string }[])[0];
  const g = (await asAlice('3.25', 'POST', '/groups', { group: { group_type: 'mv325-gt', volume_types: [vt.id], name: 'g325' } })).body.group;
  await statusOf('groups', 'group', g.id, 'available');
  const vol = await newVolume('in-g325', { group_id: g.id, volume_type: vt.id }, '3.13');
  assert.ok(!('volumes' in (await asAlice('3.24', 'GET', `/groups/${g.id}?list_volume=true`)).body.group));
  assert.deepEqual((await asAlice('3.25', 'GET', `/groups/${g.id}?list_volume=true`)).body.group.volumes, [vol]);
  assert.ok(!('volumes' in (await asAlice('3.25', 'GET', `/groups/${g.id}`)).body.group), 'only when asked');
  const listed = (await asAlice('3.25', 'GET', '/groups/detail?list_volume=True')).body.groups.find((x: { id: string }) => x.id === g.id);
  assert.deepEqual(listed.volumes, [vol]);
  // list_volume is never a filter; a value that is not a boolean is 400 (get_bool_param).
  assert.ok((await asAlice('3.25', 'GET', '/groups?list_volume=true')).body.groups.some((x: { id: string }) => x.id === g.id));
  await refused(asAlice('3.25', 'GET', `/groups/${g.id}?list_volume=maybe`), 400, "Value 'maybe' for 'list_volume' is not a boolean.");
});

test('3.26: freeze, thaw and failover_host take a cluster; the clusters list takes the replication filters', async () => {
  await refused(asAdmin('3.25', 'GET', '/clusters?frozen=true'), 400, 'Invalid input received: Invalid filter keys: frozen');
  assert.deepEqual((await asAdmin('3.26', 'GET', '/clusters?frozen=true&replication_status=disabled')).body, { clusters: [] });
  for (const a of ['freeze', 'thaw', 'failover_host']) {
    await refused(asAdmin('3.25', 'PUT', `/os-services/${a}`, { cluster: 'c1' }), 400, 'Invalid input received: Host field is missing.');
    await refused(asAdmin('3.26', 'PUT', `/os-services/${a}`, { cluster: 'c1' }), 400, 'Invalid input received: No service found with cluster=c1');
    await refused(asAdmin('3.26', 'PUT', `/os-services/${a}`, { cluster: 'c1', host: 'jacket@azure' }), 400, 'Invalid input received: One and only one of cluster and host must be set.');
    await refused(asAlice('3.26', 'PUT', `/os-services/${a}`, { host: 'jacket@azure' }), 403);
  }
  await refused(
    asAdmin('3.26', 'PUT', '/os-services/failover_host', { host: 'jacket@azure' }),
    400,
    "Invalid input received: No service could be changed: replication_status in ['jacket@azure'] must be ['enabled', 'failed-over'] and must be up to failover.",
  );
  const vol = await newVolume('frozen-v');
  const frozen = await asAdmin('3.26', 'PUT', '/os-services/freeze', { host: 'jacket@azure' });
  try {
    assert.equal(frozen.status, 200, frozen.text);
    const svc = (await asAdmin('3.26', 'GET', '/os-services?binary=cinder-volume')).body.services[0];
    assert.equal(svc.frozen, true);
    assert.equal(svc.status, 'disabled');
    assert.equal(svc.disabled_reason, 'frozen');
    const no = 'Invalid input received: Modification operations are not allowed on frozen storage backends.';
    await refused(asAlice('3.26', 'DELETE', `/volumes/${vol}`), 400, no);
    await refused(asAlice('3.26', 'POST', '/snapshots', { snapshot: { volume_id: vol } }), 400, no);
    await refused(
      asAdmin('3.26', 'PUT', '/os-services/freeze', { host: 'jacket@azure' }),
      400,
      "Invalid input received: No service could be changed: frozen in ['jacket@azure'] must be False to failover.",
    );
  } finally {
    const thawed = await asAdmin('3.26', 'PUT', '/os-services/thaw', { host: 'jacket@azure' });
    assert.equal(thawed.status, 200, thawed.text);
  }
  const svc = (await asAdmin('3.26', 'GET', '/os-services?binary=cinder-volume')).body.services[0];
  assert.equal(svc.frozen, false);
  assert.equal(svc.status, 'enabled');
  await refused(
    asAdmin('3.26', 'PUT', '/os-services/thaw', { host: 'jacket@azure' }),
    400,
    "Invalid input received: No service could be changed: frozen in ['jacket@azure'] must be True to failover.",
  );
  assert.equal((await asAlice('3.26', 'DELETE', `/volumes/${vol}`)).status, 202);
});

test('3.27: the attachments API — Nova’s attachments listed and kept, Cinder’s reserved, connected and deleted', async () => {
  await refused(asAlice('3.26', 'GET', '/attachments'), 404);
  const srv = await stack.oscJson(['server', 'create', '--flavor', 'm1.medium', '--image', 'ubuntu-22.04', '--network', 'private', '--wait', 'att327'], alice);
  assert.equal(srv.status, 'ACTIVE');
  // Nova's attachment: listed with its server, its connection in the detail, and Nova's to remove.
  const novaVol = await newVolume('nova-att');
  await stack.oscJson(['server', 'add', 'volume', 'att327', 'nova-att'], alice);
  await statusOf('volumes', 'volume', novaVol, 'in-use');
  const list = await asAlice('3.27', 'GET', '/attachments');
  assert.equal(list.status, 200, list.text);
  assertCinderShape('attachment-list-response.json', list.body);
  const mine = list.body.attachments.find((x: { volume_id: string }) => x.volume_id === novaVol);
  assert.equal(mine.status, 'attached');
  assert.equal(mine.instance, srv.id);
  const volView = (await asAlice('3.27', 'GET', `/volumes/${novaVol}`)).body.volume;
  assert.equal(mine.id, volView.attachments[0].attachment_id, "the volume view's attachment_id");
  const shown = await asAlice('3.27', 'GET', `/attachments/${mine.id}`);
  assertCinderShape('attachment-show-response.json', { attachment: unconnected(shown.body.attachment) });
  assert.equal(shown.body.attachment.connection_info.driver_volume_type, 'azure_managed_disk');
  assert.equal(shown.body.attachment.attach_mode, 'rw');
  assert.equal(shown.body.attachment.detached_at, '');
  await refused(asAlice('3.27', 'DELETE', `/attachments/${mine.id}`), 409, `Detach volume from instance ${srv.id} using the Compute API`);
  assert.equal((await asAlice('3.27', 'GET', `/volumes/${novaVol}`)).body.volume.status, 'in-use');

  // Cinder's own: reserve, connect, delete.
  const vol = await newVolume('cinder-att');
  const made = await asAlice('3.27', 'POST', '/attachments', { attachment: { volume_uuid: vol, instance_uuid: srv.id } });
  assert.equal(made.status, 200, made.text);
  assertCinderShape('attachment-create-response.json', made.body);
  const att = made.body.attachment;
  assert.equal(att.status, 'reserved');
  assert.deepEqual(att.connection_info, {});
  assert.equal((await asAlice('3.27', 'GET', `/volumes/${vol}`)).body.volume.status, 'reserved');
  await refused(
    asAlice('3.27', 'POST', '/attachments', { attachment: { volume_uuid: vol } }),
    400,
    `Invalid volume: Volume ${vol} status must be available or downloading to reserve, but the current status is reserved.`,
  );
  const upd = await asAlice('3.27', 'PUT', `/attachments/${att.id}`, { attachment: { connector: { host: 'h1', mountpoint: '/dev/vdc', initiator: 'iqn.x' } } });
  assert.equal(upd.status, 200, upd.text);
  assert.equal(upd.body.attachment.status, 'attaching');
  assert.equal(upd.body.attachment.connection_info.managed_disk_name, `volume-${vol}`);
  assert.equal((await asAlice('3.27', 'GET', `/volumes/${vol}`)).body.volume.status, 'attaching');
  // Filters: volume_id and instance_id; `status` is no attachment column (matches nothing).
  const byVol = (await asAlice('3.27', 'GET', `/attachments/detail?volume_id=${vol}`)).body.attachments;
  assert.deepEqual(
    byVol.map((x: { id: string }) => x.id),
    [att.id],
  );
  assertCinderShape('attachment-list-detailed-response.json', { attachments: byVol.map(unconnected) });
  assert.equal((await asAlice('3.27', 'GET', `/attachments?instance_id=${srv.id}`)).body.attachments.length, 2);
  assert.deepEqual((await asAlice('3.27', 'GET', '/attachments?status=attaching')).body.attachments, []);
  // Another project's attachment is not found; the admin finds it.
  await refused(asAdmin('3.27', 'GET', `/attachments/${randomUUID()}`), 404);
  assert.equal((await asAdmin('3.27', 'GET', `/attachments/${att.id}`)).status, 200);
  const gone = await asAlice('3.27', 'DELETE', `/attachments/${att.id}`);
  assert.equal(gone.status, 200, gone.text);
  assert.deepEqual(gone.body, { attachments: [] });
  assert.equal((await asAlice('3.27', 'GET', `/volumes/${vol}`)).body.volume.status, 'available');
  await refused(asAlice('3.27', 'GET', `/attachments/${att.id}`), 404, `Volume attachment could not be found with filter: attachment_id = ${att.id}.`);

  // The CLI: volume attachment list, show, delete. (Its `volume attachment create` sends `mode`, which
  // upstream's schema takes only from 3.54: refused at 3.27 by Cinder and Jacket alike.)
  const again = (await asAlice('3.27', 'POST', '/attachments', { attachment: { volume_uuid: vol, instance_uuid: srv.id } })).body.attachment;
  const cliList = await stack.oscJson<Record<string, string>[]>(['--os-volume-api-version', '3.27', 'volume', 'attachment', 'list'], alice);
  assert.deepEqual(cliList.map((x) => x.ID ?? x.id).sort(), [mine.id, again.id].sort());
  const cliShow = await stack.oscJson<Record<string, string>>(['--os-volume-api-version', '3.27', 'volume', 'attachment', 'show', again.id], alice);
  assert.equal(cliShow.status ?? cliShow.Status, 'reserved');
  const del = await stack.osc(['--os-volume-api-version', '3.27', 'volume', 'attachment', 'delete', again.id], alice);
  assert.equal(del.code, 0, del.stderr);
  await statusOf('volumes', 'volume', vol, 'available');
  // An error volume takes no attachment.
  await asAdmin('3.27', 'POST', `/volumes/${vol}/action`, { 'os-reset_status': { status: 'error' } });
  await refused(
    asAlice('3.27', 'POST', '/attachments', { attachment: { volume_uuid: vol } }),
    400,
    `Invalid volume: Volume attachments can not be created if the volume is in an error state. The Volume ${vol} currently has a status of: error `,
  );
});
