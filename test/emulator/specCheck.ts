/** Validates every response body the emulator recorded against the Azure REST API specs. */
import assert from 'node:assert/strict';
import { SpecValidator } from '../../emulator/spec/validator';
import type { Harness } from './harness';

let validator: SpecValidator | undefined;

export function specValidator(): SpecValidator {
  validator ??= SpecValidator.load();
  return validator;
}

export async function assertRecordedResponsesValid(h: Harness): Promise<void> {
  const recorded = await h.control.requests();
  const report = specValidator().validateRecorded(recorded);
  const msg = report.failures
    .slice(0, 10)
    .map((f) => `${f.method} ${f.path} -> ${f.status} (${f.operationId}): ${f.errors.join('; ')}`)
    .join('\n');
  assert.equal(report.failures.length, 0, `responses that break the spec:\n${msg}`);
  assert.equal(report.unmatched.length, 0, `responses of paths the specs do not describe:\n${report.unmatched.slice(0, 10).join('\n')}`);
}

/**
 * A test file's `after`: every response the harness recorded is checked against the specs, then the
 * harness stops (also when the check fails). Nothing to do if the harness never started.
 */
export async function checkAndStop(h: Harness | undefined): Promise<void> {
  if (!h) return;
  try {
    await assertRecordedResponsesValid(h);
  } finally {
    await h.stop();
  }
}
