// Request-body validation with ajv. Schemas sit beside each resource module; failures answer 400 with
// the message shape of the service (Nova/Cinder: "Invalid input for field/attribute ...";
// Keystone: "Invalid input for field '...': ...") and nothing is changed.
import type Ajv from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { badRequest } from '../http/errors';
import type { Microversion } from './microversion';

/** The validator, made (and ajv loaded) on the first body validated, not when a route module is imported (cold start, issue 11). */
let instance: Ajv | undefined;
function ajv(): Ajv {
  if (instance) return instance;
  /* eslint-disable @typescript-eslint/no-require-imports */
  const AjvClass = (require('ajv') as typeof import('ajv')).default;
  const addFormats = (require('ajv-formats') as typeof import('ajv-formats')).default;
  /* eslint-enable @typescript-eslint/no-require-imports */
  const a = new AjvClass({ allErrors: false, strict: false, coerceTypes: false });
  addFormats(a, ['uuid', 'date-time', 'uri', 'email', 'ipv4', 'ipv6', 'regex']);
  // Formats named by upstream's own checkers (nova/api/validation/validators.py, cinder's twin).
  a.addFormat('name', { type: 'string', validate: (s: string) => s.length > 0 && s.trim() === s && !/[\x00-\x1f]/.test(s) });
  // Nova's az_name: a name (as above) without ':' (the host:node separator of a zone request).
  a.addFormat('az_name', { type: 'string', validate: (s: string) => s.length > 0 && s.trim() === s && !/[\x00-\x1f:]/.test(s) });
  a.addFormat('name_with_leading_trailing_spaces', { type: 'string', validate: (s: string) => s.trim().length > 0 && !/[\x00-\x1f]/.test(s) });
  // cinder: non-empty and at most 255 characters once stripped (the caller strips it).
  a.addFormat('name_skip_leading_trailing_spaces', { type: 'string', validate: (s: string) => s.trim().length > 0 && s.trim().length <= 255 });
  a.addFormat('base64', { type: 'string', validate: (s: string) => /^[A-Za-z0-9+/\r\n]*={0,2}$/.test(s) && s.replace(/\s/g, '').length % 4 === 0 });
  return (instance = a);
}

const cache = new WeakMap<object, ValidateFunction>();

function compiled(schema: object): ValidateFunction {
  let v = cache.get(schema);
  if (!v) {
    v = ajv().compile(schema);
    cache.set(schema, v);
  }
  return v;
}

/** The path of the value that failed, as jsonschema's error.path: for a missing or unexpected
 * property that is the object holding it (Nova: "field/attribute server", not "server/name"). */
function pathOf(e: ErrorObject): string[] {
  return e.instancePath.split('/').filter(Boolean);
}

/** Python's repr() of a string, as jsonschema quotes names in its messages. */
const pyRepr = (v: string) => (v.includes("'") && !v.includes('"') ? `"${v}"` : `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`);

/** The subschema at an ajv schemaPath ('#/properties/metadata/additionalProperties' -> its parent). */
function parentSchema(schema: object, e: ErrorObject): Record<string, unknown> | undefined {
  let cur: unknown = schema;
  for (const k of e.schemaPath.split('/').slice(1, -1)) cur = (cur as Record<string, unknown> | undefined)?.[decodeURIComponent(k.replace(/~1/g, '/').replace(/~0/g, '~'))];
  return cur as Record<string, unknown> | undefined;
}

/**
 * jsonschema's wording when the object also has patternProperties: every unexpected key, sorted, then
 * the patterns ("'a/b' does not match any of the regexes: '^[a-z]+$'").
 */
function patternMismatch(schema: object, body: unknown, e: ErrorObject): string | undefined {
  if (e.keyword !== 'additionalProperties') return undefined;
  const parent = parentSchema(schema, e);
  const patterns = parent?.patternProperties as Record<string, unknown> | undefined;
  if (!patterns) return undefined;
  const known = Object.keys((parent?.properties as object | undefined) ?? {});
  const obj = (e.instancePath
    .split('/')
    .filter(Boolean)
    .reduce<unknown>((c, k) => (c as Record<string, unknown> | undefined)?.[k], body) ?? {}) as object;
  const extras = Object.keys(obj)
    .filter((k) => !known.includes(k) && !Object.keys(patterns).some((p) => new RegExp(p, 'u').test(k)))
    .sort();
  if (extras.length === 0) return undefined;
  return `${extras.map(pyRepr).join(', ')} ${extras.length === 1 ? 'does' : 'do'} not match any of the regexes: ${Object.keys(patterns).sort().map(pyRepr).join(', ')}`;
}

