// Compute microversions 2.85 (PUT os-volume_attachments updates delete_on_termination), 2.86 (flavor extra
// specs validated) and 2.89 (attachment_id and bdm_uuid on the volume attachments), each at the version
// before and at it, against the ARM emulator; bodies checked against Nova's response schema for the
// version (docs/microversions.md).
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startArmStack, waitFor, type ArmStack } from '../support/armStack';
import { assertNovaResponse } from '../support/oracle';
import { oneUser, imageId, networkId, type ProjectUser } from '../support/fixtures';
import { computeAdvertises, computeTest } from '../support/advertised';
import { refused } from '../support/nova';

let arm: ArmStack;
let alice: ProjectUser;
let tAlice: string;
let tAdmin: string;
let server: string;
/** The blank volume mapped at boot (delete_on_termination false). */
let bootVol: string;
/** A volume attached through the API at 2.79 (delete_on_termination false). */
let vol: string;
const UNKNOWN = '00000000-0000-4000-8000-000000000000';

const call = (token: () => string) => (mv: string) => (method: string, p: string, body?: unknown) =>
  arm.stack.http(method, `/compute/v2.1${p}`, { token: token(), body, headers: { 'OpenStack-API-Version': `compute ${mv}` } });
const nova = call(() => tAlice);
const admin = call(() => tAdmin);
const cinder = (method: string, p: string, body?: unknown) => arm.stack.http(method, `/volume/v3/${alice.projectId}${p}`, { token: tAlice, body });
const volumeStatus = async (id: string) => (await cinder('GET', `/volumes/${id}`)).body.volume?.status as string | undefined;
const va = () => `/servers/${server}/os-volume_attachments`;

before(async () => {
  arm = await startArmStack({ asyncDelayMs: 0 });
  if (!computeAdvertises('2.85')) return;
  const u = await oneUser(arm.stack, 'mv285-a', 'mv285alice');
  alice = u.user;
  tAlice = u.token;
  tAdmin = u.tAdmin;
  const [image, net] = await Promise.all([imageId(arm.stack, tAlice), networkId(arm.stack, tAlice)]);
  const r = await nova('2.79')('POST', '/servers', {
    server: {
      name: 'mv285',
      flavorRef: '3',
      imageRef: image,
      networks: [{ uuid: net }],
      block_device_mapping_v2: [{ source_type: 'blank', destination_type: 'volume', volume_size: 1 }],
    },
  });
  assert.equal(r.status, 202, r.text);
  server = r.body.server.id;
  const v = await cinder('POST', '/volumes', { volume: { size: 1, name: 'mv285' } });
  assert.equal(v.status, 202, v.text);
  vol = v.body.volume.id;
  await waitFor('mv285 ACTIVE', async () => ((await nova('2.79')('GET', `/servers/${server}`)).body.server.status === 'ACTIVE' ? true : undefined), 120000);
  await waitFor('mv285 volume available', async () => ((await volumeStatus(vol)) === 'available' ? true : undefined), 60000);
  bootVol = ((await nova('2.79')('GET', va())).body.volumeAttachments as { volumeId: string }[])[0].volumeId;
  const at = await nova('2.79')('POST', va(), { volumeAttachment: { volumeId: vol } });
  assert.equal(at.status, 200, at.text);
  await waitFor('mv285 volume in-use', async () => ((await volumeStatus(vol)) === 'in-use' ? true : undefined), 60000);
});
after(() => arm?.stop());

const deleteOnTermination = async (volumeId: string) => (await nova('2.79')('GET', `${va()}/${volumeId}`)).body.volumeAttachment.delete_on_termination as boolean;

