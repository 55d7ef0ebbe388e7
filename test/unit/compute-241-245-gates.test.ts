// Versions Jacket does not advertise yet (COMPUTE.max is 2.40), gated ahead as Nova gates them:
// 2.43 ends os-hosts (HostController up to 2.42), 2.44 ends addFixedIp/removeFixedIp/addFloatingIp/
// removeFloatingIp (api_version up to 2.43). Checked here at the dispatch itself, since a request above
// the maximum is 406 before it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Microversion } from '../../shared/api/microversion';
import { ApiError } from '../../shared/http/errors';
import { hostRoutes } from '../../shared/compute/hosts/api';
import { computeRoutes } from '../../shared/compute/routes';
import { dispatchServerAction } from '../../shared/compute/servers/actions/registry';
import type { RequestContext } from '../../shared/http/router';

test('2.43: every os-hosts route exists up to 2.42 only', () => {
  assert.ok(hostRoutes.length >= 5);
  for (const r of hostRoutes) {
    assert.ok(r.path.includes('/os-hosts'), r.path);
    const v: { min?: string; max?: string } | undefined = r.versions;
    assert.ok(Microversion.parse('2.42').matches(v?.min, v?.max));
    assert.ok(!Microversion.parse('2.43').matches(v?.min, v?.max));
    assert.deepEqual(v, { max: '2.42' }, r.name);
  }
  assert.ok(
    hostRoutes.every((h) => computeRoutes.includes(h)),
    'served among the compute routes',
  );
});

test('2.44: addFixedIp, removeFixedIp, addFloatingIp, removeFloatingIp are a bare 404 before their body is read', async () => {
  assert.ok(computeRoutes.length > 0); // the registry is filled by the compute routes' modules
  for (const name of ['addFixedIp', 'removeFixedIp', 'addFloatingIp', 'removeFloatingIp']) {
    // An invalid body: at 2.43 the schema refuses it (400), at 2.44 the version does first (404).
    const ctx = (mv: string) => ({ microversion: Microversion.parse(mv), body: { [name]: { bogus: true } } }) as unknown as RequestContext;
    await assert.rejects(dispatchServerAction(ctx('2.43')), (e: unknown) => e instanceof ApiError && e.status === 400, `${name} at 2.43`);
    await assert.rejects(dispatchServerAction(ctx('2.44')), (e: unknown) => e instanceof ApiError && e.status === 404 && e.message === 'The resource could not be found.', `${name} at 2.44`);
  }
});