/** jsonschema's (4.x) wording for the failing keyword, which upstream returns to clients. */
function describe(e: ErrorObject, value: unknown): string {
  const r = pythonStr(value, true);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return `'${p.missingProperty}' is a required property`;
    case 'additionalProperties':
      return `Additional properties are not allowed ('${p.additionalProperty}' was unexpected)`;
    case 'type':
      return `${r} is not of type ${String(p.type)
        .split(',')
        .map((t) => `'${t}'`)
        .join(', ')}`;
    case 'enum':
      return `${r} is not one of ${pythonStr(p.allowedValues, true)}`;
    case 'const':
      return `${pythonStr(p.allowedValue, true)} was expected`;
    case 'pattern':
      return `${r} does not match ${pyRepr(String(p.pattern))}`;
    case 'format':
      return `${r} is not a ${pyRepr(String(p.format))}`;
    case 'maxLength':
    case 'maxItems':
      return `${r} is too long`;
    case 'minLength':
    case 'minItems':
      return p.limit === 1 ? `${r} should be non-empty` : `${r} is too short`;
    case 'minProperties':
      return p.limit === 1 ? `${r} should be non-empty` : `${r} does not have enough properties`;
    case 'maxProperties':
      return `${r} has too many properties`;
    case 'minimum':
      return `${r} is less than the minimum of ${p.limit}`;
    case 'maximum':
      return `${r} is greater than the maximum of ${p.limit}`;
    case 'exclusiveMinimum':
      return `${r} is less than or equal to the minimum of ${p.limit}`;
    case 'exclusiveMaximum':
      return `${r} is greater than or equal to the maximum of ${p.limit}`;
    case 'uniqueItems':
      return `${r} has non-unique elements`;
    case 'anyOf':
    case 'oneOf':
      return `${r} is not valid under any of the given schemas`;
    case 'not':
      return `${r} should not be valid under ${pythonStr(e.schema, true)}`;
    default:
      return e.message ?? 'is invalid';
  }
}

/** oslo uuidutils.is_uuid_like (Nova's and Cinder's `uuid` format): hyphens, braces and urn:/uuid: prefixes aside, 32 hex digits. */
export const isUuidLike = (v: string) =>
  /^[0-9a-f]{32}$/.test(
    v
      .toLowerCase()
      .replace(/^urn:/, '')
      .replace(/^uuid:/, '')
      .replace(/[{}-]/g, ''),
  );

/**
 * Validates a query string against a Nova query schema (nova.api.validation.query_schema): the
 * parameters as req.GET.dict_of_lists(), a failure 400 `Invalid input for query parameters <name>.
 * Value: <value>. <why>` (the bare message at the root, e.g. an unexpected parameter).
 */
export function validateQuery(schema: object, q: URLSearchParams): Record<string, string[]> {
  const dict: Record<string, string[]> = {};
  for (const [k, v] of q) (dict[k] ??= []).push(v);
  const v = compiled(schema);
  if (v(dict)) return dict;
  const e = v.errors![0];
  const path = pathOf(e);
  const message = patternMismatch(schema, dict, e) ?? describe(e, valueAt(dict, path));
  if (path.length === 0) throw badRequest(message);
  throw badRequest(`Invalid input for query parameters ${path[0]}. Value: ${pythonStr(valueAt(dict, path))}. ${message}`);
}

export type ValidationStyle = 'nova' | 'keystone';

/**
 * Upstream's request schemas of one method by microversion, oldest first: each applies from its
 * version until the next one's (nova's @validation.schema(schema, min, max) ranges, contiguous).
 */
export type SchemaByVersion = readonly (readonly [string, object])[];