computeTest('2.85')('2.85: PUT on the attached volume itself changes delete_on_termination (member, 202, no body); swapping stays the admin’s', async () => {
  const put = (mv: string, body: Record<string, unknown>, volumeId = vol, as = nova) => as(mv)('PUT', `${va()}/${volumeId}`, { volumeAttachment: { volumeId, ...body } });
  // 2.84: every PUT is a swap: the policy is :swap (admin or service), and the schema has volumeId only.
  await refused(put('2.84', {}), 403, "Policy doesn't allow os_compute_api:os-volumes-attachments:swap to be performed.");
  await refused(put('2.84', { delete_on_termination: true }, vol, admin), 400, /Additional properties are not allowed \('delete_on_termination' was unexpected\)/);
  assert.equal(await deleteOnTermination(vol), false);

  // 2.85: the update's policy (project member) when volumeId is the volume in the path.
  const ok = await put('2.85', { delete_on_termination: 'yes' });
  assert.equal(ok.status, 202, ok.text);
  assert.equal(ok.text, '');
  assert.equal(await deleteOnTermination(vol), true);
  const show = await nova('2.85')('GET', `/servers/${server}`);
  assert.deepEqual(
    show.body.server['os-extended-volumes:volumes_attached'].find((x: { id: string }) => x.id === vol),
    { id: vol, delete_on_termination: true },
    'the server view reads the same mapping',
  );
  // What the show answer carries may be sent back unchanged; delete_on_termination may be left out (nothing changes).
  const same = await put('2.85', { id: vol, serverId: server, device: '/dev/sdc' });
  assert.equal(same.status, 202, same.text);
  assert.equal(await deleteOnTermination(vol), true);
  // The others may not change.
  await refused(put('2.85', { id: bootVol, delete_on_termination: false }), 400, 'The id property is not mutable');
  await refused(put('2.85', { serverId: UNKNOWN, delete_on_termination: false }), 400, 'The serverId property is not mutable');
  await refused(put('2.85', { device: '/dev/sdz', delete_on_termination: false }), 400, 'The device property is not mutable');
  await refused(put('2.85', { tag: 'db', delete_on_termination: false }), 400, 'The tag property is not mutable');
  await refused(put('2.85', { delete_on_termination: 'maybe' }), 400, /Invalid input for field\/attribute delete_on_termination/);
  await refused(put('2.85', { bogus: 1 }), 400, /Additional properties are not allowed \('bogus' was unexpected\)/);
  assert.equal(await deleteOnTermination(vol), true, 'nothing refused changed it');
  // Not attached to the server: Nova's VolumeBDMNotFound. An unknown server: 404.
  await refused(put('2.85', { delete_on_termination: false }, UNKNOWN), 404, `No volume Block Device Mapping with id ${UNKNOWN}.`);
  await refused(
    nova('2.85')('PUT', `/servers/${UNKNOWN}/os-volume_attachments/${vol}`, { volumeAttachment: { volumeId: vol, delete_on_termination: false } }),
    404,
    `Instance ${UNKNOWN} could not be found.`,
  );
  // Another volume: a swap, the swap's policy for a member.
  await refused(put('2.85', { volumeId: bootVol, delete_on_termination: false }), 403, "Policy doesn't allow os_compute_api:os-volumes-attachments:swap to be performed.");
  // An admin's swap with delete_on_termination: Nova saves the mapping first, then the swap's checks answer.
  await refused(put('2.85', { volumeId: UNKNOWN, delete_on_termination: false }, vol, admin), 400, `Volume ${UNKNOWN} could not be found.`);
  assert.equal(await deleteOnTermination(vol), false, 'written before the swap refused');
  // The boot volume's too (the mapping made at boot).
  const boot = await put('2.85', { delete_on_termination: true }, bootVol);
  assert.equal(boot.status, 202, boot.text);
  assert.equal(await deleteOnTermination(bootVol), true);
});

