// Compute microversions 2.87 (rescue of volume-backed servers), 2.91 (unshelve to a host, unpin the
// zone), 2.93 (rebuild of volume-backed servers), 2.95 (evacuate leaves the server stopped), 2.97 (server
// shares) and 2.99 (spice-direct consoles, console auth tokens), each at the version before and at it,
// against the ARM emulator; bodies checked against Nova's response schema for the version
// (docs/microversions.md says how Jacket honours each).
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { assertNovaResponse } from '../support/oracle';
import { oneUser, imageId, networkId, absentOnAzure } from '../support/fixtures';
import { computeAdvertises, computeTest } from '../support/advertised';
import { msg, refused } from '../support/nova';

let arm: ArmStack;
let tAlice: string;
let tAdmin: string;
let image: string;
let net: string;
/** Image-backed. */
let server: string;
/** Booted from a volume made from the image. */
let bfv: string;
let host: string;
let project: string;
let rootVolume: string;
const BARE_400 = 'The server could not comply with the request since it is either malformed or otherwise incorrect.';

const call = (token: () => string, mv: string) => (method: string, p: string, body?: unknown) =>
  arm.stack.http(method, `/compute/v2.1${p}`, { token: token(), body, headers: { 'OpenStack-API-Version': `compute ${mv}` } });
const nova = (mv: string) => call(() => tAlice, mv);
const admin = (mv: string) => call(() => tAdmin, mv);
const cinder = (method: string, p: string, body?: unknown) => arm.stack.http(method, `/volume/v3/${project}${p}`, { token: tAlice, body });
const statusOf = async (id: string) => (await nova('2.1')('GET', `/servers/${id}`)).body.server.status as string;
const settle = (id: string, status: string) => waitFor(`${id} ${status}`, async () => ((await statusOf(id)) === status ? true : undefined), 120000);

before(async () => {
  arm = await startArmStack({ asyncDelayMs: 0 });
  if (!computeAdvertises('2.87')) return;
  const u = await oneUser(arm.stack, 'mv287-a', 'mv287alice');
  tAlice = u.token;
  tAdmin = u.tAdmin;
  project = u.user.projectId;
  [image, net] = await Promise.all([imageId(arm.stack, tAlice), networkId(arm.stack, tAlice)]);
  const a = await nova('2.1')('POST', '/servers', { server: { name: 'mv287', flavorRef: '3', imageRef: image, networks: [{ uuid: net }] } });
  assert.equal(a.status, 202, a.text);
  server = a.body.server.id;
  const b = await nova('2.1')('POST', '/servers', {
    server: {
      name: 'mv287-bfv',
      flavorRef: '3',
      networks: [{ uuid: net }],
      block_device_mapping_v2: [{ uuid: image, boot_index: 0, source_type: 'image', destination_type: 'volume', volume_size: 30, delete_on_termination: true }],
    },
  });
  assert.equal(b.status, 202, b.text);
  bfv = b.body.server.id;
  await Promise.all([settle(server, 'ACTIVE'), settle(bfv, 'ACTIVE')]);
  // The root volume in-use (Nova's rescue and rebuild check every volume's status first).
  rootVolume = (await nova('2.1')('GET', `/servers/${bfv}/os-volume_attachments`)).body.volumeAttachments[0].volumeId;
  await waitFor('root volume in-use', async () => ((await cinder('GET', `/volumes/${rootVolume}`)).body.volume.status === 'in-use' ? true : undefined), 60000);
  const services = (await admin('2.1')('GET', '/os-services?binary=nova-compute')).body.services as { host: string }[];
  host = services[0].host;
});
after(() => arm?.stop());

