// Calls to Nova at a microversion, and the checks the microversion tests make of its answers (the
// fault body, {"badRequest": {"message": …}}, is Cinder's too: the volume tests use msg and refused).
import assert from 'node:assert/strict';
import type { Stack } from './stack';

/** A Nova call at microversion `mv` with `token`: nova(stack)(token, '2.55')('GET', '/flavors'). */
export const novaAt = (stack: () => Stack) => (token: string, mv: string) => (method: string, p: string, body?: unknown) =>
  stack().http(method, `/compute/v2.1${p}`, { token, body, headers: { 'OpenStack-API-Version': `compute ${mv}` } });

/** The message of a Nova fault body ({"badRequest": {"message": …}} and the like). */
export const msg = (body: unknown) => Object.values(body as Record<string, { message: string }>)[0].message;

/** The CLI's option for a compute microversion. */
export const cliVersion = (mv: string) => ['--os-compute-api-version', mv];

/** Asserts a refusal: its status and Nova's words (exact, or a pattern). */
export async function refused(r: Promise<{ status: number; body: unknown; text: string }>, status: number, message: string | RegExp) {
  const x = await r;
  assert.equal(x.status, status, x.text);
  if (typeof message === 'string') assert.equal(msg(x.body), message);
  else assert.match(msg(x.body), message);
}
