// The policy files and the route table: every route names a policy from its service's file, names are
// unique, the defaults of the important names are upstream's, and the rules mean what upstream's do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { routes } from '../../shared/routes';
import type { RequestContext } from '../../shared/http/router';
import { POLICY_FILES, NO_POLICY, allowed, effectiveRoles, ruleOf, satisfies, actionPolicy, type AuthContext, type PolicyName } from '../../shared/api/policy';
import { IMAGE_PROXY_POLICIES, FLAVOR_ACTION_POLICIES, AGGREGATE_ACTION_POLICIES } from '../../shared/compute/policy';
import { VOLUME_ACTION_POLICIES, SNAPSHOT_ACTION_POLICIES, BACKUP_ACTION_POLICIES } from '../../shared/volume/policy';
import { registeredActions, serverActionPolicy } from '../../shared/compute/servers/actions/registry';

/** The names a route of `service` may declare: its own file, plus Glance's for Nova's image proxy. */
function namesFor(service: string): Set<string> {
  const own = Object.keys(POLICY_FILES[service as keyof typeof POLICY_FILES] ?? {});
  const extra = service === 'compute' ? [...IMAGE_PROXY_POLICIES] : [];
  return new Set([...own, ...extra, ...Object.keys(NO_POLICY)]);
}

test('every route in the route table names a policy from its service file', () => {
  const bad: string[] = [];
  for (const r of routes) {
    if (typeof r.policy === 'function') continue;
    if (!namesFor(r.service).has(r.policy)) bad.push(`${r.name}: ${r.policy}`);
  }
  assert.deepEqual(bad, []);
  // Public routes are the version documents and token issue only.
  assert.deepEqual(
    routes
      .filter((r) => r.policy === 'public')
      .map((r) => r.name)
      .sort(),
    [
      'compute-version-v21',
      'compute-versions',
      'identity-token-issue',
      'identity-version-v3',
      'identity-versions',
      'image-versions',
      'image-versions-root',
      'image-versions-v2',
      'network-versions',
      'placement-root',
      'root-versions',
      'volume-version-v3',
      'volume-versions',
    ],
  );
  // Routes upstream does not police at all (docs/api-framework.md lists them): adding one means documenting it.
  assert.deepEqual(
    routes
      .filter((r) => r.policy === 'authenticated')
      .map((r) => r.name)
      .sort(),
    [
      'compute-fixed-ips-action',
      'compute-fixed-ips-show',
      'compute-flavors-detail',
      'compute-flavors-list',
      'compute-flavors-show',
      'compute-server-virtual-interfaces',
      'image-schemas-image',
      'image-schemas-images',
      'image-schemas-metadefs-namespace',
      'image-schemas-metadefs-namespaces',
      'network-extensions-list',
      'network-extensions-show',
      'network-v20',
      'volume-attachments-action',
      'volume-attachments-create',
      'volume-attachments-delete',
      'volume-attachments-detail',
      'volume-attachments-list',
      'volume-attachments-show',
      'volume-attachments-update',
      'volume-availability-zones',
      'volume-extensions-list',
      'volume-extensions-show',
      'volume-resource-filters-list',
    ],
  );
});