computeTest('2.87')('2.87: a volume-backed server is still not rescued: from 2.87 the host lacks COMPUTE_RESCUE_BFV', async () => {
  const act = `/servers/${bfv}/action`;
  const cannot = `Instance ${bfv} cannot be rescued: Cannot rescue a volume-backed instance`;
  const hostUnable = `Instance ${bfv} cannot be rescued: Host unable to rescue a volume-backed instance`;
  // An image with the rescue bus and device Nova needs to rescue a volume-backed server.
  const img = await arm.stack.http('POST', '/image/v2/images', {
    token: tAlice,
    body: { name: 'rescue-287', disk_format: 'vhd', container_format: 'bare', hw_rescue_bus: 'scsi', hw_rescue_device: 'disk' },
  });
  assert.equal(img.status, 201, img.text);
  const rescueImage = img.body.id as string;
  await refused(nova('2.86')('POST', act, { rescue: null }), 400, cannot);
  await refused(nova('2.86')('POST', act, { rescue: { rescue_image_ref: rescueImage } }), 400, cannot);
  // 2.87: without the image properties (the root volume's image has none) the same; with them, the host's refusal.
  await refused(nova('2.87')('POST', act, { rescue: null }), 400, cannot);
  await refused(nova('2.87')('POST', act, { rescue: { rescue_image_ref: rescueImage, adminPass: 'Passw0rd-287!' } }), 400, hostUnable);
  // A rescue image the caller cannot see, at either version (before the volume-backed check).
  const missing = '0b4f2a6c-7a4e-4c33-9b6e-1b2b3c4d5e6f';
  await refused(nova('2.87')('POST', act, { rescue: { rescue_image_ref: missing } }), 400, `Requested rescue image '${missing}' is not supported`);
  await refused(nova('2.86')('POST', act, { rescue: { rescue_image_ref: missing } }), 400, `Requested rescue image '${missing}' is not supported`);
  // An image-backed server passes Nova's checks and meets the driver's 501, as before.
  await refused(nova('2.87')('POST', `/servers/${server}/action`, { rescue: null }), 501, 'The requested functionality is not supported.');
  assert.equal(await statusOf(bfv), 'ACTIVE', 'nothing changed');
});

computeTest('2.93')('2.93: a volume-backed server is rebuilt: its root volume gets a new disk made from the image', async () => {
  const act = `/servers/${bfv}/action`;
  const RG = 'ops_resource_group';
  await refused(nova('2.92')('POST', act, { rebuild: { imageRef: image } }), 400, `Image ${image} is unacceptable: Unable to rebuild with a different image for a volume-backed server.`);
  assert.equal((await cinder('GET', `/volumes/${rootVolume}`)).body.volume.status, 'in-use', 'nothing changed');
  const oldDisk = (await arm.compute.virtualMachines.get(RG, bfv)).storageProfile?.osDisk?.name;
  assert.equal(oldDisk, `volume-${rootVolume}`);
  const r = await nova('2.93')('POST', act, { rebuild: { imageRef: image, name: 'mv293-rebuilt', adminPass: 'Rebuilt-293!pass' } });
  assert.equal(r.status, 202, r.text);
  assertNovaResponse('servers', 'ServersController', '_rebuild', '2.93', r.body);
  assert.equal(r.body.server.image, '', 'still volume-backed (no image_ref)');
  assert.equal(r.body.server.adminPass, 'Rebuilt-293!pass');
  await settle(bfv, 'ACTIVE');
  // The VM runs on the volume's new disk; the volume keeps its id and attachment, in-use with the image's metadata.
  const os = (await arm.compute.virtualMachines.get(RG, bfv)).storageProfile?.osDisk;
  assert.match(os?.name ?? '', new RegExp(`^volume-${rootVolume}-[0-9a-f]{8}$`));
  const vol = await waitFor(
    'root volume in-use',
    async () => {
      const v = (await cinder('GET', `/volumes/${rootVolume}`)).body.volume;
      return v.status === 'in-use' ? v : undefined;
    },
    60000,
  );
  assert.equal(vol.volume_image_metadata.image_id, image);
  assert.equal(vol.attachments[0].server_id, bfv);
  const disk = await arm.compute.disks.get(RG, os!.name!);
  assert.equal(disk.diskSizeGB, 30);
  assert.equal(disk.tags?.['jacket-volume-id'], rootVolume);
  await waitFor('old disk deleted', async () => ((await absentOnAzure(arm.compute.disks.get(RG, oldDisk!))) ? true : undefined), 60000);
  const shown = (await nova('2.93')('GET', `/servers/${bfv}`)).body.server;
  assert.equal(shown.name, 'mv293-rebuilt');
  assert.equal(shown.image, '');
  const attached = (await nova('2.93')('GET', `/servers/${bfv}/os-volume_attachments`)).body.volumeAttachments as { volumeId: string }[];
  assert.deepEqual(
    attached.map((a) => a.volumeId),
    [rootVolume],
  );
});