computeTest('2.86')('2.86: POST and PUT os-extra_specs check the specs of the namespaces Nova knows; others pass; below 2.86 nothing is checked', async () => {
  const f = await admin('2.86')('POST', '/flavors', { flavor: { name: 'mv286', ram: 1024, vcpus: 1, disk: 10, id: 'mv286' } });
  assert.equal(f.status, 200, f.text);
  const specs = '/flavors/mv286/os-extra_specs';
  const current = async () => (await admin('2.86')('GET', specs)).body.extra_specs as Record<string, string>;
  const post = (mv: string, extra_specs: Record<string, unknown>) => admin(mv)('POST', specs, { extra_specs });
  const put = (mv: string, key: string, value: unknown) => admin(mv)('PUT', `${specs}/${key}`, { [key]: value });

  // 2.85: anything the schema takes is stored.
  const old = await post('2.85', { 'hw:cpu_policy': 'bogus', 'hw:nope': 'x', 'hw:numa_nodes': 0 });
  assert.equal(old.status, 200, old.text);
  assertNovaResponse('flavors_extraspecs', 'FlavorExtraSpecsController', 'create', '2.85', old.body);
  assert.equal((await put('2.85', 'trait:NOT_A_TRAIT', 'sometimes')).status, 200);
  assert.deepEqual(await current(), { 'hw:cpu_policy': 'bogus', 'hw:nope': 'x', 'hw:numa_nodes': '0', 'trait:NOT_A_TRAIT': 'sometimes' });

  // 2.86: a known spec's value, in Nova's words (nothing of a refused body is stored).
  const before = await current();
  await refused(post('2.86', { 'hw:cpu_policy': 'dedicated', 'hw:cpu_thread_policy': 'sometimes' }), 400, "Validation failed; 'sometimes' is not one of: prefer, isolate, require.");
  await refused(post('2.86', { 'hw:numa_nodes': 0 }), 400, "Validation failed; '0' is less than the min value of '1'.");
  await refused(post('2.86', { 'hw:redirected_usb_ports': '16' }), 400, "Validation failed; '16' is greater than the max value of '15'.");
  await refused(post('2.86', { 'hw:cpu_cores': 'two' }), 400, "Validation failed; 'two' is not a valid integer value.");
  await refused(post('2.86', { 'hw:boot_menu': 'maybe' }), 400, "Validation failed; 'maybe' is not a valid boolean-like value.");
  await refused(post('2.86', { 'hw:numa_cpus.0': '0-3,x' }), 400, String.raw`Validation failed; '0-3,x' is not of the format '\^?\d+((-\d+)?(,\^?\d+(-\d+)?)?)*'.`);
  await refused(post('2.86', { group_policy: 'strict' }), 400, "Validation failed; 'strict' is not one of: isolate, none.");
  // An unknown name in a known namespace (trait{group} and resources{group} included).
  await refused(post('2.86', { 'hw:nope': 'x' }), 400, "Validation failed; extra spec 'hw:nope' does not appear to be a valid extra spec.");
  await refused(put('2.86', 'trait1:NOT_A_TRAIT', 'required'), 400, "Validation failed; extra spec 'trait1:NOT_A_TRAIT' does not appear to be a valid extra spec.");
  await refused(put('2.86', 'resources:NOT_A_CLASS', '1'), 400, "Validation failed; extra spec 'resources:NOT_A_CLASS' does not appear to be a valid extra spec.");
  // The value is checked before the key matches the URL (and before the flavor is looked up).
  await refused(put('2.86', 'hw:cpu_policy', 'bogus'), 400, "Validation failed; 'bogus' is not one of: dedicated, shared, mixed.");
  await refused(admin('2.86')('PUT', `${specs}/other`, { 'hw:cpu_policy': 'bogus' }), 400, "Validation failed; 'bogus' is not one of: dedicated, shared, mixed.");
  await refused(admin('2.86')('POST', '/flavors/nope/os-extra_specs', { extra_specs: { 'hw:cpu_policy': 'bogus' } }), 400, "Validation failed; 'bogus' is not one of: dedicated, shared, mixed.");
  await refused(admin('2.86')('POST', '/flavors/nope/os-extra_specs', { extra_specs: { 'hw:cpu_policy': 'shared' } }), 404, 'Flavor nope could not be found.');
  // A long near-miss of a pattern upstream nests quantifiers in is answered at once (Jacket runs an equivalent pattern without them).
  const t0 = Date.now();
  await refused(post('2.86', { 'hw:pmem': `${'a'.repeat(200)}!` }), 400, `Validation failed; '${'a'.repeat(200)}!' is not of the format '([a-zA-Z0-9_]+(,)?)+'.`);
  assert.ok(Date.now() - t0 < 5000);
  assert.deepEqual(await current(), before, 'nothing refused was stored');

  // Good values of known specs, and names outside Nova's namespaces (azure:vm_size is still checked against the region's sizes).
  const good = {
    'hw:cpu_policy': 'dedicated',
    'hw:numa_nodes': 2,
    'hw:numa_cpus.0': '0-1,^1',
    'hw:mem_page_size': '2MB',
    'hw_rng:allowed': 'True',
    'trait:HW_CPU_X86_AVX2': 'required',
    'trait_g1:CUSTOM_GOLD': 'forbidden',
    'resources:VCPU': '0',
    'resources1:CUSTOM_FPGA': 1,
    'capabilities:stats:foo': 'x',
    'aggregate_instance_extra_specs:ssd': 'true',
    'pci_passthrough:alias': 'a1:2, b:1',
    'os:secure_boot': 'required',
    'quota:cpu_quota': '-1',
    'powervm:proc_units': 'anything',
    'custom:anything': 'goes',
    nonamespace: 'x',
    'azure:vm_size': 'Standard_D2s_v3',
  };
  const ok = await post('2.86', good);
  assert.equal(ok.status, 200, ok.text);
  assertNovaResponse('flavors_extraspecs', 'FlavorExtraSpecsController', 'create', '2.86', ok.body);
  assert.deepEqual(ok.body, { extra_specs: good });
  const one = await put('2.86', 'hw:cpu_policy', 'mixed');
  assert.equal(one.status, 200, one.text);
  assertNovaResponse('flavors_extraspecs', 'FlavorExtraSpecsController', 'update', '2.86', one.body);
  const now = await current();
  assert.equal(now['hw:cpu_policy'], 'mixed');
  assert.equal(now['hw:numa_nodes'], '2');
  await refused(admin('2.86')('PUT', `${specs}/azure:vm_size`, { 'azure:vm_size': 'Standard_Imaginary_v9' }), 400, /Standard_Imaginary_v9/);
});

