// The emulator's fixed-VHD footer (emulator/storage/vhd.ts) against the product's
// (shared/storage/vhd.ts): two implementations written apart from the VHD specification must write
// the same bytes and accept each other's footers, and both must accept qemu-img's.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FOOTER_SIZE, footerDataSize, footerGeometry, isVhdFooter, vhdFooter } from '../../emulator/storage/vhd';
import { buildFixedVhdFooter, isFixedVhdFooter, parseVhdFooter } from '../../shared/storage/vhd';
import { REPO_ROOT } from '../support/paths';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const T = new Date('2025-03-04T05:06:07Z');
const ID = Buffer.from('00112233445566778899aabbccddeeff', 'hex');

/** Sizes that take each branch of the spec's CHS calculation, with the geometry qemu-img writes for them. */
const CASES: Array<{ size: number; geometry: [number, number, number]; branch: string }> = [
  { size: 1079296, geometry: [31, 4, 17], branch: '17 sectors/track, 4 heads minimum' },
  { size: 20994048, geometry: [603, 4, 17], branch: '17 sectors/track' },
  { size: 35686400, geometry: [820, 5, 17], branch: 'cylinders×heads at heads×1024' },
  { size: 209764352, geometry: [826, 16, 31], branch: '31 sectors/track' },
  { size: 1073995776, geometry: [2081, 16, 63], branch: '63 sectors/track' },
  { size: 33821835264, geometry: [65534, 16, 63], branch: 'just below the 255 threshold' },
  { size: 33824440320, geometry: [16192, 16, 255], branch: '255 sectors/track' },
  { size: 136365219840, geometry: [65279, 16, 255], branch: '255 below the cap' },
  { size: 1024 * GiB, geometry: [65535, 16, 255], branch: 'capped' },
];

const productFooter = (size: number) => buildFixedVhdFooter({ sizeBytes: size, timestamp: T, uniqueId: ID, creatorApplication: 'jemu', creatorVersion: 0x00010000, creatorHostOs: 0x5769326b });

describe('emulator VHD footer vs the product footer', () => {
  for (const c of CASES) {
    it(`${c.size} bytes (${c.branch}): same bytes, each accepts the other's`, () => {
      const emu = vhdFooter(c.size, T, ID);
      const product = productFooter(c.size);
      assert.equal(emu.length, FOOTER_SIZE);
      assert.deepEqual(footerGeometry(emu), { cylinders: c.geometry[0], heads: c.geometry[1], sectorsPerTrack: c.geometry[2] });
      assert.equal(emu.toString('hex'), product.toString('hex'));

      assert.equal(isVhdFooter(product), true, 'the emulator accepts the product footer');
      assert.equal(footerDataSize(product), c.size);
      assert.equal(isFixedVhdFooter(emu), true, 'the product accepts the emulator footer');
      const parsed = parseVhdFooter(emu);
      assert.equal(parsed.checksumValid, true);
      assert.equal(parsed.currentSize, c.size);
      assert.equal(parsed.originalSize, c.size);
      assert.equal(parsed.timestamp.getTime(), T.getTime());
    });
  }

  it('both refuse a footer with a wrong checksum, cookie or disk type', () => {
    const good = vhdFooter(20 * MiB, T, ID);
    const corrupt = (at: number) => {
      const b = Buffer.from(good);
      b[at] = b[at]! ^ 0x01;
      return b;
    };
    for (const [what, bad] of [
      ['checksum', corrupt(64)],
      ['cookie', corrupt(0)],
      ['disk type (3 = dynamic)', corrupt(63)],
      ['current size', corrupt(55)],
    ] as const) {
      assert.equal(isVhdFooter(bad), false, `emulator: ${what}`);
      assert.equal(isFixedVhdFooter(bad), false, `product: ${what}`);
    }
    assert.equal(isVhdFooter(Buffer.alloc(0)), false, 'a blob shorter than a footer');
  });

  it("accepts qemu-img's fixed footers (test/fixtures/vhd)", () => {
    for (const name of ['1M', '20M', '200M', '1G', '32256M', '1T']) {
      for (const kind of ['chs', 'force']) {
        const f = readFileSync(path.join(REPO_ROOT, 'test/fixtures/vhd', `qemu-${kind}-${name}.bin`));
        assert.equal(isVhdFooter(f), true, `qemu-${kind}-${name}`);
        assert.equal(footerDataSize(f), parseVhdFooter(f).currentSize);
      }
    }
  });

  it('refuses sizes that are not whole sectors', () => {
    assert.throws(() => vhdFooter(0), RangeError);
    assert.throws(() => vhdFooter(MiB + 1), RangeError);
  });
});
