// Block Storage microversions 3.32, 3.38 and 3.39 (docs/volumes.md "Microversions"), each at the version
// before and at it, against the ARM emulator: the services' log levels (set-log and get-log, 3.32), the
// group replication actions, answered as Cinder answers a group whose type is not replication-enabled
// (3.38), and an admin's GET /limits?project_id= (3.39).
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Stack, Creds } from '../support/stack';
import { startArmStack, type ArmStack } from '../support/armStack';
import { volumeTest } from '../support/advertised';
import { reportState } from '../../shared/servicegroup/registry';
import { msg, refused } from '../support/nova';

let env: ArmStack;
let stack: Stack;
let alice: Creds & { projectId: string; userId: string };
let bob: Creds & { projectId: string; userId: string };
let tA: string;
let tB: string;
let tAdmin: string;
let adminProject: string;

const at = (v: string) => ({ 'OpenStack-API-Version': `volume ${v}` });
const asAlice = (v: string, method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${alice.projectId}${p}`, { token: tA, body, headers: at(v) });
const asBob = (v: string, method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${bob.projectId}${p}`, { token: tB, body, headers: at(v) });
const asAdmin = (v: string, method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${adminProject}${p}`, { token: tAdmin, body, headers: at(v) });

before(async () => {
  env = await startArmStack({ asyncDelayMs: 0 });
  stack = env.stack;
  alice = await stack.makeProjectUser('mv332-a', 'mv332alice');
  bob = await stack.makeProjectUser('mv332-b', 'mv332bob');
  [tA, tB, tAdmin] = await Promise.all([stack.token(alice), stack.token(bob), stack.token()]);
  const me = await stack.http('GET', '/identity/v3/auth/tokens', { token: tAdmin, headers: { 'X-Subject-Token': tAdmin } });
  adminProject = me.body.token.project.id;
});
after(() => env?.stop());

volumeTest('3.38')('3.38: group replication actions answer as for a group type without replication; replication_status shown', async () => {
  await stack.oscJson(['--os-volume-api-version', '3.11', 'volume', 'group', 'type', 'create', 'mv338-gt']);
  const vt = ((await asAdmin('3.38', 'GET', '/types')).body.volume_types as { id: string }[])[0];
  const created = await asAlice('3.38', 'POST', '/groups', { group: { group_type: 'mv338-gt', volume_types: [vt.id], name: 'g338' } });
  assert.equal(created.status, 202, created.text);
  const id = created.body.group.id as string;
  const act = (v: string, body: unknown, as = asAlice) => as(v, 'POST', `/groups/${id}/action`, body);
  const notReplicated = `Invalid group type: Group ${id} is not a replication group type.`;
  // Below 3.38 the actions are unknown: the versioned method's 404, and no replication_status.
  for (const a of ['enable_replication', 'disable_replication', 'failover_replication', 'list_replication_targets']) {
    await refused(act('3.37', { [a]: {} }), 404, 'The resource could not be found.');
  }
  assert.ok(!('replication_status' in (await asAlice('3.37', 'GET', `/groups/${id}`)).body.group));
  // From 3.38: the group shows Cinder's 'disabled', and every action is InvalidGroupType's 400.
  assert.equal((await asAlice('3.38', 'GET', `/groups/${id}`)).body.group.replication_status, 'disabled');
  const listed = (await asAlice('3.38', 'GET', '/groups/detail')).body.groups as { id: string; replication_status: string }[];
  assert.equal(listed.find((g) => g.id === id)?.replication_status, 'disabled');
  for (const a of ['enable_replication', 'disable_replication', 'list_replication_targets']) await refused(act('3.38', { [a]: {} }), 400, notReplicated);
  await refused(act('3.38', { failover_replication: { allow_attached_volume: 'yes', secondary_backend_id: 'x' } }), 400, notReplicated);
  // The schema first: an unknown key, a non-boolean flag, a non-object body.
  await refused(
    act('3.38', { failover_replication: { force: true } }),
    400,
    "Invalid input for field/attribute failover_replication. Value: {'force': True}. Additional properties are not allowed ('force' was unexpected)",
  );
  const bad = await act('3.38', { failover_replication: { allow_attached_volume: 'maybe' } });
  assert.equal(bad.status, 400, bad.text);
  assert.match(msg(bad.body), /^Invalid input for field\/attribute allow_attached_volume\. Value: maybe\./);
  await refused(act('3.38', { enable_replication: 'now' }), 400, "Invalid input for field/attribute enable_replication. Value: now. 'now' is not of type 'object'");
  // Another project's group is not found, before any policy; an admin reaches the type check.
  await refused(act('3.38', { enable_replication: {} }, asBob), 404, `Group ${id} could not be found.`);
  await refused(act('3.38', { list_replication_targets: {} }, asAdmin), 400, notReplicated);
  // The group is unchanged.
  const after = (await asAlice('3.38', 'GET', `/groups/${id}`)).body.group;
  assert.equal(after.status, 'available');
  assert.equal(after.replication_status, 'disabled');
  // The CLI (OSC 10.5 through openstacksdk): what upstream's schemas answer to the bodies it sends.
  const cli = async (args: string[], want: RegExp) => {
    const r = await stack.osc(['--os-volume-api-version', '3.38', ...args], alice);
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, want);
  };
  // The SDK sends {"enable_replication": null}: Cinder's schema wants an object.
  await cli(['volume', 'group', 'set', '--enable-replication', id], /Invalid input for field\/attribute enable_replication\. Value: None\. None is not of type 'object'/);
  await cli(['volume', 'group', 'set', '--disable-replication', id], /Invalid input for field\/attribute disable_replication\. Value: None\. None is not of type 'object'/);
  // OSC 10.5's failover sends the SDK's helper name as the action: Cinder's unknown action.
  await cli(['volume', 'group', 'failover', id], /There is no such action: modify_body_for_action/);
});

volumeTest('3.39')("3.39: an admin's GET /limits?project_id= shows that project's limits and usage; others' project_id ignored", async () => {
  // Alice uses one volume; her limits show it, Bob's and the admin's project do not.
  const vol = await asAlice('3.39', 'POST', '/volumes', { volume: { size: 1, name: 'v339' } });
  assert.equal(vol.status, 202, vol.text);
  const used = async (r: Promise<{ status: number; body: { limits: { absolute: Record<string, number> } }; text: string }>) => {
    const x = await r;
    assert.equal(x.status, 200, x.text);
    return x.body.limits.absolute.totalVolumesUsed;
  };
  assert.equal(await used(asAlice('3.39', 'GET', '/limits')), 1);
  assert.equal(await used(asAdmin('3.39', 'GET', '/limits')), 0);
  // Below 3.39 Cinder pops project_id (and tenant_id): the admin's own project.
  assert.equal(await used(asAdmin('3.38', 'GET', `/limits?project_id=${alice.projectId}`)), 0);
  assert.equal(await used(asAdmin('3.38', 'GET', `/limits?tenant_id=${alice.projectId}`)), 0);
  // From 3.39 an admin names the project (project_id, or the older tenant_id).
  assert.equal(await used(asAdmin('3.39', 'GET', `/limits?project_id=${alice.projectId}`)), 1);
  assert.equal(await used(asAdmin('3.39', 'GET', `/limits?tenant_id=${alice.projectId}`)), 1);
  const full = await asAdmin('3.39', 'GET', `/limits?project_id=${alice.projectId}`);
  assert.deepEqual(full.body.limits.rate, []);
  assert.equal(typeof full.body.limits.absolute.maxTotalVolumes, 'number');
  // A member's project_id is dropped, not refused: always their own project.
  assert.equal(await used(asBob('3.39', 'GET', `/limits?project_id=${alice.projectId}`)), 0);
  assert.equal(await used(asAlice('3.39', 'GET', `/limits?project_id=${bob.projectId}`)), 1);
  // The CLI: limits show --absolute --project at 3.39 (the SDK's attribute names).
  const rows = await stack.oscJson<{ Name: string; Value: number }[]>(['--os-volume-api-version', '3.39', 'limits', 'show', '--absolute', '--project', alice.projectId]);
  assert.equal(rows.find((r) => r.Name === 'total_volumes_used')?.Value, 1, JSON.stringify(rows));
});

volumeTest('3.32')("3.32: set-log and get-log change and show the services' log levels (404 below 3.32)", async () => {
  await reportState(stack.cloud.services, 'worker', new Date(), true);
  await refused(asAdmin('3.31', 'PUT', '/os-services/get-log', {}), 404, 'The resource could not be found.');
  await refused(asAdmin('3.31', 'PUT', '/os-services/set-log', { level: 'DEBUG' }), 404, 'The resource could not be found.');
  await refused(asAlice('3.32', 'PUT', '/os-services/get-log', {}), 403, "Policy doesn't allow volume_extension:services:update to be performed.");
  const levels = async (body: unknown) => {
    const r = await asAdmin('3.32', 'PUT', '/os-services/get-log', body);
    assert.equal(r.status, 200, r.text);
    return r.body.log_levels as { host: string; binary: string; levels: Record<string, string> }[];
  };
  const all = await levels({});
  assert.deepEqual([...new Set(all.map((x) => x.binary))].sort(), ['cinder-api', 'cinder-scheduler', 'cinder-volume']);
  for (const x of all) assert.deepEqual(Object.keys(x.levels), ['jacket']);
  // Set cinder-volume's: only its entry changes; the level is checked as Cinder checks it.
  assert.equal((await asAdmin('3.32', 'PUT', '/os-services/set-log', { binary: 'cinder-volume', level: 'debug' })).status, 202);
  const vol = await levels({ binary: 'cinder-volume' });
  assert.equal(vol.length, 1);
  assert.deepEqual(vol[0].levels, { jacket: 'DEBUG' });
  assert.notEqual((await levels({ binary: 'cinder-api' }))[0].levels.jacket, 'DEBUG');
  await refused(asAdmin('3.32', 'PUT', '/os-services/set-log', { level: 'loud' }), 400, 'Invalid input received: loud is not a valid log level.');
  await refused(
    asAdmin('3.32', 'PUT', '/os-services/set-log', { binary: 'nova-compute', level: 'INFO' }),
    400,
    "Invalid input for field/attribute binary. Value: nova-compute. 'nova-compute' is not one of ['cinder-scheduler', 'cinder-volume', 'cinder-backup', 'cinder-api', '', '*']",
  );
  // A prefix that names no logger: nothing set, nothing listed.
  assert.deepEqual(
    (await levels({ prefix: 'oslo' })).map((x) => x.levels),
    all.map(() => ({})),
  );
  assert.equal((await asAdmin('3.32', 'PUT', '/os-services/set-log', { binary: 'cinder-volume', level: 'WARNING' })).status, 202);
  assert.deepEqual((await levels({ binary: 'cinder-volume', server: 'jacket@azure' }))[0].levels, { jacket: 'WARNING' });
});