computeTest('2.89')('2.89: the attachments list and show carry attachment_id and bdm_uuid instead of id', async () => {
  const list88 = (await nova('2.88')('GET', va())).body;
  assertNovaResponse('volume_attachments', 'VolumeAttachmentController', 'index', '2.88', list88);
  assert.ok(list88.volumeAttachments.every((a: object) => 'id' in a && !('attachment_id' in a) && !('bdm_uuid' in a)));
  const show88 = (await nova('2.88')('GET', `${va()}/${vol}`)).body;
  assertNovaResponse('volume_attachments', 'VolumeAttachmentController', 'show', '2.88', show88);

  const list = await nova('2.89')('GET', va());
  assert.equal(list.status, 200, list.text);
  assertNovaResponse('volume_attachments', 'VolumeAttachmentController', 'index', '2.89', list.body);
  const items = list.body.volumeAttachments as { volumeId: string; attachment_id: string; bdm_uuid: string }[];
  assert.deepEqual(items.map((a) => a.volumeId).sort(), [bootVol, vol].sort());
  assert.ok(items.every((a) => !('id' in a)));
  // attachment_id is the Cinder attachment the volume shows (the boot-time one read from the volume, the attached one stored).
  for (const a of items) {
    const cv = (await cinder('GET', `/volumes/${a.volumeId}`)).body.volume;
    assert.deepEqual(
      cv.attachments.map((x: { attachment_id: string }) => x.attachment_id),
      [a.attachment_id],
    );
  }
  assert.notEqual(items[0].bdm_uuid, items[1].bdm_uuid);
  // Stable across reads, the show the same as the list.
  const again = (await nova('2.89')('GET', va())).body.volumeAttachments;
  assert.deepEqual(again, items);
  const one = await nova('2.89')('GET', `${va()}/${vol}`);
  assert.equal(one.status, 200, one.text);
  assertNovaResponse('volume_attachments', 'VolumeAttachmentController', 'show', '2.89', one.body);
  assert.deepEqual(
    one.body.volumeAttachment,
    items.find((a) => a.volumeId === vol),
  );
  await refused(nova('2.89')('GET', `${va()}/${UNKNOWN}`), 404, `Instance ${server} is not attached to volume ${UNKNOWN}`);

  // The attach answer keeps 2.79's shape at 2.89 (Nova never applied 2.89 to it); the new mapping gets its own ids.
  const v = await cinder('POST', '/volumes', { volume: { size: 1, name: 'mv289' } });
  assert.equal(v.status, 202, v.text);
  const third = v.body.volume.id as string;
  await waitFor('mv289 available', async () => ((await volumeStatus(third)) === 'available' ? true : undefined), 60000);
  const at = await nova('2.89')('POST', va(), { volumeAttachment: { volumeId: third, delete_on_termination: true } });
  assert.equal(at.status, 200, at.text);
  assertNovaResponse('volume_attachments', 'VolumeAttachmentController', 'create', '2.89', at.body);
  assert.equal(at.body.volumeAttachment.id, third);
  const shown = (await nova('2.89')('GET', `${va()}/${third}`)).body.volumeAttachment;
  assert.ok(!items.some((a) => a.bdm_uuid === shown.bdm_uuid));
  // While attaching the reserve's attachment is already there (Nova sets attachment_id as it makes the bdm).
  assert.match(shown.attachment_id, /^[0-9a-f-]{36}$/);
  await waitFor('mv289 in-use', async () => ((await volumeStatus(third)) === 'in-use' ? true : undefined), 60000);
  assert.equal((await cinder('GET', `/volumes/${third}`)).body.volume.attachments[0].attachment_id, shown.attachment_id);

  // The server delete honours what 2.85 set: the boot volume (true) and the third (true) go, the second (false) stays.
  assert.equal((await nova('2.89')('DELETE', `/servers/${server}`)).status, 204);
  await waitFor('the boot volume deleted', async () => ((await cinder('GET', `/volumes/${bootVol}`)).status === 404 ? true : undefined), 120000);
  await waitFor('mv289 deleted', async () => ((await cinder('GET', `/volumes/${third}`)).status === 404 ? true : undefined), 120000);
  await waitFor('mv285 released', async () => ((await volumeStatus(vol)) === 'available' ? true : undefined), 60000);
});
