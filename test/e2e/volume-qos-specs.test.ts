// Cinder's QoS specs end to end: `openstack volume qos create/list/show/set/unset/associate/
// disassociate/delete` and HTTP against the app, bodies checked against Cinder's samples; the
// association seen as the volume type's qos_specs_id; admin-only policies; refusals changing nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Stack } from '../support/stack';
import { startArmStack } from '../support/armStack';
import { tokenProjectId, type ProjectUser } from '../support/fixtures';
import { assertCinderShape } from '../support/cinderShapes';

let stack: Stack;
let arm: Awaited<ReturnType<typeof startArmStack>>;
let close: () => void;
let carol: ProjectUser;
let tC: string, tAdmin: string, adminProject: string;

before(async () => {
  const s = await startArmStack({ asyncDelayMs: 50 });
  arm = s;
  stack = s.stack;
  close = () => s.control.close();
  carol = await stack.makeProjectUser('qos-c', 'qoscarol');
  [tC, tAdmin] = await Promise.all([stack.token(carol), stack.token()]);
  adminProject = await tokenProjectId(stack, tAdmin);
});
after(async () => {
  close?.();
  await stack?.stop();
});

const asAdmin = (method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${adminProject}${p}`, { token: tAdmin, body });
const asCarol = (method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${carol.projectId}${p}`, { token: tC, body });
const bad = (message: string) => ({ badRequest: { code: 400, message } });
const missing = (message: string) => ({ itemNotFound: { code: 404, message } });