test("action routes name each action's own policy from the service file", () => {
  const actionRoutes = routes
    .filter((r) => typeof r.policy === 'function')
    .map((r) => r.name)
    .sort();
  assert.deepEqual(actionRoutes, [
    'compute-aggregates-action',
    'compute-console-auth-tokens-show',
    'compute-flavor-action',
    'compute-servers-action',
    'compute-volume-attachments-update',
    'compute-volumes-boot-action',
    'volume-backups-action',
    'volume-backups-update',
    'volume-clusters-detail',
    'volume-clusters-disable',
    'volume-clusters-enable',
    'volume-clusters-list',
    'volume-clusters-show',
    'volume-default-types-list',
    'volume-default-types-set',
    'volume-default-types-show',
    'volume-default-types-unset',
    'volume-group-snapshots-action',
    'volume-group-snapshots-create',
    'volume-group-snapshots-delete',
    'volume-group-snapshots-detail',
    'volume-group-snapshots-list',
    'volume-group-snapshots-show',
    'volume-group-specs-create',
    'volume-group-specs-delete',
    'volume-group-specs-list',
    'volume-group-specs-show',
    'volume-group-specs-update',
    'volume-group-types-create',
    'volume-group-types-delete',
    'volume-group-types-list',
    'volume-group-types-show',
    'volume-group-types-update',
    'volume-groups-action',
    'volume-groups-collection-action',
    'volume-groups-create',
    'volume-groups-detail',
    'volume-groups-list',
    'volume-groups-show',
    'volume-groups-update',
    'volume-manageable-snapshots-create',
    'volume-manageable-snapshots-detail',
    'volume-manageable-snapshots-list',
    'volume-manageable-volumes-create',
    'volume-manageable-volumes-detail',
    'volume-manageable-volumes-list',
    'volume-messages-delete',
    'volume-messages-list',
    'volume-messages-show',
    'volume-services-failover_host',
    'volume-services-freeze',
    'volume-services-get-log',
    'volume-services-set-log',
    'volume-services-thaw',
    'volume-snapshots-action',
    'volume-volume-action',
    'volume-volumes-summary',
    'volume-workers-cleanup',
  ]);
  const compute = namesFor('compute');
  const actions = registeredActions();
  assert.ok(actions.length >= 30, `only ${actions.length} server actions registered`);
  for (const a of actions) {
    const name = serverActionPolicy({ [a]: null });
    assert.ok(compute.has(name) && name !== 'authenticated', `${a} -> ${name}`);
  }
  assert.equal(serverActionPolicy({ reboot: { type: 'SOFT' } }), 'os_compute_api:servers:reboot');
  assert.equal(serverActionPolicy({ 'os-resetState': { state: 'error' } }), 'os_compute_api:os-admin-actions:reset_state');
  // An unknown action only needs a token (its handler answers 400).
  assert.equal(serverActionPolicy({ noSuchAction: {} }), 'authenticated');
  assert.equal(serverActionPolicy('not an object'), 'authenticated');
  for (const [file, map] of [
    ['compute', FLAVOR_ACTION_POLICIES],
    ['compute', AGGREGATE_ACTION_POLICIES],
    ['volume', VOLUME_ACTION_POLICIES],
    ['volume', SNAPSHOT_ACTION_POLICIES],
    ['volume', BACKUP_ACTION_POLICIES],
  ] as const) {
    for (const [key, name] of Object.entries(map)) assert.ok(namesFor(file).has(name), `${key} -> ${name}`);
  }
  const route = routes.find((r) => r.name === 'volume-volume-action')!;
  assert.equal(typeof route.policy === 'function' && route.policy({ 'os-force_delete': {} }, {} as RequestContext), 'volume_extension:volume_admin_actions:force_delete');
  // os-extend's policy depends on the volume's status from 3.42: the handler asks it after the lookup.
  assert.equal(typeof route.policy === 'function' && route.policy({ 'os-extend': { new_size: 2 } }, {} as RequestContext), 'authenticated');
  // os-reimage (3.68) asks volume:reimage, or volume:reimage_reserved for a reserved volume, after the lookups.
  assert.equal(typeof route.policy === 'function' && route.policy({ 'os-reimage': { image_id: 'x' } }, {} as RequestContext), 'authenticated');
  for (const name of ['volume:reimage', 'volume:reimage_reserved']) assert.ok(namesFor('volume').has(name), name);
  // PUT /flavors/{id} exists from 2.55: the route declares it, and the pipeline answers Nova's 404 below
  // it before the policy; from it, the policy is flavor-manage's.
  const upd = routes.find((r) => r.name === 'compute-flavors-update')!;
  assert.equal(upd.policy, 'os_compute_api:os-flavor-manage:update');
  assert.deepEqual(upd.versions, { min: '2.55' });
  // The body's schema comes before the policy (Cinder's decorator order): a malformed body needs only a token.
  for (const [name, policy] of [
    ['volume-workers-cleanup', 'workers:cleanup'],
    ['volume-services-freeze', 'volume_extension:services:update'],
    ['volume-services-failover_host', 'volume_extension:services:update'],
    ['volume-services-get-log', 'volume_extension:services:update'],
    ['volume-services-set-log', 'volume_extension:services:update'],
  ]) {
    const r = routes.find((x) => x.name === name)!;
    assert.equal(typeof r.policy === 'function' && r.policy({}, {} as RequestContext), policy);
    assert.equal(typeof r.policy === 'function' && r.policy({ nope: 1 }, {} as RequestContext), 'authenticated');
  }
  assert.deepEqual(routes.find((x) => x.name === 'volume-workers-cleanup')!.versions, { min: '3.24' });
  // /default-types (3.62): Cinder asks the policy inside validate_project_and_authorize, after the
  // schema and the project lookup, so the pipeline asks none; the handler asks the name, which is upstream's admin_api.
  for (const name of ['volume-default-types-set', 'volume-default-types-show', 'volume-default-types-list', 'volume-default-types-unset']) {
    const r = routes.find((x) => x.name === name)!;
    assert.equal(typeof r.policy === 'function' && r.policy({ default_type: { volume_type: 'x' } }, {} as RequestContext), 'authenticated');
    assert.deepEqual(r.versions, { min: '3.62' });
  }
  for (const p of ['volume_extension:default_set_or_update', 'volume_extension:default_get', 'volume_extension:default_get_all', 'volume_extension:default_unset'] as const) {
    assert.equal(ruleOf(p), 'admin', p);
  }
  const at = (v: string) => ({ microversion: { atLeast: (w: string) => Number(v.split('.')[1]) >= Number(w.split('.')[1]) } }) as unknown as RequestContext;
  assert.equal(actionPolicy(VOLUME_ACTION_POLICIES)({ 'os-extend': { new_size: 2 } }), 'volume:extend');
  // /messages exists from 3.3: below, everyone gets Cinder's 404, so only a token is needed.
  for (const [name, policy] of [
    ['volume-messages-list', 'message:get_all'],
    ['volume-messages-show', 'message:get'],
    ['volume-messages-delete', 'message:delete'],
  ]) {
    const r = routes.find((x) => x.name === name)!;
    assert.equal(typeof r.policy === 'function' && r.policy(undefined, at('3.2')), 'authenticated');
    assert.equal(typeof r.policy === 'function' && r.policy(undefined, at('3.3')), policy);
  }
});

