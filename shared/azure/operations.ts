// What a long-running ARM operation said when it was submitted: how long to wait before looking again
// (Retry-After) and where its status lives (Azure-AsyncOperation, else Location). Driver operations
// that submit return this, so the step can hand the delay to the engine (shared/work/engine.ts
// pollDelay) instead of polling at a fixed pace.
import type { FullOperationResponse } from '@azure/core-client';
import { parseRetryAfter } from './errors';

export interface Submitted {
  retryAfterSeconds?: number;
  statusUrl?: string;
}

/** Operation options that record the response headers of the call they are passed to. */
export function recordSubmit(): { options: { onResponse: (r: FullOperationResponse) => void }; submitted: () => Submitted } {
  let seen: Submitted = {};
  return {
    options: {
      onResponse: (r) => {
        const ra = parseRetryAfter(r.headers.get('retry-after'));
        const url = r.headers.get('azure-asyncoperation') ?? r.headers.get('location');
        // Pollers may call back for later responses too: keep the submission's answer.
        if (seen.retryAfterSeconds === undefined && seen.statusUrl === undefined) seen = { ...(ra !== undefined ? { retryAfterSeconds: ra } : {}), ...(url ? { statusUrl: url } : {}) };
      },
    },
    submitted: () => seen,
  };
}