test('openstack volume qos create/list/show/set/unset/associate/disassociate/delete', async () => {
  const q = await stack.oscJson<Record<string, any>>(['volume', 'qos', 'create', '--consumer', 'front-end', '--property', 'total_iops_sec=500', '--property', 'total_bytes_sec=1024000', 'gold']);
  assert.equal(q.name, 'gold');
  assert.equal(q.consumer, 'front-end');
  const id = q.id as string;
  const shown = await asAdmin('GET', `/qos-specs/${id}`);
  assert.equal(shown.status, 200, shown.text);
  assertCinderShape('qos/qos-show-response.json', shown.body, { freeMaps: ['specs'] });
  assert.deepEqual(shown.body.qos_specs, { id, name: 'gold', consumer: 'front-end', specs: { total_iops_sec: '500', total_bytes_sec: '1024000' } });
  const listed = await asAdmin('GET', '/qos-specs');
  assertCinderShape('qos/qos-list-response.json', listed.body, { freeMaps: ['specs'] });
  assert.deepEqual(
    listed.body.qos_specs.map((x: { id: string }) => x.id),
    [id],
  );
  // Names are unique (409), the consumer one of Cinder's three.
  const dup = await asAdmin('POST', '/qos-specs', { qos_specs: { name: 'gold' } });
  assert.equal(dup.status, 409, dup.text);
  assert.equal(dup.body.conflictingRequest.message, 'QoS Specs gold already exists.');
  const badConsumer = await asAdmin('POST', '/qos-specs', { qos_specs: { name: 'x', consumer: 'middle' } });
  assert.equal(badConsumer.status, 400, badConsumer.text);
  assert.match(badConsumer.body.badRequest.message, /^Invalid qos specs: Valid consumer of QoS specs are/);
  assert.equal((await asAdmin('POST', '/qos-specs', { qos_specs: { consumer: 'both' } })).status, 400);
  assert.equal((await asAdmin('GET', '/qos-specs')).body.qos_specs.length, 1);

  // Members: admin-only policies.
  for (const [m, p, policy] of [
    ['GET', '/qos-specs', 'get_all'],
    ['POST', '/qos-specs', 'create'],
    ['GET', `/qos-specs/${id}`, 'get'],
    ['DELETE', `/qos-specs/${id}`, 'delete'],
    ['GET', `/qos-specs/${id}/associate?vol_type_id=x`, 'update'],
  ]) {
    const r = await asCarol(m, p, m === 'POST' ? { qos_specs: { name: 'm' } } : undefined);
    assert.equal(r.status, 403, `${m} ${p}: ${r.text}`);
    assert.deepEqual(r.body, { forbidden: { code: 403, message: `Policy doesn't allow volume_extension:qos_specs_manage:${policy} to be performed.` } });
  }

  // set / unset through the CLI; update answers the body it was given.
  await stack.oscOk(['volume', 'qos', 'set', '--property', 'read_iops_sec=100', 'gold']);
  const upd = await asAdmin('PUT', `/qos-specs/${id}`, { qos_specs: { consumer: 'both', write_iops_sec: '50' } });
  assert.equal(upd.status, 200, upd.text);
  assert.deepEqual(upd.body, { qos_specs: { consumer: 'both', write_iops_sec: '50' } });
  await stack.oscOk(['volume', 'qos', 'unset', '--property', 'read_iops_sec', 'gold']);
  const after1 = await stack.oscJson<Record<string, any>>(['volume', 'qos', 'show', 'gold']);
  assert.equal(after1.consumer, 'both');
  assert.deepEqual(after1.properties, { total_iops_sec: '500', total_bytes_sec: '1024000', write_iops_sec: '50' });
  const noKey = await asAdmin('PUT', `/qos-specs/${id}/delete_keys`, { keys: ['nope'] });
  assert.deepEqual(noKey.body, missing(`QoS spec ${id} has no spec with key nope.`));
  assert.equal((await asAdmin('PUT', `/qos-specs/${id}`, { qos_specs: { 'bad key!': '1' } })).status, 400);
  const unknown = randomUUID();
  assert.deepEqual((await asAdmin('GET', `/qos-specs/${unknown}`)).body, missing(`No such QoS spec ${unknown}.`));

  // Associate with a type: the type's qos_specs_id (admins' view), the associations list.
  const type = await stack.oscJson<Record<string, any>>(['volume', 'type', 'create', '--property', 'azure:sku=PremiumV2_LRS', 'fast']);
  await stack.oscOk(['volume', 'qos', 'associate', 'gold', 'fast']);
  assert.equal((await asAdmin('GET', `/types/${type.id}`)).body.volume_type.qos_specs_id, id);
  const assoc = await asAdmin('GET', `/qos-specs/${id}/associations`);
  assert.deepEqual(assoc.body, { qos_associations: [{ association_type: 'volume_type', name: 'fast', id: type.id }] });
  const shownCli = await stack.oscJson<Record<string, any>>(['volume', 'qos', 'show', 'gold']);
  assert.deepEqual(shownCli.associations, ['fast']);
  // Another spec cannot take the type; missing parameters and types answer Cinder's errors.
  const silver = (await asAdmin('POST', '/qos-specs', { qos_specs: { name: 'silver' } })).body.qos_specs.id as string;
  const taken = await asAdmin('GET', `/qos-specs/${silver}/associate?vol_type_id=${type.id}`);
  assert.deepEqual(taken.body, bad(`Invalid volume type: Type ${type.id} is already associated with another qos specs: ${id}`));
  assert.deepEqual((await asAdmin('GET', `/qos-specs/${silver}/associate`)).body, bad('Volume Type id must not be None.'));
  const noType = randomUUID();
  assert.deepEqual((await asAdmin('GET', `/qos-specs/${silver}/associate?vol_type_id=${noType}`)).body, missing(`Volume type ${noType} could not be found.`));
  // In use: delete refused without force.
  const inUse = await asAdmin('DELETE', `/qos-specs/${id}`);
  assert.deepEqual(inUse.body, bad('Qos specs still in use.'));
  assert.equal((await asAdmin('GET', `/qos-specs/${id}`)).status, 200);

  // disassociate (one type, then all) through the CLI.
  await stack.oscOk(['volume', 'qos', 'disassociate', '--volume-type', 'fast', 'gold']);
  assert.equal((await asAdmin('GET', `/types/${type.id}`)).body.volume_type.qos_specs_id, null);
  await stack.oscOk(['volume', 'qos', 'associate', 'gold', 'fast']);
  await stack.oscOk(['volume', 'qos', 'disassociate', '--all', 'gold']);
  assert.deepEqual((await asAdmin('GET', `/qos-specs/${id}/associations`)).body, { qos_associations: [] });

  // delete --force disassociates first; the name is free again.
  await stack.oscOk(['volume', 'qos', 'associate', 'gold', 'fast']);
  await stack.oscOk(['volume', 'qos', 'delete', '--force', 'gold']);
  assert.equal((await asAdmin('GET', `/qos-specs/${id}`)).status, 404);
  assert.equal((await asAdmin('GET', `/types/${type.id}`)).body.volume_type.qos_specs_id, null);
  assert.equal((await asAdmin('POST', '/qos-specs', { qos_specs: { name: 'gold' } })).status, 200);
  await stack.oscOk(['volume', 'qos', 'delete', 'silver']);
  const names = (await stack.oscJson<{ Name: string }[]>(['volume', 'qos', 'list'])).map((x) => x.Name);
  assert.deepEqual(names, ['gold']);
});