test('policy names are unique across the policy files', () => {
  const seen = new Map<string, string>();
  const dupes: string[] = [];
  for (const [service, file] of [['jacket', NO_POLICY] as const, ...Object.entries(POLICY_FILES)]) {
    for (const name of Object.keys(file)) {
      if (seen.has(name)) dupes.push(`${name} in ${seen.get(name)} and ${service}`);
      seen.set(name, service);
    }
  }
  assert.deepEqual(dupes, []);
});

test("the defaults of the important names are upstream's", () => {
  // Written from upstream's policy files (2025.x), in Jacket's rule vocabulary.
  const expected: Record<string, string> = {
    // nova/policies/servers.py: PROJECT_READER_OR_ADMIN / PROJECT_MEMBER_OR_ADMIN / ADMIN
    'os_compute_api:servers:index': 'project_reader_or_admin',
    'os_compute_api:servers:create': 'project_member_or_admin',
    'os_compute_api:servers:delete': 'project_member_or_admin',
    'os_compute_api:servers:reboot': 'project_member_or_admin',
    'os_compute_api:servers:index:get_all_tenants': 'admin',
    // nova/policies/admin_actions.py: ADMIN
    'os_compute_api:os-admin-actions:reset_state': 'admin',
    // nova/policies/migrate_server.py: PROJECT_MANAGER_OR_ADMIN
    'os_compute_api:os-migrate-server:migrate': 'project_manager_or_admin',
    // nova/policies/flavor_manage.py: ADMIN; nova/policies/limits.py: RULE_ANY ('@')
    'os_compute_api:os-flavor-manage:create': 'admin',
    'os_compute_api:limits': 'authenticated',
    // nova/policies/keypairs.py: "(rule:context_is_admin) or user_id:%(user_id)s"
    'os_compute_api:os-keypairs:create': 'admin_or_owner',
    // nova/policies/volumes_attachments.py, server_external_events.py: SERVICE_ROLE (service_or_admin)
    'os_compute_api:os-volumes-attachments:swap': 'admin_or_service',
    // PROJECT_MEMBER_OR_ADMIN (2.85)
    'os_compute_api:os-volumes-attachments:update': 'project_member_or_admin',
    'os_compute_api:os-server-external-events:create': 'admin_or_service',
    // placement/policies/*.py: ADMIN_OR_SERVICE; usage.py TOTAL_USAGES: ADMIN_OR_PROJECT_READER_OR_SERVICE
    'placement:resource_providers:list': 'admin_or_service',
    'placement:allocation_candidates:list': 'admin_or_service',
    'placement:usages': 'project_reader_or_admin_or_service',
    // cinder/policies/volumes.py: xena_system_admin_or_project_member / _reader
    'volume:create': 'project_member_or_admin',
    'volume:get_all': 'project_reader_or_admin',
    // cinder/policies/volume_actions.py: admin_api
    'volume_extension:volume_admin_actions:reset_status': 'admin',
    'volume_extension:volume_admin_actions:force_delete': 'admin',
    'volume:extend': 'project_member_or_admin',
    'volume:extend_attached_volume': 'project_member_or_admin',
    // cinder/policies/backups.py, backup_actions.py, quotas.py
    'backup:create': 'project_member_or_admin',
    'volume_extension:backup_admin_actions:force_delete': 'admin',
    'volume_extension:quotas:update': 'admin',
    // neutron/conf/policies/network.py: ADMIN_OR_PROJECT_MEMBER; get_network ADMIN_OR_PROJECT_READER (or shared)
    create_network: 'project_member_or_admin',
    get_network: 'project_reader_or_admin',
    // glance/policies/image.py: get_images reader, add_image member, publicize_image context_is_admin
    get_images: 'project_reader_or_admin',
    add_image: 'project_member_or_admin',
    publicize_image: 'admin',
    // keystone/common/policies/project.py, user.py, token.py, auth.py
    'identity:create_project': 'admin',
    'identity:get_project': 'admin_or_owner',
    'identity:get_user': 'admin_or_owner',
    'identity:validate_token': 'admin_or_owner',
    'identity:get_auth_projects': 'authenticated',
    // keystone/common/policies/application_credential.py: RULE_OWNER, SYSTEM_READER_OR_OWNER
    'identity:create_application_credential': 'owner',
    'identity:get_application_credential': 'admin_or_owner',
  };
  const actual = Object.fromEntries(Object.keys(expected).map((n) => [n, ruleOf(n as PolicyName)]));
  assert.deepEqual(actual, expected);
});

