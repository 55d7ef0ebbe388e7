// Cinder has no response schemas upstream; its API reference samples (cinder-v3-samples) are the
// oracle. assertCinderShape checks, recursively, that a body has exactly the sample's keys with the
// same JSON types: arrays are compared element-wise against the sample's first element, and a sample
// null accepts null or a string (Cinder's nullable strings: description, snapshot_id, updated_at...).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { REFERENCE } from './paths';

const SAMPLES = path.join(REFERENCE, 'openstack/cinder-v3-samples');

export function cinderSample(file: string): unknown {
  return JSON.parse(readFileSync(path.join(SAMPLES, file), 'utf8'));
}

const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

export interface ShapeOptions {
  /** Keys the sample shows that this caller's policy hides (e.g. admin-only attributes for a member). */
  hidden?: string[];
  /** Maps whose keys are data, not fields (metadata, extra_specs): only their being objects is checked. */
  freeMaps?: string[];
}

function compare(sample: unknown, body: unknown, at: string, o: Required<ShapeOptions>): void {
  const sk = kind(sample);
  const bk = kind(body);
  if (sk === 'null') {
    assert.ok(bk === 'null' || bk === 'string', `${at}: sample is null, got ${bk}`);
    return;
  }
  assert.equal(bk, sk, `${at}: expected ${sk} like the sample, got ${bk}`);
  if (sk === 'array') {
    const first = (sample as unknown[])[0];
    if (first !== undefined) (body as unknown[]).forEach((b, i) => compare(first, b, `${at}[${i}]`, o));
    return;
  }
  if (sk !== 'object') return;
  const key = at.split('.').pop() ?? '';
  if (o.freeMaps.includes(key)) {
    for (const [k, v] of Object.entries(body as object)) assert.equal(typeof v, 'string', `${at}.${k}: map values are strings`);
    return;
  }
  const s = sample as Record<string, unknown>;
  const b = body as Record<string, unknown>;
  const want = Object.keys(s)
    .filter((k) => !o.hidden.includes(k))
    .sort();
  assert.deepEqual(Object.keys(b).sort(), want, `${at}: keys differ from the sample`);
  for (const k of want) compare(s[k], b[k], `${at}.${k}`, o);
}

/** Asserts `body` has the shape of the sample file (relative to cinder-v3-samples). */
export function assertCinderShape(sampleFile: string, body: unknown, opts: ShapeOptions = {}): void {
  compare(cinderSample(sampleFile), body, sampleFile, { hidden: opts.hidden ?? [], freeMaps: opts.freeMaps ?? ['metadata', 'extra_specs'] });
}