test("back-end QoS provisions a Premium SSD v2 disk's IOPS and MB/s at volume create; other SKUs and front-end QoS stay records", async () => {
  const perf = async (volumeId: string) => {
    const d = await arm.compute.disks.get('ops_resource_group', `volume-${volumeId}`);
    return [d.sku?.name, d.diskIopsReadWrite, d.diskMBpsReadWrite];
  };
  const available = async (id: string) => {
    for (let i = 0; i < 200; i++) {
      const v = (await asAdmin('GET', `/volumes/${id}`)).body.volume;
      if (v.status !== 'creating') return v.status as string;
      await new Promise((r) => setTimeout(r, 100));
    }
    return 'creating';
  };
  await stack.oscOk(['volume', 'qos', 'create', '--consumer', 'back-end', '--property', 'total_iops_sec=6000', '--property', 'total_bytes_sec=250000000', 'v2-fast']);
  await stack.oscOk(['volume', 'qos', 'create', '--consumer', 'front-end', '--property', 'total_iops_sec=9000', 'v2-front']);
  await stack.oscOk(['volume', 'type', 'create', '--property', 'azure:sku=PremiumV2_LRS', 'pv2-fast']);
  await stack.oscOk(['volume', 'type', 'create', '--property', 'azure:sku=PremiumV2_LRS', 'pv2-front']);
  await stack.oscOk(['volume', 'type', 'create', '--property', 'azure:sku=Premium_LRS', 'p1-fast']);
  await stack.oscOk(['volume', 'qos', 'associate', 'v2-fast', 'pv2-fast']);
  await stack.oscOk(['volume', 'qos', 'associate', 'v2-front', 'pv2-front']);
  await stack.oscOk(['volume', 'qos', 'associate', 'v2-fast', 'p1-fast']);
  const make = async (type: string) => {
    const r = await asAdmin('POST', '/volumes', { volume: { size: 10, volume_type: type } });
    assert.equal(r.status, 202, r.text);
    assert.equal(await available(r.body.volume.id), 'available');
    return r.body.volume.id as string;
  };
  assert.deepEqual(await perf(await make('pv2-fast')), ['PremiumV2_LRS', 6000, 250], 'total_iops_sec and total_bytes_sec (MB = 10^6 bytes)');
  assert.deepEqual(await perf(await make('pv2-front')), ['PremiumV2_LRS', 3000, 125], 'front-end QoS is the hypervisor throttle Azure has no place for: the baseline');
  const p1 = await perf(await make('p1-fast'));
  assert.equal(p1[0], 'Premium_LRS');
  assert.notEqual(p1[1], 6000, "a Premium SSD's performance follows its size");
  // Values Azure refuses (Premium SSD v2 takes at most 80,000 IOPS): the volume ends in error, as with a Cinder back end refusing its QoS.
  await stack.oscOk(['volume', 'qos', 'set', '--property', 'total_iops_sec=90000', 'v2-fast']);
  const r = await asAdmin('POST', '/volumes', { volume: { size: 10, volume_type: 'pv2-fast' } });
  assert.equal(await available(r.body.volume.id), 'error');
});