const auth = (roles: string[], projectId: string | undefined = 'p1', userId = 'u1'): AuthContext => ({
  userId,
  userName: userId,
  userDomainId: 'default',
  projectId,
  roles,
  token: 't',
  auditIds: [],
  expiresAt: new Date(),
  issuedAt: new Date(),
  methods: ['password'],
});

test('the service role passes the service rules and no other admin rule', () => {
  const svc = auth(['service']);
  assert.equal(satisfies('admin_or_service', svc), true);
  assert.equal(satisfies('admin_or_service', auth(['admin'])), true);
  assert.equal(satisfies('admin_or_service', auth(['member', 'reader'])), false);
  assert.equal(satisfies('admin', svc), false);
  assert.equal(satisfies('project_reader_or_admin_or_service', svc, { projectId: 'other' }), true);
  assert.equal(satisfies('project_reader_or_admin_or_service', auth(['reader']), { projectId: 'p1' }), true);
  assert.equal(satisfies('project_reader_or_admin_or_service', auth(['reader']), { projectId: 'other' }), false);
});

test("effective roles follow keystone-manage bootstrap's implications", () => {
  assert.deepEqual(effectiveRoles(['admin']), ['admin', 'manager', 'member', 'reader']);
  assert.deepEqual(effectiveRoles(['manager']), ['manager', 'member', 'reader']);
  assert.deepEqual(effectiveRoles(['member']), ['member', 'reader']);
  assert.deepEqual(effectiveRoles(['service']), ['service']);
  assert.deepEqual(effectiveRoles(['constructor', 'reader']), ['constructor', 'reader']);
});

test('the rules: a reader cannot write, admin crosses projects, targets narrow to the own project or user', () => {
  const reader = auth(['reader']);
  const member = auth(['member', 'reader']);
  const admin = auth(['admin', 'member', 'reader'], 'p-admin');
  const unscoped = { ...auth(['member', 'reader']), projectId: undefined };
  assert.equal(satisfies('project_reader_or_admin', reader), true);
  assert.equal(satisfies('project_member_or_admin', reader), false);
  assert.equal(satisfies('project_member_or_admin', member), true);
  assert.equal(satisfies('project_member_or_admin', unscoped), false);
  assert.equal(satisfies('project_manager_or_admin', member), false);
  assert.equal(satisfies('project_manager_or_admin', auth(['manager', 'member'])), true);
  assert.equal(satisfies('admin', member), false);
  assert.equal(satisfies('admin', admin), true);
  assert.equal(satisfies('public', undefined), true);
  assert.equal(satisfies('authenticated', undefined), false);
  // Targets: another project's quotas, another user's record.
  assert.equal(allowed({ auth: reader }, 'os_compute_api:os-quota-sets:show', { projectId: 'p1' }), true);
  assert.equal(allowed({ auth: reader }, 'os_compute_api:os-quota-sets:show', { projectId: 'p2' }), false);
  assert.equal(allowed({ auth: admin }, 'os_compute_api:os-quota-sets:show', { projectId: 'p2' }), true);
  assert.equal(allowed({ auth: member }, 'identity:get_user', { userId: 'u1' }), true);
  assert.equal(allowed({ auth: member }, 'identity:get_user', { userId: 'u2' }), false);
  assert.equal(allowed({ auth: admin }, 'identity:get_user', { userId: 'u2' }), true);
  // Keystone's RULE_OWNER (create_application_credential): the caller's own user only, admins too.
  assert.equal(allowed({ auth: member }, 'identity:create_application_credential', { userId: 'u1' }), true);
  assert.equal(allowed({ auth: admin }, 'identity:create_application_credential', { userId: 'u2' }), false);
  assert.equal(allowed({ auth: admin }, 'identity:delete_application_credential', { userId: 'u2' }), true);
});
