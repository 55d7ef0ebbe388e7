// The power actions' pure parts: the stop operation chosen by JACKET_STOP_DEALLOCATES, the lock and
// state guard in Nova's order and words, and the hibernation flag in the VM body.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { loadConfig, ConfigError } from '../../shared/config';
import type { Services } from '../../shared/services';
import type { RequestContext } from '../../shared/http/router';
import type { AuthContext } from '../../shared/api/policy';
import type { ServerRecord } from '../../shared/compute/servers/model';
import { stopOp, guard } from '../../shared/compute/servers/work/power';
import { vmBody } from '../../shared/azure/vms';
import { driverContext } from '../../shared/azure/context';
import { ApiError } from '../../shared/http/errors';

const base = { JACKET_PUBLIC_URL: 'http://localhost:7071', JACKET_STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true', JACKET_TOKEN_KEYS: randomBytes(32).toString('base64') };

test('JACKET_STOP_DEALLOCATES: deallocate by default, power off when false, anything else refused', () => {
  assert.equal(stopOp({ config: loadConfig(base) } as Services), 'deallocate');
  assert.equal(stopOp({ config: loadConfig({ ...base, JACKET_STOP_DEALLOCATES: 'false' }) } as Services), 'powerOff');
  assert.throws(
    () => loadConfig({ ...base, JACKET_STOP_DEALLOCATES: 'maybe' }),
    (e: unknown) => e instanceof ConfigError && /JACKET_STOP_DEALLOCATES/.test((e as Error).message),
  );
});

const auth = (roles: string[]): AuthContext => ({
  userId: 'u',
  userName: 'u',
  userDomainId: 'default',
  projectId: 'p',
  roles,
  token: 't',
  auditIds: [],
  expiresAt: new Date(),
  issuedAt: new Date(),
  methods: ['password'],
});
const srv = (over: Partial<ServerRecord>) => ({ id: 'abc', vm_state: 'active', task_state: null, launched_at: '2026-01-01T00:00:00Z', host: 'azure-eastus', locked: false, ...over }) as ServerRecord;
const status = (f: () => void) => {
  try {
    f();
  } catch (e) {
    return [(e as ApiError).status, (e as ApiError).message];
  }
  return undefined;
};

test("the guard runs as Nova's decorators: lock, host, vm_state, task_state, launched_at", () => {
  const member = { auth: auth(['member', 'reader']) } as RequestContext;
  const admin = { auth: auth(['admin', 'member', 'reader']) } as RequestContext;
  const g = { method: 'stop', vm: ['active' as const], host: true };
  assert.deepEqual(
    status(() => guard(member, srv({ locked: true, vm_state: 'stopped' }), g)),
    [409, 'Instance abc is locked'],
  );
  assert.equal(
    status(() => guard(admin, srv({ locked: true }), g)),
    undefined,
  );
  assert.deepEqual(
    status(() => guard(member, srv({ host: null, vm_state: 'shelved_offloaded' }), g)),
    [409, 'Instance abc is not ready'],
  );
  assert.deepEqual(
    status(() => guard(member, srv({ vm_state: 'stopped' }), g)),
    [409, "Cannot 'stop' instance abc while it is in vm_state stopped"],
  );
  assert.deepEqual(
    status(() => guard(member, srv({ task_state: 'rebooting' }), g)),
    [409, "Cannot 'stop' instance abc while it is in task_state rebooting"],
  );
  assert.deepEqual(
    status(() => guard(member, srv({ launched_at: null }), g)),
    [409, "Cannot 'stop' instance abc while it is in launched_at None"],
  );
});

test('the VM body asks for hibernation only when the flavor allows it', () => {
  const cfg = loadConfig(base);
  const s = {
    id: 'abc',
    project_id: 'p',
    name: 'x',
    os_type: 'linux',
    flavor: { vm_size: 'Standard_B2s' },
    azure: { vm: 'abc', os_disk: 'abc', admin_username: 'azureuser' },
  } as unknown as ServerRecord;
  const spec = { os: { kind: 'image' as const, imageReference: { id: '/img' } }, adminPassword: 'Passw0rd!x', nicIds: ['/nic'] };
  assert.equal('additionalCapabilities' in vmBody(driverContext(cfg), s, spec), false);
  assert.deepEqual((vmBody(driverContext(cfg), s, { ...spec, hibernation: true }) as { additionalCapabilities?: unknown }).additionalCapabilities, { hibernationEnabled: true });
});
