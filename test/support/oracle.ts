// The upstream oracle: Nova's and Cinder's own JSON Schemas (../shared/reference/openstack), read at
// test time. assertNovaResponse checks a response body against the schema Nova applies to that
// controller method at that microversion.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { REFERENCE } from './paths';

const NOVA = path.join(REFERENCE, 'openstack/nova-schemas');

type Ranged = { min: string | null; max: string | null; schema: string };
type MethodInfo = { response_body_schema?: Ranged[]; schema?: Ranged[]; query_schema?: Ranged[]; status?: { code: number; min: string | null; max: string | null }[] };

let controllers: Record<string, Record<string, Record<string, MethodInfo>>> | undefined;
const modules = new Map<string, Record<string, object>>();

// Nova's patterns are Python's: a few escape characters a unicode JavaScript RegExp refuses (2.92's key
// pair name, ^[_\-\@\. a-zA-Z0-9]+$), so such a pattern compiles without the u flag.
const pyRegExp = Object.assign(
  (pattern: string, flags: string) => {
    try {
      return new RegExp(pattern, flags);
    } catch {
      return new RegExp(pattern, flags.replace('u', ''));
    }
  },
  { code: 'new RegExp' },
);
const ajv = new Ajv({ strict: false, allErrors: true, code: { regExp: pyRegExp } });
addFormats(ajv, ['date-time', 'uri', 'ipv4', 'ipv6', 'regex', 'email']);
// Upstream's own format checkers (nova/api/validation/validators.py): uuid is oslo's is_uuid_like
// (with or without dashes); mac-address is six colon-separated octets.
ajv.addFormat('uuid', /^(urn:uuid:)?\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$/i);
ajv.addFormat('mac-address', /^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/i);
ajv.addFormat('cidr', /^[0-9a-f:.]+\/\d{1,3}$/i);
// date-time is oslo's parse_isotime (the iso8601 library): the time zone is optional, as in the
// naive UTC times os-simple-tenant-usage prints.
ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?$/i);
// Formats that constrain request input only (names, base64 bodies...): any string passes in a response.
for (const f of [
  'name',
  'name_with_leading_trailing_spaces',
  'base64',
  'az_name',
  'az_name_with_leading_trailing_spaces',
  'keypair_name_20',
  'keypair_name_255',
  'hostname',
  'edns',
  'hypervisor_hostname',
]) {
  ajv.addFormat(f, true);
}

function cmp(a: string, b: string): number {
  const [am, an] = a.split('.').map(Number);
  const [bm, bn] = b.split('.').map(Number);
  return am !== bm ? am - bm : an - bn;
}
const inRange = (v: string, r: { min: string | null; max: string | null }) => (!r.min || cmp(v, r.min) >= 0) && (!r.max || cmp(v, r.max) <= 0);

function loadSchema(ref: string): object {
  const [mod, name] = ref.split('.');
  let m = modules.get(mod);
  if (!m) {
    m = JSON.parse(readFileSync(path.join(NOVA, 'schemas', `${mod}.json`), 'utf8')) as Record<string, object>;
    modules.set(mod, m);
  }
  const s = m[name];
  assert.ok(s, `no schema ${ref} upstream`);
  return s;
}

export function novaMethod(module: string, controller: string, method: string): MethodInfo {
  controllers ??= JSON.parse(readFileSync(path.join(NOVA, 'controllers.json'), 'utf8'));
  const info = controllers![module]?.[controller]?.[method];
  assert.ok(info, `no upstream controller ${module}.${controller}.${method}`);
  return info;
}

/** The response schema Nova applies to module.controller.method at microversion `mv`. */
export function novaResponseSchema(module: string, controller: string, method: string, mv: string): object {
  const r = (novaMethod(module, controller, method).response_body_schema ?? []).find((x) => inRange(mv, x));
  assert.ok(r, `upstream has no response schema for ${module}.${controller}.${method} at ${mv}`);
  return loadSchema(r.schema);
}

/** The success status Nova answers for module.controller.method at `mv` (200 when unlisted). */
export function novaStatus(module: string, controller: string, method: string, mv: string): number {
  const s = (novaMethod(module, controller, method).status ?? []).find((x) => inRange(mv, x));
  return s?.code ?? 200;
}

export function assertNovaResponse(module: string, controller: string, method: string, mv: string, body: unknown): void {
  const validate = ajv.compile(novaResponseSchema(module, controller, method, mv));
  const ok = validate(body);
  assert.ok(ok, `response does not match upstream ${module}.${controller}.${method}@${mv}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 2000)}`);
}
