// Request-body validation with ajv. Schemas sit beside each resource module; failures answer 400 with
// the message shape of the service (Nova/Cinder: "Invalid input for field/attribute ...";
// Keystone: "Invalid input for field '...': ...") and nothing is changed.
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { badRequest } from '../http/errors';

const ajv = new Ajv({ allErrors: false, strict: false, coerceTypes: false });
addFormats(ajv, ['uuid', 'date-time', 'uri', 'email', 'ipv4', 'ipv6', 'regex']);
// Formats named by upstream's own checkers (nova/api/validation/validators.py, cinder's twin).
ajv.addFormat('name', { type: 'string', validate: (s: string) => s.length > 0 && s.trim() === s && !/[\x00-\x1f]/.test(s) });
ajv.addFormat('name_with_leading_trailing_spaces', { type: 'string', validate: (s: string) => s.trim().length > 0 && !/[\x00-\x1f]/.test(s) });
ajv.addFormat('base64', { type: 'string', validate: (s: string) => /^[A-Za-z0-9+/\r\n]*={0,2}$/.test(s) && s.replace(/\s/g, '').length % 4 === 0 });

const cache = new WeakMap<object, ValidateFunction>();

function compiled(schema: object): ValidateFunction {
  let v = cache.get(schema);
  if (!v) {
    v = ajv.compile(schema);
    cache.set(schema, v);
  }
  return v;
}

/** The path of the value that failed, as jsonschema's error.path: for a missing or unexpected
 * property that is the object holding it (Nova: "field/attribute server", not "server/name"). */
function fieldOf(e: ErrorObject): string {
  return e.instancePath.split('/').filter(Boolean).join('/');
}

function describe(e: ErrorObject): string {
  switch (e.keyword) {
    case 'required':
      return `'${(e.params as { missingProperty: string }).missingProperty}' is a required property`;
    case 'additionalProperties':
      return `Additional properties are not allowed ('${(e.params as { additionalProperty: string }).additionalProperty}' was unexpected)`;
    default:
      return e.message ?? 'is invalid';
  }
}

export type ValidationStyle = 'nova' | 'keystone';

/** Validates `body` against `schema`; throws 400 in the service's style. Returns the body typed. */
export function validateBody<T>(schema: object, body: unknown, style: ValidationStyle = 'nova'): T {
  const v = compiled(schema);
  if (v(body)) return body as T;
  const e = v.errors![0];
  if (body === undefined) {
    throw badRequest(style === 'keystone' ? 'Expecting to find a JSON body in the request.' : 'The request body is missing or empty.');
  }
  const field = fieldOf(e);
  // At the root upstream gives the bare message (nova/api/validation/validators.py).
  if (!field) throw badRequest(describe(e));
  if (style === 'keystone') throw badRequest(`Invalid input for field '${field}': ${describe(e)}`);
  throw badRequest(`Invalid input for field/attribute ${field}. Value: ${valueAt(body, e)}. ${describe(e)}`);
}

function valueAt(body: unknown, e: ErrorObject): string {
  let cur: unknown = body;
  for (const k of e.instancePath.split('/').filter(Boolean)) cur = (cur as Record<string, unknown> | undefined)?.[k];
  return JSON.stringify(cur);
}