computeTest('2.91')('2.91: unshelve to a host (admins) and unpin the availability zone', async () => {
  const act = `/servers/${server}/action`;
  const shelve = async () => {
    assert.equal((await nova('2.91')('POST', act, { shelve: null })).status, 202);
    await settle(server, 'SHELVED_OFFLOADED');
  };
  // 2.90: neither host nor a null zone.
  await refused(nova('2.90')('POST', act, { unshelve: { availability_zone: 'nova', host } }), 400, /Additional properties are not allowed \('host' was unexpected\)/);
  const nullAz = await nova('2.90')('POST', act, { unshelve: { availability_zone: null } });
  assert.equal(nullAz.status, 400, nullAz.text);
  // 2.91: the state checks come first (ACTIVE is not shelved).
  await refused(admin('2.91')('POST', act, { unshelve: { host } }), 409, `Cannot 'unshelve' instance ${server} while it is in vm_state active`);
  await refused(admin('2.91')('POST', act, { unshelve: { host: 7 } }), 400, /7 is not of type 'string'/);
  await shelve();
  await refused(nova('2.91')('POST', act, { unshelve: { host } }), 403, "Policy doesn't allow os_compute_api:os-shelve:unshelve_to_host to be performed.");
  await refused(admin('2.91')('POST', act, { unshelve: { host: 'elsewhere' } }), 400, 'Compute host elsewhere could not be found.');
  await refused(admin('2.91')('POST', act, { unshelve: { availability_zone: 'nowhere', host } }), 400, 'The requested availability zone is not available');
  // The empty zone is no zone to validate, but the host is not in it.
  await refused(admin('2.91')('POST', act, { unshelve: { availability_zone: '', host } }), 409, `Host "${host}" is not in the availability zone "".`);
  assert.equal(await statusOf(server), 'SHELVED_OFFLOADED', 'nothing changed');
  // A member pins the server to the empty zone (no host named: nothing to contradict it); unshelved.
  assert.equal((await nova('2.91')('POST', act, { unshelve: { availability_zone: '' } })).status, 202);
  await settle(server, 'ACTIVE');
  await shelve();
  // The pin is kept: the host alone now contradicts it.
  await refused(admin('2.91')('POST', act, { unshelve: { host } }), 409, `Host "${host}" is not in the availability zone "".`);
  // Unpinned and sent to the host in one request.
  assert.equal((await admin('2.91')('POST', act, { unshelve: { availability_zone: null, host } })).status, 202);
  await settle(server, 'ACTIVE');
  const shown = (await admin('2.91')('GET', `/servers/${server}`)).body.server;
  assert.equal(shown['OS-EXT-SRV-ATTR:host'], host);
  await shelve();
  // Unpinned: the host alone is taken now.
  assert.equal((await admin('2.91')('POST', act, { unshelve: { host } })).status, 202);
  await settle(server, 'ACTIVE');
  // Nova's schema admits an empty object: unshelve as null.
  await shelve();
  assert.equal((await nova('2.91')('POST', act, { unshelve: {} })).status, 202);
  await settle(server, 'ACTIVE');
});

computeTest('2.95')('2.95: evacuate would leave the server stopped; with the compute host up it is refused as before', async () => {
  const act = `/servers/${server}/action`;
  for (const mv of ['2.94', '2.95']) {
    await refused(admin(mv)('POST', act, { evacuate: {} }), 400, `Compute service of ${host} is still in use.`);
    const forced = await admin(mv)('POST', act, { evacuate: { force: true } });
    assert.equal(forced.status, 400, forced.text);
    assert.match(msg(forced.body), /Additional properties are not allowed \('force' was unexpected\)/);
  }
  assert.equal(await statusOf(server), 'ACTIVE');
});

