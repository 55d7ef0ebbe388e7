// Reading a JSON request body, with the guards upstream's WSGI stack puts in front of its parser, so
// that no body — however large, deep, mis-typed or mis-encoded — reaches the handlers or answers 5xx:
// - size: oslo.middleware's sizelimit (max_request_body_size, 114688 bytes) sits in the Nova, Cinder
//   and Keystone pipelines and answers 413 "Request is too large.";
// - Content-Type: Nova's and Cinder's wsgi.Request.get_content_type() treats a missing type and
//   text/plain as JSON and answers 415 "Unsupported Content-Type" for any other non-JSON type;
//   Keystone's json_body middleware accepts only application/json (or none) and answers 400;
// - encoding and depth: Python decodes UTF-8 strictly and its recursive JSON decoder fails deep
//   nesting; here a strict decoder, a depth scan before JSON.parse (our validators and error
//   renderers recurse, so depth must be bounded before anything walks the value), and a check that
//   no string holds a lone surrogate (Table storage and ARM refuse them; they are not Unicode text).
import type { ApiRequest } from './types';
import { ApiError, badRequest, type ServiceKind } from './errors';

/** oslo.middleware's default max_request_body_size. */
export const MAX_BODY_BYTES = 114688;
/** Deeper than any body upstream's schemas describe (the deepest is ~6), far below a stack overflow. */
export const MAX_DEPTH = 64;

const MALFORMED = 'Malformed request body';
/** keystone.exception.ValidationError's wording. */
const keystoneExpecting = (attribute: string, target: string) =>
  `Expecting to find ${attribute} in ${target}. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.`;
const decoder = new TextDecoder('utf-8', { fatal: true });

/** The media type without parameters, lower case ('' when absent). */
function mediaType(req: ApiRequest): string {
  return (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

function checkContentType(service: ServiceKind, req: ApiRequest): void {
  const type = mediaType(req);
  if (service === 'identity') {
    // flask's is_json: application/json or any application/*+json.
    if (type !== '' && type !== 'application/json' && !/^application\/[^/]+\+json$/.test(type)) {
      throw badRequest(keystoneExpecting('application/json', 'Content-Type header'));
    }
    return;
  }
  if (service === 'compute' || service === 'volume') {
    const own = service === 'compute' ? 'application/vnd.openstack.compute+json' : 'application/vnd.openstack.volume+json';
    if (type !== '' && type !== 'text/plain' && type !== 'application/json' && type !== own) {
      throw new ApiError(415, 'Unsupported Content-Type');
    }
  }
}

/** Nesting depth of a JSON text, counted outside strings; stops early past `limit`. */
export function jsonDepth(text: string, limit = MAX_DEPTH): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > max) max = depth;
      if (max > limit) return max;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/** A high surrogate not followed by a low one, or a low one not preceded by a high one (String.prototype.isWellFormed, which our ES2022 lib lacks). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const isWellFormed = (s: string) => !LONE_SURROGATE.test(s);

/** True when every string (keys too) in the parsed value is well-formed UTF-16. Iterative: depth is bounded already, but a wide value must not recurse either. */
function wellFormed(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (!isWellFormed(v)) return false;
    } else if (Array.isArray(v)) {
      stack.push(...v);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (!isWellFormed(k)) return false;
        stack.push(x);
      }
    }
  }
  return true;
}

/** The parsed JSON body of `req` (undefined when empty), or the 4xx upstream answers. */
export function parseJsonBody(service: ServiceKind, req: ApiRequest): unknown {
  if (req.body.length === 0) return undefined;
  if (req.body.length > MAX_BODY_BYTES) throw new ApiError(413, 'Request is too large.');
  checkContentType(service, req);
  // Keystone's json_body middleware also wants an object at the top.
  const malformed = () => badRequest(service === 'identity' ? keystoneExpecting('valid JSON', 'request body') : MALFORMED);
  let text: string;
  try {
    text = decoder.decode(req.body);
  } catch {
    throw malformed();
  }
  if (jsonDepth(text) > MAX_DEPTH) throw malformed();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw malformed();
  }
  if (!wellFormed(value)) throw malformed();
  if (service === 'identity' && (value === null || typeof value !== 'object' || Array.isArray(value))) throw malformed();
  return value;
}
