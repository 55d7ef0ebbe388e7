// A bounded fuzz of every route in the table, on loopback: odd ids in every path parameter and
// malformed bodies (deep, huge, non-UTF-8, lone surrogates, wrong JSON types, wrong Content-Type) to
// every route that takes one. Nothing may answer 5xx, and nothing may change: the resources every
// service lists are the same before and after. Upstream answers these with 4xx (issue 12).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Stack } from '../support/stack';
import { startArmStack, type ArmStack } from '../support/armStack';
import { routes } from '../../shared/routes';
import { MAX_BODY_BYTES } from '../../shared/http/body';

let arm: ArmStack;
let stack: Stack;
let token: string;
let projectId: string;

before(async () => {
  // With the ARM emulator, so the routes that read Azure (networks, hypervisors) run for real.
  arm = await startArmStack({ asyncDelayMs: 0 });
  stack = arm.stack;
  token = await stack.token();
  const r = await stack.http('GET', '/identity/v3/auth/projects', { token });
  projectId = r.body.projects.find((p: { name: string }) => p.name === 'admin').id;
});
after(() => arm?.stop());

/** Path parameter values that are no resource's id: encoded slashes, dots, huge, control, quotes. */
const ODD_IDS = ['a%2Fb', '..%5C..', 'x'.repeat(1500), '%00', '%23frag%3F', '%27%20OR%201%3D1', '%ED%A0%80', '%F0%9F%98%80'];

interface RawBody {
  what: string;
  body: Buffer;
  type?: string;
}
const BODIES: RawBody[] = [
  { what: 'nested objects 5000 deep', body: Buffer.from('{"a":'.repeat(5000) + '1' + '}'.repeat(5000)) },
  { what: 'nested arrays 5000 deep', body: Buffer.from('['.repeat(5000) + ']'.repeat(5000)) },
  { what: 'unclosed nesting', body: Buffer.from('[{"a":'.repeat(3000)) },
  { what: 'over the size limit', body: Buffer.from(JSON.stringify({ x: 'y'.repeat(MAX_BODY_BYTES) })) },
  { what: 'not UTF-8', body: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]) },
  { what: 'a lone surrogate', body: Buffer.from('{"name": "\\ud800", "user": {"name": "\\udc00x"}}') },
  { what: 'a JSON array', body: Buffer.from('[]') },
  { what: 'a JSON string', body: Buffer.from('"x"') },
  { what: 'a JSON number', body: Buffer.from('1e400') },
  { what: 'null', body: Buffer.from('null') },
  { what: 'truncated', body: Buffer.from('{"server": {"name": ') },
  { what: 'XML', body: Buffer.from('<server name="x"/>'), type: 'application/xml' },
  { what: 'a form', body: Buffer.from('name=x&size=1'), type: 'application/x-www-form-urlencoded' },
  { what: 'JSON sent as text/plain', body: Buffer.from('{"x": {"y": []}}'), type: 'text/plain' },
];

/** The route's path with each parameter replaced (Cinder's own project id kept where the route checks it). */
function fill(path: string, projectParam: string | undefined, odd: string): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => (name === projectParam ? projectId : odd));
}

async function send(method: string, path: string, body?: RawBody): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = { 'X-Auth-Token': token, Accept: 'application/json' };
  if (body) headers['Content-Type'] = body.type ?? 'application/json';
  const res = await fetch(stack.url + path, { method, headers, body: body?.body });
  return { status: res.status, text: await res.text() };
}

/** What every service lists, by id: the state the fuzz must leave as it found it. */
async function snapshot(): Promise<Record<string, string[]>> {
  const lists: Record<string, [string, string]> = {
    servers: ['/compute/v2.1/servers?all_tenants=1', 'servers'],
    flavors: ['/compute/v2.1/flavors?is_public=None', 'flavors'],
    keypairs: ['/compute/v2.1/os-keypairs', 'keypairs'],
    volumes: [`/volume/v3/${projectId}/volumes?all_tenants=1`, 'volumes'],
    snapshots: [`/volume/v3/${projectId}/snapshots?all_tenants=1`, 'snapshots'],
    backups: [`/volume/v3/${projectId}/backups?all_tenants=1`, 'backups'],
    types: [`/volume/v3/${projectId}/types`, 'volume_types'],
    images: ['/image/v2/images', 'images'],
    projects: ['/identity/v3/projects', 'projects'],
    users: ['/identity/v3/users', 'users'],
    roles: ['/identity/v3/roles', 'roles'],
    networks: ['/network/v2.0/networks', 'networks'],
    ports: ['/network/v2.0/ports', 'ports'],
    groups: ['/network/v2.0/security-groups', 'security_groups'],
  };
  const out: Record<string, string[]> = {};
  for (const [what, [path, key]] of Object.entries(lists)) {
    const r = await stack.http('GET', path, { token });
    assert.equal(r.status, 200, `${what}: ${r.text}`);
    const items = r.body[key] as { id?: string; name?: string }[];
    out[what] = items.map((i) => i.id ?? i.name ?? '').sort();
  }
  return out;
}