computeTest('2.97')('2.97: server shares: none listed, none found, create refused by the host (no virtiofs)', async () => {
  const p = `/servers/${server}/shares`;
  const share = '6a1f7c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b';
  // 2.96: not routed.
  for (const [m, path] of [
    ['GET', p],
    ['POST', p],
    ['GET', `${p}/${share}`],
    ['DELETE', `${p}/${share}`],
  ]) {
    const r = await nova('2.96')(m, path, m === 'POST' ? { share: { share_id: share } } : undefined);
    assert.equal(r.status, 404, `${m} ${path}: ${r.text}`);
  }
  const list = await nova('2.97')('GET', p);
  assert.equal(list.status, 200, list.text);
  assertNovaResponse('server_shares', 'ServerSharesController', 'index', '2.97', list.body);
  assert.deepEqual(list.body, { shares: [] });
  await refused(nova('2.97')('GET', `${p}?limit=1`), 400, /Additional properties are not allowed \('limit' was unexpected\)/);
  await refused(nova('2.97')('GET', `${p}/${share}`), 404, `Share ${share} could not be found.`);
  await refused(nova('2.97')('GET', `/servers/${share}/shares`), 404, `Instance ${share} has no mapping to a cell.`);
  // Create: the schema, then the server must be stopped, then the host's traits.
  const bad = await nova('2.97')('POST', p, { share: { share_id: share, tag: 'no spaces' } });
  assert.equal(bad.status, 400, bad.text);
  await refused(nova('2.97')('POST', p, { share: { share_id: share } }), 409, `Cannot 'create share' instance ${server} while it is in vm_state active`);
  await refused(nova('2.97')('DELETE', `${p}/${share}`), 409, `Cannot 'delete share' instance ${server} while it is in vm_state active`);
  assert.equal((await nova('2.97')('POST', `/servers/${server}/action`, { 'os-stop': null })).status, 202);
  await settle(server, 'SHUTOFF');
  await refused(nova('2.97')('POST', p, { share: { share_id: share, tag: 'data-1' } }), 409, 'Feature not supported because either compute or instance are not configured correctly.');
  await refused(nova('2.97')('DELETE', `${p}/${share}`), 404, `Share ${share} could not be found.`);
  assert.deepEqual((await nova('2.97')('GET', p)).body, { shares: [] });
  assert.equal((await nova('2.97')('POST', `/servers/${server}/action`, { 'os-start': null })).status, 202);
  await settle(server, 'ACTIVE');
});

computeTest('2.99')('2.99: spice-direct consoles (501 as the others); console auth tokens: none was issued', async () => {
  const rc = `/servers/${server}/remote-consoles`;
  const spiceDirect = { remote_console: { protocol: 'spice', type: 'spice-direct' } };
  const old = await nova('2.98')('POST', rc, spiceDirect);
  assert.equal(old.status, 400, old.text);
  assert.match(msg(old.body), /'spice-direct' is not one of/);
  await refused(nova('2.99')('POST', rc, spiceDirect), 501, 'The requested functionality is not supported.');
  await refused(nova('2.99')('POST', rc, { remote_console: { protocol: 'vnc', type: 'spice-direct' } }), 400, 'Invalid console type spice-direct');
  await refused(nova('2.99')('POST', rc, { remote_console: { protocol: 'rdp', type: 'spice-direct' } }), 400, 'Unavailable console type rdp.');

  const tok = '/os-console-auth-tokens/5d6e7f80-1a2b-4c3d-9e8f-112233445566';
  // Below 2.31 a bare 400, before the policy.
  await refused(nova('2.30')('GET', tok), 400, BARE_400);
  await refused(admin('2.30')('GET', tok), 400, BARE_400);
  await refused(nova('2.31')('GET', tok), 403, "Policy doesn't allow os_compute_api:os-console-auth-tokens to be performed.");
  await refused(admin('2.31')('GET', tok), 404, 'Token not found');
  await refused(admin('2.98')('GET', `${tok}?any=thing`), 404, 'Token not found');
  await refused(admin('2.99')('GET', tok), 404, 'Token not found');
  await refused(admin('2.99')('GET', '/os-console-auth-tokens/not-a-token'), 404, 'Token not found');
  // 2.99: the query is strict, checked before the policy.
  await refused(admin('2.99')('GET', `${tok}?any=thing`), 400, /Additional properties are not allowed \('any' was unexpected\)/);
  await refused(nova('2.99')('GET', `${tok}?any=thing`), 400, /Additional properties are not allowed \('any' was unexpected\)/);
});