/** The schema that applies at `mv` (the first one when the route is not microversioned). */
export function schemaAt(mv: Microversion | undefined, byVersion: SchemaByVersion): object {
  let pick = byVersion[0][1];
  for (const [min, schema] of byVersion) if (mv?.atLeast(min)) pick = schema;
  return pick;
}

/** JSON Schema's type test of a value (jsonschema's type checker: booleans are not integers). */
function isType(v: unknown, t: string): boolean {
  if (t === 'null') return v === null;
  if (t === 'array') return Array.isArray(v);
  if (t === 'object') return typeof v === 'object' && v !== null && !Array.isArray(v);
  if (t === 'integer') return typeof v === 'number' && Number.isInteger(v);
  return typeof v === t;
}

/**
 * The error upstream reports (jsonschema's best_match): ajv lists a oneOf/anyOf's branch errors before
 * the combinator's own; jsonschema descends into the branches and takes the most relevant (the deepest
 * path, then one whose subschema's `type` the value has: `'abc' is not a 'uuid'` rather than `'abc' is
 * not of type 'null'` for a uuid-or-null), or stays with the combinator's message when the two best tie.
 */
function bestError(schema: object, body: unknown, errors: ErrorObject[]): ErrorObject {
  const combinator = errors.find((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf');
  if (!combinator) return errors[0];
  const branches = errors.filter((e) => e !== combinator && e.schemaPath.startsWith(`${combinator.schemaPath}/`));
  if (branches.length === 0) return combinator;
  const relevance = (e: ErrorObject): number[] => {
    const t = parentSchema(schema, e)?.type;
    const value = valueAt(body, pathOf(e));
    const matches = typeof t === 'string' ? isType(value, t) : Array.isArray(t) && t.some((x) => isType(value, String(x)));
    return [-pathOf(e).length, ['anyOf', 'oneOf'].includes(e.keyword) ? 0 : 1, matches ? 0 : 1];
  };
  const cmp = (a: number[], b: number[]) => a.reduce((c, x, i) => c || x - b[i], 0);
  const ranked = branches.map((e) => ({ e, k: relevance(e) })).sort((a, b) => cmp(a.k, b.k));
  if (ranked.length > 1 && cmp(ranked[0].k, ranked[1].k) === 0) return combinator;
  return ranked[0].e;
}

/** Validates `body` against `schema`; throws 400 in the service's style. Returns the body typed. */
export function validateBody<T>(schema: object, body: unknown, style: ValidationStyle = 'nova'): T {
  const v = compiled(schema);
  if (v(body)) return body as T;
  const e = bestError(schema, body, v.errors!);
  if (body === undefined) {
    throw badRequest(style === 'keystone' ? 'Expecting to find a JSON body in the request.' : 'The request body is missing or empty.');
  }
  const path = pathOf(e);
  const message = patternMismatch(schema, body, e) ?? describe(e, valueAt(body, path));
  // At the root upstream gives the bare message. Keystone names the whole path; Nova and Cinder
  // only its last element (ex.path.pop()) and the failing value as Python prints it.
  if (path.length === 0) throw badRequest(message);
  if (style === 'keystone') throw badRequest(`Invalid input for field '${path.join('/')}': ${message}`);
  throw badRequest(`Invalid input for field/attribute ${path[path.length - 1]}. Value: ${pythonStr(valueAt(body, path))}. ${message}`);
}

function valueAt(body: unknown, path: string[]): unknown {
  let cur: unknown = body;
  for (const k of path) cur = (cur as Record<string, unknown> | undefined)?.[k];
  return cur;
}

/** What Python's '%s' prints for a JSON value: str() of a str, repr() inside containers. */
function pythonStr(v: unknown, nested = false): string {
  if (typeof v === 'string') return nested ? pyRepr(v) : v;
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (Array.isArray(v)) return `[${v.map((x) => pythonStr(x, true)).join(', ')}]`;
  if (typeof v === 'object')
    return `{${Object.entries(v)
      .map(([k, x]) => `${pyRepr(k)}: ${pythonStr(x, true)}`)
      .join(', ')}}`;
  return String(v);
}
