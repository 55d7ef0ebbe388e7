// OpenStack error bodies. Nova and Cinder wrap the error in a key named for the fault
// ({"itemNotFound": {"code": 404, "message": ...}}); Keystone uses {"error": {code, message, title}}.

export type ServiceKind = 'compute' | 'volume' | 'identity' | 'network' | 'image' | 'placement' | 'root';

/** Fault names as nova/api/openstack/wsgi.py and cinder/api/openstack/wsgi.py map them. */
const FAULT_NAMES: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  406: 'notAcceptable',
  409: 'conflictingRequest',
  413: 'overLimit',
  415: 'badMediaType',
  429: 'overLimit',
  501: 'notImplemented',
  503: 'serviceUnavailable',
};

/** Keystone's error titles (keystone/exception.py). */
const KEYSTONE_TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  501: 'Not Implemented',
};

export class ApiError extends Error {
  constructor(
    public readonly status: number,
    message: string,
    public readonly headers: Record<string, string> = {},
    /** Neutron's error type (the upstream exception name), e.g. NetworkNotFound. */
    public readonly type?: string,
  ) {
    super(message);
  }
}

export const badRequest = (m: string) => new ApiError(400, m);
export const unauthorized = (m = 'The request you have made requires authentication.') => new ApiError(401, m);
export const forbidden = (m = 'Policy does not allow this action to be performed.') => new ApiError(403, m);
export const notFound = (m: string) => new ApiError(404, m);
export const conflict = (m: string) => new ApiError(409, m);
export const overLimit = (m: string, retryAfter?: number) => new ApiError(413, m, retryAfter === undefined ? {} : { 'Retry-After': String(retryAfter) });
export const notImplemented = (m: string) => new ApiError(501, m);

const NEUTRON_TYPES: Record<number, string> = {
  400: 'HTTPBadRequest',
  401: 'HTTPUnauthorized',
  403: 'HTTPForbidden',
  404: 'HTTPNotFound',
  405: 'HTTPMethodNotAllowed',
  409: 'HTTPConflict',
  413: 'HTTPRequestEntityTooLarge',
  500: 'HTTPInternalServerError',
  501: 'HTTPNotImplemented',
};

/** webob's explanations, which Placement's errors put before their detail. */
const WEBOB_EXPLANATIONS: Record<number, string> = {
  400: 'The server could not comply with the request since it is either malformed or otherwise incorrect.',
  401: 'This server could not verify that you are authorized to access the document you requested.',
  403: 'Access was denied to this resource.',
  404: 'The resource could not be found.',
  405: 'The method is not allowed for this resource.',
  409: 'There was a conflict when trying to complete your request.',
};

export function faultBody(service: ServiceKind, status: number, message: string, type?: string, requestId?: string): unknown {
  if (service === 'placement') {
    // placement/util.py json_error_formatter: webob's plain body (explanation, blank line, detail)
    // as `detail`; `code` only from 1.23, beyond Jacket's Placement maximum.
    const title = KEYSTONE_TITLES[status] ?? 'Error';
    const explanation = WEBOB_EXPLANATIONS[status] ?? title;
    const detail = message === explanation ? `${explanation}\n\n   ` : `${explanation}\n\n ${message}  `;
    return { errors: [{ status, title, detail, ...(requestId ? { request_id: requestId } : {}) }] };
  }
  if (service === 'network') {
    return { NeutronError: { type: type ?? NEUTRON_TYPES[status] ?? 'HTTPError', message, detail: '' } };
  }
  if (service === 'image') {
    // Glance's faults are webob's: {"code": "404 Not Found", "title": "Not Found", "message": ...}, the
    // message being webob's body template '${explanation}<br /><br />\n${detail}\n${html_comment}'.
    const title = KEYSTONE_TITLES[status] ?? 'Error';
    return { code: `${status} ${title}`, title, message: `${message}<br /><br />\n\n` };
  }
  if (service === 'identity') {
    return { error: { code: status, message, title: KEYSTONE_TITLES[status] ?? 'Error' } };
  }
  const name = FAULT_NAMES[status] ?? 'computeFault';
  return { [name]: { code: status, message } };
}
