// How long a long action waits before its next poll or retry: what Azure asked (Retry-After), within
// the configured floor and cap (config.work). Its own module so work kinds can use it without
// importing the engine (the engine imports every kind through handlers.ts: that would be a cycle).
import type { Services } from '../services';

export const clampDelay = (s: Services, seconds: number) => Math.min(s.config.work.pollCapSeconds, Math.max(s.config.work.pollFloorSeconds, Math.ceil(seconds)));

/** The delay before the next poll: what Azure's Retry-After said, else the floor; within [floor, cap]. */
export function pollDelay(s: Services, retryAfterSeconds?: number): number {
  return clampDelay(s, retryAfterSeconds ?? s.config.work.pollFloorSeconds);
}
