// One classification of what Azure answered, for every caller of the driver layer. ARM's guidance
// (and Storage's): 429 is throttling, to be retried after its Retry-After; 408, 5xx and dropped
// connections are transient; 409 is a conflict with another operation on the resource (retry later);
// 404 is "not there"; any other 4xx is Azure refusing the request, which retrying cannot change.
// The long-action engine (shared/work/engine.ts) decides retry or give-up from `kind` alone.

export type FailureKind = 'notFound' | 'throttled' | 'retryable' | 'conflict' | 'client';

export interface AzureFailure {
  kind: FailureKind;
  /** HTTP status, when Azure answered. */
  status?: number;
  /** Azure's error code (the inner ARM error's when there is one), or the Node error code. */
  code: string;
  message: string;
  /** Seconds Azure asked us to wait (Retry-After), when it said. */
  retryAfterSeconds?: number;
}

interface SdkError {
  statusCode?: number;
  code?: string;
  message?: string;
  details?: { error?: { code?: string; message?: string; details?: { code?: string }[] }; errorCode?: string; message?: string };
  response?: { headers?: { get?: (n: string) => string | undefined } };
}

/** Retry-After as seconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(v: string | null | undefined, now = Date.now()): number | undefined {
  if (!v) return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Number(v);
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, Math.ceil((t - now) / 1000));
}

function kindOf(status: number | undefined): FailureKind {
  if (status === undefined) return 'retryable'; // no answer: a dropped connection, DNS, a timeout
  if (status === 404) return 'notFound';
  if (status === 429) return 'throttled';
  if (status === 409) return 'conflict';
  if (status === 408 || status >= 500) return 'retryable';
  return 'client';
}

const RESIZE_NEEDS_DEALLOCATION = /^Disk resizing is allowed only when creating a VM or when the VM is deallocated/;

/** Any error thrown by an Azure SDK call (ARM or Storage) as one AzureFailure. */
export function azureFailure(e: unknown): AzureFailure {
  if (isAzureFailureError(e)) return e.failure;
  const o = (typeof e === 'object' && e !== null ? e : {}) as SdkError;
  const inner = o.details?.error;
  const status = typeof o.statusCode === 'number' && o.statusCode > 0 ? o.statusCode : undefined;
  const retryAfter = parseRetryAfter(o.response?.headers?.get?.('retry-after'));
  // Compute answers 409 OperationNotAllowed for a refusal no retry changes (a quota exceeded, an
  // operation the VM's state or configuration does not allow), and for its own throttling — then with
  // a TooManyRequests detail. Only the throttling is worth retrying.
  // DiskRP answers 409 Conflict "Disk resizing is allowed only when creating a VM or when the VM is
  // deallocated." for a resize of a disk whose VM holds it where the disk cannot be expanded without
  // downtime: the VM's state, not another operation, stands in the way, so no retry changes it either.
  const code = inner?.code ?? o.details?.errorCode ?? o.code;
  const message = inner?.message ?? o.message ?? '';
  const refused =
    status === 409 && ((code === 'OperationNotAllowed' && !(inner?.details ?? []).some((d) => d.code === 'TooManyRequests')) || (code === 'Conflict' && RESIZE_NEEDS_DEALLOCATION.test(message)));
  return {
    kind: refused ? 'client' : kindOf(status),
    ...(status !== undefined ? { status } : {}),
    code: inner?.code ?? o.details?.errorCode ?? o.code ?? (status ? `Http${status}` : 'Unknown'),
    message: inner?.message ?? o.message ?? String(e),
    ...(retryAfter !== undefined ? { retryAfterSeconds: retryAfter } : {}),
  };
}

/** An error carrying a classified failure (what a driver operation throws when it decides itself). */
export class AzureFailureError extends Error {
  constructor(readonly failure: AzureFailure) {
    super(failure.message);
  }
}
function isAzureFailureError(e: unknown): e is AzureFailureError {
  return e instanceof AzureFailureError;
}

export const isNotFound = (e: unknown) => azureFailure(e).kind === 'notFound';
/** Azure refused the request itself (4xx other than 404/408/409/429): retrying cannot help. */
export const isClientError = (e: unknown) => azureFailure(e).kind === 'client';

/** The call's result, or undefined when Azure answers 404. */
export async function absentOn404<T>(p: Promise<T> | (() => Promise<T>)): Promise<T | undefined> {
  try {
    return await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}
