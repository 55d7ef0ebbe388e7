// Servers: the pure parts — Nova's states and status mapping, the list order key, Azure's password and
// username rules, the generated password, computer names and the ARM request bodies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../shared/config';
import { checkInstanceState, orderKey, statusOf, vmStatesForStatus, POWER, type ServerRecord } from '../../shared/compute/servers/model';
import { adminUsername, checkAdminPass, generatePassword, passwordProblem, usernameProblem } from '../../shared/compute/servers/passwords';
import { computerName, nicBody, vmBody } from '../../shared/azure/vms';
import { driverContext } from '../../shared/azure/context';
import { azureFailure } from '../../shared/azure/errors';
import { seal, unseal } from '../../shared/work/seal';
import { createServerSchema, updateServerSchema } from '../../shared/compute/servers/schemas';
import { validateBody } from '../../shared/api/validation';
import { ApiError } from '../../shared/http/errors';

const cfg = loadConfig({ JACKET_PUBLIC_URL: 'https://jacket.example.com', JACKET_STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true', JACKET_TOKEN_KEYS: Buffer.alloc(32, 1).toString('base64') });

function server(over: Partial<ServerRecord> = {}): ServerRecord {
  return {
    id: '6f1c1a8e-0b8e-4c4b-9d52-3c5b2f7e9a10',
    project_id: 'p1',
    user_id: 'u1',
    name: 'web 1',
    reservation_id: 'r-abcdefgh',
    launch_index: 0,
    created_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-01-01T00:00:00Z',
    launched_at: null,
    vm_state: 'building',
    task_state: 'scheduling',
    power_state: POWER.NOSTATE,
    flavor: { id: '3', name: 'm1.medium', vcpus: 2, ram: 4096, disk: 40, ephemeral: 0, swap: 0, vm_size: 'Standard_B2s' },
    image_id: 'img',
    os_type: 'linux',
    key_name: null,
    metadata: {},
    security_groups: [],
    nics: [],
    accessIPv4: '',
    accessIPv6: '',
    availability_zone: 'nova',
    config_drive: '',
    disk_config: 'MANUAL',
    host: null,
    progress: 0,
    azure: { vm: '6f1c1a8e-0b8e-4c4b-9d52-3c5b2f7e9a10', os_disk: '6f1c1a8e-0b8e-4c4b-9d52-3c5b2f7e9a10', admin_username: 'azureuser' },
    flavor_id: '3',
    vcpus: 2,
    memory_mb: 4096,
    ...over,
  };
}

test("status follows Nova's state map; a status filter selects vm_states", () => {
  assert.equal(statusOf('building', 'scheduling'), 'BUILD');
  assert.equal(statusOf('active', null), 'ACTIVE');
  assert.equal(statusOf('active', 'deleting'), 'ACTIVE');
  assert.equal(statusOf('active', 'rebooting_hard'), 'HARD_REBOOT');
  assert.equal(statusOf('stopped', null), 'SHUTOFF');
  assert.equal(statusOf('error', null), 'ERROR');
  assert.deepEqual(vmStatesForStatus(['build']), ['building']);
  assert.deepEqual(vmStatesForStatus(['ERROR', 'ACTIVE']).sort(), ['active', 'error']);
  assert.deepEqual(vmStatesForStatus(['NOSUCH']), []);
});

test("check_instance_state answers 409 in Nova's words", () => {
  const s = server({ vm_state: 'active', task_state: 'deleting' });
  assert.doesNotThrow(() => checkInstanceState(s, 'delete', {}));
  assert.throws(
    () => checkInstanceState(s, 'reboot', { task: [null] }),
    (e: ApiError) => e.status === 409 && e.message === `Cannot 'reboot' instance ${s.id} while it is in task_state deleting`,
  );
  assert.throws(
    () => checkInstanceState(s, 'start', { vm: ['stopped'] }),
    (e: ApiError) => e.message === `Cannot 'start' instance ${s.id} while it is in vm_state active`,
  );
});

test("the order key sorts newest first, then by id descending (Nova's default sort)", () => {
  const a = orderKey('2026-01-01T00:00:01Z', '00000000-0000-0000-0000-000000000001');
  const b = orderKey('2026-01-01T00:00:00Z', 'ffffffff-0000-0000-0000-000000000000');
  const c = orderKey('2026-01-01T00:00:00Z', '00000000-0000-0000-0000-000000000002');
  assert.deepEqual([c, b, a].sort(), [a, b, c]);
});

test('Azure password rules: length by OS, 3 of 4 classes, the refused list; the message never holds the password', () => {
  assert.equal(passwordProblem('Ab1def', 'linux'), undefined);
  assert.match(passwordProblem('Ab1de', 'linux')!, /6 to 72/);
  assert.match(passwordProblem('Ab1defg', 'windows')!, /8 to 123/);
  assert.equal(passwordProblem('Ab1defgh', 'windows'), undefined);
  assert.match(passwordProblem('abcdefgh', 'linux')!, /3 of/);
  assert.equal(passwordProblem('abc-defg1', 'linux'), undefined);
  assert.match(passwordProblem('Password1', 'linux')!, /commonly used/);
  assert.match(passwordProblem('Ab1\x01def', 'linux')!, /control/);
  assert.match(passwordProblem('A1b' + 'x'.repeat(70), 'linux')!, /6 to 72/);
  assert.throws(
    () => checkAdminPass('secretpw', 'linux'),
    (e: ApiError) => e.status === 400 && !e.message.includes('secretpw'),
  );
});

test('generated passwords satisfy Azure for both OS types', () => {
  for (let i = 0; i < 200; i++) {
    const p = generatePassword();
    assert.equal(p.length, 12);
    assert.equal(passwordProblem(p, 'linux'), undefined, p);
    assert.equal(passwordProblem(p, 'windows'), undefined, p);
  }
});

test("admin username: the image's os_admin_user or azureuser, checked against Azure's rules", () => {
  assert.equal(adminUsername({}, 'linux'), 'azureuser');
  assert.equal(adminUsername({ os_admin_user: 'ubuntu' }, 'linux'), 'ubuntu');
  assert.throws(
    () => adminUsername({ os_admin_user: 'root' }, 'linux'),
    (e: ApiError) => e.status === 400 && /reserved/.test(e.message),
  );
  assert.match(usernameProblem('a'.repeat(21), 'windows')!, /1 to 20/);
  assert.match(usernameProblem('ops.', 'windows')!, /end with/);
  assert.equal(usernameProblem('ops', 'windows'), undefined);
});

test("computer names follow Nova's hostname rule within Azure's limits", () => {
  assert.equal(computerName('Web Server_1', 'linux', 'x'), 'web-server-1');
  assert.equal(computerName('a-very-long-windows-name', 'windows', 'x'), 'a-very-long-win');
  assert.equal(computerName('12345', 'windows', '6f1c1a8e-0b8e'), 'vm-6f1c1a8e0b8e');
  assert.equal(computerName('***', 'linux', 'abc-def'), 'vm-abcdef');
});

test('ARM bodies: names, tags, deleteOption=Delete, boot diagnostics, NSG and static IP on the NIC', () => {
  const s = server();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const vm = vmBody(driverContext(cfg), s, {
    os: { kind: 'image', imageReference: { publisher: 'P', offer: 'O', sku: 'S', version: 'latest' } },
    adminPassword: 'Ab1defgh',
    customData: 'aGk=',
    nicIds: ['/nic/1', '/nic/2'],
    azureZone: '2',
  }) as any;
  assert.deepEqual(vm.tags, { jacket: 'server', 'jacket-server-id': s.id, 'jacket-project-id': 'p1' });
  assert.equal(vm.storageProfile.osDisk.deleteOption, 'Delete');
  assert.equal(vm.storageProfile.osDisk.name, s.id);
  assert.deepEqual(
    vm.networkProfile.networkInterfaces.map((n: { primary: boolean; deleteOption: string }) => [n.primary, n.deleteOption]),
    [
      [true, 'Delete'],
      [false, 'Delete'],
    ],
  );
  assert.deepEqual(vm.zones, ['2']);
  assert.equal(vm.osProfile.customData, 'aGk=');
  assert.equal(vm.diagnosticsProfile.bootDiagnostics.enabled, true);
  assert.equal(vm.location, cfg.azure.location);
  // The NIC PUT is sent as ARM's wire format (the driver sends it raw: one request, no poll).
  const nic = nicBody(cfg.azure.location, s, { name: s.id, subnetId: '/subnets/x', nsgId: '/nsg/y', fixedIp: '10.0.0.9' });
  assert.equal(nic.properties.ipConfigurations[0].properties.privateIPAllocationMethod, 'Static');
  assert.equal(nic.properties.ipConfigurations[0].properties.privateIPAddress, '10.0.0.9');
  assert.deepEqual(nic.properties.networkSecurityGroup, { id: '/nsg/y' });
  // Compute's 409 OperationNotAllowed is a refusal (given up at once) unless it carries TooManyRequests.
  assert.deepEqual(azureFailure({ statusCode: 409, code: 'Conflict', message: 'outer', details: { error: { code: 'OperationNotAllowed', message: 'inner' } } }), {
    kind: 'client',
    status: 409,
    code: 'OperationNotAllowed',
    message: 'inner',
  });
  assert.equal(azureFailure({ statusCode: 409, details: { error: { code: 'OperationNotAllowed', message: 'x', details: [{ code: 'TooManyRequests' }] } } }).kind, 'conflict');
  assert.equal(azureFailure({ statusCode: 409, details: { error: { code: 'Conflict', message: 'busy' } } }).kind, 'conflict');
  // DiskRP's refusal to resize a disk its VM holds where it cannot expand without downtime: given up too.
  const resize = { code: 'Conflict', message: 'Disk resizing is allowed only when creating a VM or when the VM is deallocated.' };
  assert.equal(azureFailure({ statusCode: 409, details: { error: resize } }).kind, 'client');
});

test("request schemas mirror Nova's 2.1 create and update", () => {
  const ok = { server: { name: 'a', flavorRef: 1, imageRef: '', min_count: '2', max_count: 3, return_reservation_id: 'True', networks: [{ uuid: 'x', fixed_ip: '10.0.0.5' }], metadata: { k: 'v' } } };
  assert.doesNotThrow(() => validateBody(createServerSchema, ok));
  const bad = (body: unknown) =>
    assert.throws(
      () => validateBody(createServerSchema, body),
      (e: ApiError) => e.status === 400,
    );
  bad({ server: { flavorRef: '1' } });
  bad({ server: { name: 'a', flavorRef: '1', min_count: 0 } });
  bad({ server: { name: 'a', flavorRef: '1', imageRef: 'not-a-uuid' } });
  bad({ server: { name: 'a', flavorRef: '1', networks: [{ fixed_ip: '999.1.1.1' }] } });
  bad({ server: { name: ' a', flavorRef: '1' } });
  bad({ server: { name: 'a', flavorRef: '1', user_data: 'not base64!' } });
  bad({ server: { name: 'a', flavorRef: '1', metadata: { k: 1 } } });
  assert.doesNotThrow(() => validateBody(updateServerSchema, { server: { name: 'b', accessIPv4: '1.2.3.4' } }));
  assert.throws(
    () => validateBody(updateServerSchema, { server: { flavorRef: '1' } }),
    (e: ApiError) => e.status === 400,
  );
});

test('the admin password travels sealed in a work item: AES-256-GCM, tamper-evident, readable only with the token key', () => {
  const sealed = seal(cfg, 'Az-pass-123');
  assert.ok(!sealed.includes('Az-pass-123') && !Buffer.from(sealed, 'base64').toString('utf8').includes('Az-pass-123'));
  assert.notEqual(seal(cfg, 'Az-pass-123'), sealed, 'a fresh IV each time');
  assert.equal(unseal(cfg, sealed), 'Az-pass-123');
  const b = Buffer.from(sealed, 'base64');
  b[b.length - 1] ^= 1;
  assert.throws(() => unseal(cfg, b.toString('base64')));
  const other = { ...cfg, auth: { ...cfg.auth, tokenKeys: [Buffer.alloc(32, 2)] } };
  assert.throws(() => unseal(other, sealed));
});