test('no route answers 5xx to odd ids or malformed bodies, and nothing changes', async () => {
  const beforeState = await snapshot();
  const failures: string[] = [];
  let sent = 0;
  const record = (what: string, r: { status: number; text: string }) => {
    sent++;
    // 501 is the documented answer of an API Jacket does not serve (e.g. changes to the operator's catalog networks).
    if (r.status >= 500 && r.status !== 501) failures.push(`${what} → ${r.status} ${r.text.slice(0, 200)}`);
  };
  for (const route of routes) {
    const method = route.method === 'HEAD' ? 'HEAD' : route.method;
    const hasParams = route.path.includes('{');
    // Odd ids in every path parameter.
    if (hasParams) {
      for (const odd of ODD_IDS) {
        const path = fill(route.path, route.projectParam, odd);
        record(`${method} ${path.slice(0, 120)}`, await send(method, path));
      }
    }
    // Malformed bodies, to the route's own path (ids odd, so nothing can be found and changed).
    if (['POST', 'PUT', 'PATCH'].includes(method)) {
      const path = fill(route.path, route.projectParam, ODD_IDS[0]);
      for (const b of BODIES) record(`${method} ${path} with ${b.what}`, await send(method, path, b));
    }
  }
  // Every service's collection with an empty id ('/volumes/') answers 404 as Nova and Cinder do.
  for (const path of ['/compute/v2.1/servers/', '/compute/v2.1/os-simple-tenant-usage/', `/volume/v3/${projectId}/volumes/`]) {
    const r = await send('GET', path);
    assert.equal(r.status, 404, `${path}: ${r.text}`);
  }
  assert.deepEqual(failures.slice(0, 20), [], `${failures.length} of ${sent} requests answered 5xx`);
  assert.ok(sent > 1000, `sent ${sent}`);
  assert.deepEqual(await snapshot(), beforeState);
});

test("bodies are refused as upstream refuses them: 413, 415, Keystone's Content-Type, and JSON as text/plain for Nova", async () => {
  const big = await send('POST', '/compute/v2.1/servers', BODIES[3]);
  assert.equal(big.status, 413);
  assert.deepEqual(JSON.parse(big.text), { overLimit: { code: 413, message: 'Request is too large.' } });
  const xml = await send('POST', '/compute/v2.1/servers', BODIES[11]);
  assert.equal(xml.status, 415);
  assert.deepEqual(JSON.parse(xml.text), { badMediaType: { code: 415, message: 'Unsupported Content-Type' } });
  const deep = await send('POST', '/identity/v3/auth/tokens', BODIES[0]);
  assert.equal(deep.status, 400);
  assert.match(JSON.parse(deep.text).error.message, /^Expecting to find valid JSON in request body\./);
  const plainKeystone = await send('POST', '/identity/v3/auth/tokens', BODIES[13]);
  assert.equal(plainKeystone.status, 400);
  assert.match(JSON.parse(plainKeystone.text).error.message, /^Expecting to find application\/json in Content-Type header\./);
  // Nova reads a text/plain body as JSON (wsgi.Request.get_content_type): a valid keypair is made.
  const res = await fetch(`${stack.url}/compute/v2.1/os-keypairs`, {
    method: 'POST',
    headers: { 'X-Auth-Token': token, 'Content-Type': 'text/plain' },
    body: JSON.stringify({ keypair: { name: 'fuzz-plain' } }),
  });
  assert.equal(res.status, 200, await res.text());
  const surrogate = await send('POST', '/identity/v3/users', BODIES[5]);
  assert.equal(surrogate.status, 400);
  const slash = await send('GET', '/compute/v2.1/servers/a%2Fb');
  assert.equal(slash.status, 404);
  assert.equal(JSON.parse(slash.text).itemNotFound.code, 404);
  const del = await stack.http('DELETE', '/compute/v2.1/os-keypairs/fuzz-plain', { token });
  assert.equal(del.status, 202);
});
