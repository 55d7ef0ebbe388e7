// Tests of a Block Storage (or Compute) microversion that is built but not advertised yet (a version is advertised
// only once every version below it is honoured too, docs/volumes.md "Microversions"): they run as soon
// as VOLUME's maximum reaches their version, and until then report as skipped, with the reason, rather
// than failing on the 406 every request above the maximum gets.
import { test } from 'node:test';
import { COMPUTE, Microversion, VOLUME } from '../../shared/api/microversion';

/** Whether Jacket advertises this Block Storage microversion. */
export const volumeAdvertises = (v: string) => Microversion.parse(VOLUME.max).atLeast(v);

/** `test`, or a skipped test naming why, for a feature of Block Storage `v`. */
export function volumeTest(v: string): (name: string, fn: () => Promise<void>) => void {
  const skip = volumeAdvertises(v) ? false : `Block Storage ${v} is built but not advertised yet (maximum ${VOLUME.max})`;
  return (name, fn) => {
    void test(name, { skip }, fn);
  };
}

/** Whether Jacket advertises this Compute microversion. */
export const computeAdvertises = (v: string) => Microversion.parse(COMPUTE.max).atLeast(v);

/** `test`, or a skipped test naming why, for a feature of Compute `v` (built before it is advertised). */
export function computeTest(v: string): (name: string, fn: () => Promise<void>) => void {
  const skip = computeAdvertises(v) ? false : `Compute ${v} is built but not advertised yet (maximum ${COMPUTE.max})`;
  return (name, fn) => {
    void test(name, { skip }, fn);
  };
}
