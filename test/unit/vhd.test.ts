import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import {
  AZURE_UPLOAD_MAX_BYTES,
  AZURE_UPLOAD_MIN_BYTES,
  MIB,
  VHD_FIXED_DATA_OFFSET,
  VHD_FOOTER_OFFSETS,
  VHD_FOOTER_SIZE,
  VHD_HOST_OS_WINDOWS,
  alignToMiB,
  buildFixedVhdFooter,
  chsGeometry,
  isFixedVhdFooter,
  isValidAzureUploadSize,
  parseVhdFooter,
  vhdBlobSize,
  vhdFooterChecksum,
  type ChsGeometry,
} from '../../shared/storage/vhd';

// Compiled to dist/test/unit/, fixtures stay in the source tree.
const REPO_ROOT = path.resolve(__dirname, '../../..');
const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'vhd');
const readFixture = (name: string): Buffer => readFileSync(path.join(FIXTURES, name));

const GIB = 1024 * MIB;
const TIB = 1024 * GIB;
const UUID = '0123abcd-4567-89ef-0123-456789abcdef';
const T0 = new Date('2024-05-06T07:08:09Z');

const geo = (cylinders: number, heads: number, sectorsPerTrack: number): ChsGeometry => ({
  cylinders,
  heads,
  sectorsPerTrack,
});

function withChecksum(buf: Buffer): Buffer {
  buf.writeUInt32BE(vhdFooterChecksum(buf), VHD_FOOTER_OFFSETS.checksum);
  return buf;
}

describe('constants', () => {
  it('have the documented values', () => {
    assert.equal(VHD_FOOTER_SIZE, 512);
    assert.equal(MIB, 1048576);
    assert.equal(AZURE_UPLOAD_MIN_BYTES, 20 * MIB + 512);
    assert.equal(AZURE_UPLOAD_MAX_BYTES, 32 * TIB + 512);
  });
});

describe('alignToMiB', () => {
  it('rounds up to a whole MiB', () => {
    assert.equal(alignToMiB(0), 0);
    assert.equal(alignToMiB(1), MIB);
    assert.equal(alignToMiB(512), MIB);
    assert.equal(alignToMiB(MIB - 1), MIB);
    assert.equal(alignToMiB(MIB), MIB);
    assert.equal(alignToMiB(MIB + 1), 2 * MIB);
    assert.equal(alignToMiB(20 * MIB + 512), 21 * MIB);
    assert.equal(alignToMiB(32 * TIB), 32 * TIB);
    assert.equal(alignToMiB(32 * TIB - 1), 32 * TIB);
  });
  it('rejects negative, fractional and non-number input', () => {
    for (const bad of [-1, -MIB, 0.5, 1.5, NaN, Infinity, Number.MAX_SAFE_INTEGER + 1]) {
      assert.throws(() => alignToMiB(bad), RangeError, String(bad));
    }
    assert.throws(() => alignToMiB('1' as unknown as number), RangeError);
  });
});

describe('vhdBlobSize', () => {
  it('is the MiB-aligned data plus the 512-byte footer', () => {
    assert.equal(vhdBlobSize(20 * MIB), 20 * MIB + 512);
    assert.equal(vhdBlobSize(20 * MIB - 512), 20 * MIB + 512);
    assert.equal(vhdBlobSize(20 * MIB + 1), 21 * MIB + 512);
    assert.equal(vhdBlobSize(1), MIB + 512);
    assert.equal(vhdBlobSize(0), 512);
    assert.equal(vhdBlobSize(32 * TIB), AZURE_UPLOAD_MAX_BYTES);
  });
  it('rejects invalid sizes', () => {
    assert.throws(() => vhdBlobSize(-512), RangeError);
    assert.throws(() => vhdBlobSize(1.25), RangeError);
  });
});

describe('isValidAzureUploadSize', () => {
  it('accepts whole-MiB data plus footer within 20 MiB + 512 .. 32 TiB + 512', () => {
    assert.equal(isValidAzureUploadSize(20 * MIB + 512), true);
    assert.equal(isValidAzureUploadSize(1 * GIB + 512), true);
    assert.equal(isValidAzureUploadSize(32 * TIB + 512), true);
  });
  it('rejects sizes out of range, unaligned or without footer', () => {
    assert.equal(isValidAzureUploadSize(19 * MIB + 512), false);
    assert.equal(isValidAzureUploadSize(20 * MIB), false);
    assert.equal(isValidAzureUploadSize(20 * MIB + 1024), false);
    assert.equal(isValidAzureUploadSize(32 * TIB + MIB + 512), false);
    assert.equal(isValidAzureUploadSize(1.5), false);
  });
});

describe('chsGeometry', () => {
  const threshold = 65535 * 16 * 63; // sectors
  const cap = 65535 * 16 * 255; // sectors
  const cases: Array<[string, number, ChsGeometry]> = [
    ['zero', 0, geo(0, 4, 17)],
    ['one sector', 512, geo(0, 4, 17)],
    ['1 MiB (17 spt, heads raised to the minimum 4)', MIB, geo(30, 4, 17)],
    ['20 MiB', 20 * MIB, geo(602, 4, 17)],
    ['heads = 5 still fits 17 spt', 40 * MIB, geo(963, 5, 17)],
    ['30 MiB stays at heads 4', 30 * MIB, geo(903, 4, 17)],
    // 34 MiB = 69632 sectors, /17 = 4096 = heads(4) * 1024 exactly: the ">=" switches to 31 spt
    ['34 MiB (cylinderTimesHeads == heads*1024)', 34 * MIB, geo(140, 16, 31)],
    ['34 MiB - 1 sector stays at 17 spt', 34 * MIB - 512, geo(1023, 4, 17)],
    ['200 MiB (heads > 16 -> 31 spt)', 200 * MIB, geo(825, 16, 31)],
    ['1 GiB (63 spt)', GIB, geo(2080, 16, 63)],
    ['127 GiB (255 spt, below cap)', 127 * GIB, geo(65278, 16, 255)],
    ['just below the 255 threshold', (threshold - 1) * 512, geo(65534, 16, 63)],
    ['exactly the 255 threshold', threshold * 512, geo(16191, 16, 255)],
    ['32255 MiB (below threshold)', 32255 * MIB, geo(65533, 16, 63)],
    ['32256 MiB (above threshold)', 32256 * MIB, geo(16191, 16, 255)],
    ['just below the cap', (cap - 1) * 512, geo(65534, 16, 255)],
    ['130558 MiB (largest whole MiB below the cap)', 130558 * MIB, geo(65534, 16, 255)],
    ['130559 MiB (first whole MiB above the cap)', 130559 * MIB, geo(65535, 16, 255)],
    ['exactly the cap', cap * 512, geo(65535, 16, 255)],
    ['above the cap (128 GiB)', 128 * GIB, geo(65535, 16, 255)],
    ['far above the cap (32 TiB)', 32 * TIB, geo(65535, 16, 255)],
  ];
  for (const [name, size, expected] of cases) {
    it(`${name}: ${size} bytes -> ${expected.cylinders}/${expected.heads}/${expected.sectorsPerTrack}`, () => {
      assert.deepEqual(chsGeometry(size), expected);
    });
  }
  it('ignores a partial trailing sector (integer division)', () => {
    assert.deepEqual(chsGeometry(MIB + 511), chsGeometry(MIB));
  });
  it('never addresses more sectors than the disk has, nor exceeds the field widths', () => {
    for (let mib = 1; mib <= 140 * 1024; mib = Math.ceil(mib * 1.07)) {
      const g = chsGeometry(mib * MIB);
      assert.ok(g.cylinders * g.heads * g.sectorsPerTrack <= (mib * MIB) / 512, `${mib} MiB`);
      assert.ok(g.cylinders <= 65535 && g.heads <= 16 && g.sectorsPerTrack <= 255, `${mib} MiB`);
    }
  });
  it('rejects negative or fractional sizes', () => {
    assert.throws(() => chsGeometry(-512), RangeError);
    assert.throws(() => chsGeometry(512.5), RangeError);
  });
});

describe('buildFixedVhdFooter', () => {
  it('lays out every field big-endian per the spec', () => {
    const f = buildFixedVhdFooter({ sizeBytes: 20 * MIB, uniqueId: UUID, timestamp: T0 });
    assert.equal(f.length, 512);
    assert.equal(f.toString('latin1', 0, 8), 'conectix');
    assert.equal(f.readUInt32BE(8), 2);
    assert.equal(f.readUInt32BE(12), 0x00010000);
    assert.equal(f.readBigUInt64BE(16), 0xffffffffffffffffn);
    assert.equal(f.readUInt32BE(24), (T0.getTime() - Date.UTC(2000, 0, 1)) / 1000);
    assert.equal(f.toString('latin1', 28, 32), 'jckt');
    assert.equal(f.readUInt32BE(32), 0x00010000);
    assert.equal(f.toString('latin1', 36, 40), 'Wi2k');
    assert.equal(f.readBigUInt64BE(40), BigInt(20 * MIB));
    assert.equal(f.readBigUInt64BE(48), BigInt(20 * MIB));
    assert.equal(f.readUInt16BE(56), 602);
    assert.equal(f[58], 4);
    assert.equal(f[59], 17);
    assert.equal(f.readUInt32BE(60), 2);
    assert.equal(f.subarray(68, 84).toString('hex'), UUID.replace(/-/g, ''));
    assert.equal(f[84], 0);
    assert.ok(
      f.subarray(85).every((b) => b === 0),
      'reserved bytes are zero',
    );
  });
  it("writes the one's complement byte-sum checksum", () => {
    const f = buildFixedVhdFooter({ sizeBytes: GIB, uniqueId: UUID, timestamp: T0 });
    const copy = Buffer.from(f);
    copy.writeUInt32BE(0, 64);
    let sum = 0;
    for (const b of copy) sum += b;
    assert.equal(f.readUInt32BE(64), ~sum >>> 0);
    assert.equal(vhdFooterChecksum(f), f.readUInt32BE(64));
  });
  it('accepts a 16-byte Buffer as unique id and custom creator fields', () => {
    const id = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    const f = buildFixedVhdFooter({
      sizeBytes: 1024 * 512,
      uniqueId: id,
      timestamp: T0,
      creatorApplication: 'win ',
      creatorVersion: 0x000a0000,
      creatorHostOs: 0x5769326b,
    });
    const p = parseVhdFooter(f);
    assert.equal(p.uniqueId, '00112233-4455-6677-8899-aabbccddeeff');
    assert.equal(p.creatorApplication, 'win ');
    assert.equal(p.creatorVersion, 0x000a0000);
    assert.equal(p.creatorHostOs, VHD_HOST_OS_WINDOWS);
  });
  it('defaults: random uuid, current time, jckt, Wi2k', () => {
    const before = Math.floor(Date.now() / 1000) * 1000;
    const a = parseVhdFooter(buildFixedVhdFooter({ sizeBytes: MIB }));
    const b = parseVhdFooter(buildFixedVhdFooter({ sizeBytes: MIB }));
    assert.notEqual(a.uniqueId, b.uniqueId);
    assert.match(a.uniqueId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.ok(a.timestamp.getTime() >= before && a.timestamp.getTime() <= Date.now());
    assert.equal(a.creatorApplication, 'jckt');
    assert.equal(a.creatorHostOs, 0x5769326b);
    assert.equal(a.checksumValid, true);
  });
  it('truncates the timestamp to whole seconds since 2000-01-01Z', () => {
    const f = buildFixedVhdFooter({ sizeBytes: MIB, timestamp: new Date('2000-01-01T00:00:01.999Z') });
    assert.equal(f.readUInt32BE(24), 1);
    assert.equal(parseVhdFooter(f).timestamp.toISOString(), '2000-01-01T00:00:01.000Z');
  });
  it('supports sizes beyond 4 GiB and up to 32 TiB in the 64-bit size fields', () => {
    const p = parseVhdFooter(buildFixedVhdFooter({ sizeBytes: 32 * TIB, uniqueId: UUID, timestamp: T0 }));
    assert.equal(p.currentSize, 32 * TIB);
    assert.equal(p.originalSize, 32 * TIB);
    assert.deepEqual(p.geometry, geo(65535, 16, 255));
  });
  it('rejects sizes that are not a positive multiple of 512', () => {
    for (const bad of [0, 1, 511, 513, MIB + 1, -512, 512.5, NaN]) {
      assert.throws(() => buildFixedVhdFooter({ sizeBytes: bad }), RangeError, String(bad));
    }
  });
  it('rejects malformed options', () => {
    const sizeBytes = MIB;
    assert.throws(() => buildFixedVhdFooter({ sizeBytes, uniqueId: 'not-a-uuid' }), TypeError);
    assert.throws(() => buildFixedVhdFooter({ sizeBytes, uniqueId: Buffer.alloc(15) }), RangeError);
    assert.throws(() => buildFixedVhdFooter({ sizeBytes, creatorApplication: 'abc' }), RangeError);
    assert.throws(() => buildFixedVhdFooter({ sizeBytes, creatorApplication: 'abcde' }), RangeError);
    assert.throws(() => buildFixedVhdFooter({ sizeBytes, creatorApplication: 'jckä' }), RangeError);
    assert.throws(() => buildFixedVhdFooter({ sizeBytes, creatorVersion: -1 }), RangeError);
    assert.throws(() => buildFixedVhdFooter({ sizeBytes, creatorHostOs: 2 ** 32 }), RangeError);
    assert.throws(() => buildFixedVhdFooter({ sizeBytes, timestamp: new Date('1999-12-31T23:59:59Z') }), RangeError);
    assert.throws(() => buildFixedVhdFooter({ sizeBytes, timestamp: new Date('2137-01-01T00:00:00Z') }), RangeError);
    assert.throws(() => buildFixedVhdFooter({ sizeBytes, timestamp: new Date(NaN) }), RangeError);
  });
});

describe('parseVhdFooter / isFixedVhdFooter', () => {
  it('round-trips every field', () => {
    for (const size of [512, MIB, 20 * MIB, 34 * MIB, 200 * MIB, GIB, 127 * GIB, 2 * TIB, 32 * TIB]) {
      const f = buildFixedVhdFooter({
        sizeBytes: size,
        uniqueId: UUID,
        timestamp: T0,
        creatorApplication: 'abcd',
        creatorVersion: 0x00020003,
        creatorHostOs: 0x4d616320, // "Mac "
      });
      assert.deepEqual(parseVhdFooter(f), {
        cookie: 'conectix',
        features: 2,
        formatVersion: 0x00010000,
        dataOffset: VHD_FIXED_DATA_OFFSET,
        timestamp: T0,
        creatorApplication: 'abcd',
        creatorVersion: 0x00020003,
        creatorHostOs: 0x4d616320,
        originalSize: size,
        currentSize: size,
        geometry: chsGeometry(size),
        diskType: 2,
        checksum: f.readUInt32BE(64),
        checksumValid: true,
        uniqueId: UUID,
        savedState: 0,
      });
      assert.equal(isFixedVhdFooter(f), true);
    }
  });
  it('normalises an upper-case uuid to lower case', () => {
    const f = buildFixedVhdFooter({ sizeBytes: MIB, uniqueId: UUID.toUpperCase() });
    assert.equal(parseVhdFooter(f).uniqueId, UUID);
  });
  it('detects tampering through the checksum (every byte outside the checksum field)', () => {
    const f = buildFixedVhdFooter({ sizeBytes: 20 * MIB, uniqueId: UUID, timestamp: T0 });
    for (let i = 0; i < 512; i++) {
      if (i >= 64 && i < 68) continue;
      const t = Buffer.from(f);
      t[i] = t[i]! ^ 0x01;
      if (i < 8) {
        assert.throws(() => parseVhdFooter(t), /cookie/);
        assert.equal(isFixedVhdFooter(t), false);
        continue;
      }
      assert.equal(isFixedVhdFooter(t), false, `byte ${i}`);
      if (i === 40 || i === 48) {
        // the flipped bit makes a size of 2^56+: not representable, parse refuses it
        assert.throws(() => parseVhdFooter(t), /size .* exceeds the supported range/);
        continue;
      }
      assert.equal(parseVhdFooter(t).checksumValid, false, `byte ${i}`);
    }
  });
  it('detects a tampered checksum field', () => {
    const f = buildFixedVhdFooter({ sizeBytes: 20 * MIB, uniqueId: UUID, timestamp: T0 });
    f.writeUInt32BE((f.readUInt32BE(64) + 1) >>> 0, 64);
    assert.equal(parseVhdFooter(f).checksumValid, false);
    assert.equal(isFixedVhdFooter(f), false);
  });
  it('a changed size with a recomputed checksum is valid again', () => {
    const f = buildFixedVhdFooter({ sizeBytes: 20 * MIB, uniqueId: UUID, timestamp: T0 });
    f.writeBigUInt64BE(BigInt(21 * MIB), 48);
    assert.equal(isFixedVhdFooter(f), false);
    withChecksum(f);
    assert.equal(isFixedVhdFooter(f), true);
    assert.equal(parseVhdFooter(f).currentSize, 21 * MIB);
  });
  it('isFixedVhdFooter is false for a dynamic disk type with a valid checksum', () => {
    const f = buildFixedVhdFooter({ sizeBytes: 20 * MIB, uniqueId: UUID, timestamp: T0 });
    f.writeUInt32BE(3, 60);
    withChecksum(f);
    assert.equal(parseVhdFooter(f).diskType, 3);
    assert.equal(parseVhdFooter(f).checksumValid, true);
    assert.equal(isFixedVhdFooter(f), false);
  });
  it('throws a clear error on a wrong length', () => {
    for (const len of [0, 511, 513, 1024]) {
      assert.throws(() => parseVhdFooter(Buffer.alloc(len)), /exactly 512 bytes, got \d+ bytes/);
      assert.throws(() => isFixedVhdFooter(Buffer.alloc(len)), /exactly 512 bytes/);
    }
  });
  it('throws a clear error on a wrong cookie; isFixedVhdFooter returns false', () => {
    const zero = Buffer.alloc(512);
    assert.throws(() => parseVhdFooter(zero), /not a VHD footer: cookie/);
    assert.equal(isFixedVhdFooter(zero), false);
    const f = buildFixedVhdFooter({ sizeBytes: MIB });
    f.write('cxsparse', 0, 'latin1'); // the dynamic header cookie is not a footer
    assert.throws(() => parseVhdFooter(f), /"cxsparse"/);
  });
  it('throws on a size field beyond the safe integer range', () => {
    const f = buildFixedVhdFooter({ sizeBytes: MIB });
    f.writeBigUInt64BE(0xffffffffffffffffn, 48);
    assert.throws(() => parseVhdFooter(withChecksum(f)), /current size .* exceeds/);
  });
});

/**
 * Reference footers written by qemu-img 7.2 (see test/fixtures/vhd/README.md).
 * name: fixture suffix; size: raw input size. chsSize/chsGeometry: what qemu writes without
 * force_size (size rounded up to a CHS geometry found by qemu's calculate_geometry, which is the
 * spec's algorithm). With force_size qemu keeps the exact size but always writes the maximum
 * geometry 65535/16/255 (creator "qem2"), which is NOT the spec's geometry.
 */
const QEMU_CASES: Array<{
  name: string;
  size: number;
  chsSize: number;
  chsGeometry: ChsGeometry;
  branch: string;
  /** qemu (no force_size) writes a geometry that differs from the spec's for its own size. */
  qemuChsQuirk?: ChsGeometry;
}> = [
  { name: '1M', size: MIB, chsSize: 1079296, chsGeometry: geo(31, 4, 17), branch: '17 spt, heads 4 minimum' },
  { name: '20M', size: 20 * MIB, chsSize: 20994048, chsGeometry: geo(603, 4, 17), branch: '17 spt' },
  { name: '34M', size: 34 * MIB, chsSize: 35686400, chsGeometry: geo(820, 5, 17), branch: 'cth == heads*1024 edge' },
  { name: '40M', size: 40 * MIB, chsSize: 41953280, chsGeometry: geo(964, 5, 17), branch: '17 spt, 5 heads' },
  { name: '200M', size: 200 * MIB, chsSize: 209764352, chsGeometry: geo(826, 16, 31), branch: '31 spt' },
  { name: '1G', size: GIB, chsSize: 1073995776, chsGeometry: geo(2081, 16, 63), branch: '63 spt' },
  { name: '32255M', size: 32255 * MIB, chsSize: 33821835264, chsGeometry: geo(65534, 16, 63), branch: 'below 255 threshold' },
  { name: '32256M', size: 32256 * MIB, chsSize: 33824440320, chsGeometry: geo(16192, 16, 255), branch: 'above 255 threshold' },
  { name: '127G', size: 127 * GIB, chsSize: 136365219840, chsGeometry: geo(65279, 16, 255), branch: '255 spt below cap' },
  {
    name: '130558M',
    size: 130558 * MIB,
    chsSize: 130558 * MIB,
    chsGeometry: geo(65535, 16, 255),
    branch: 'largest whole MiB below the cap',
    // 16 sectors short of the cap: the spec gives 65534/16/255, qemu's upward search reaches the
    // maximum geometry and then keeps the exact size (its "> 127 GB" rule).
    qemuChsQuirk: geo(65534, 16, 255),
  },
  { name: '130559M', size: 130559 * MIB, chsSize: 130559 * MIB, chsGeometry: geo(65535, 16, 255), branch: 'first whole MiB above the cap' },
  { name: '1T', size: TIB, chsSize: TIB, chsGeometry: geo(65535, 16, 255), branch: 'far above the cap' },
];

/** Build our footer with the fixture's timestamp, uuid and creator fields. */
function oursLike(fixture: ReturnType<typeof parseVhdFooter>, sizeBytes: number): Buffer {
  return buildFixedVhdFooter({
    sizeBytes,
    timestamp: fixture.timestamp,
    uniqueId: fixture.uniqueId,
    creatorApplication: fixture.creatorApplication,
    creatorVersion: fixture.creatorVersion,
    creatorHostOs: fixture.creatorHostOs,
  });
}

function assertCommonFixedFields(p: ReturnType<typeof parseVhdFooter>, buf: Buffer): void {
  assert.equal(p.cookie, 'conectix');
  assert.equal(p.features, 2);
  assert.equal(p.formatVersion, 0x00010000);
  assert.equal(p.dataOffset, VHD_FIXED_DATA_OFFSET);
  assert.equal(p.diskType, 2);
  assert.equal(p.checksumValid, true);
  assert.equal(p.savedState, 0);
  assert.equal(p.creatorVersion, 0x00050003);
  assert.equal(p.creatorHostOs, VHD_HOST_OS_WINDOWS);
  assert.equal(isFixedVhdFooter(buf), true);
  assert.ok(
    buf.subarray(85).every((b) => b === 0),
    'reserved bytes are zero',
  );
}

describe('qemu-img reference footers (subformat=fixed,force_size)', () => {
  for (const c of QEMU_CASES) {
    it(`${c.name} (${c.branch})`, () => {
      const fixture = readFixture(`qemu-force-${c.name}.bin`);
      assert.equal(fixture.length, 512);
      const q = parseVhdFooter(fixture);
      assertCommonFixedFields(q, fixture);
      assert.equal(q.creatorApplication, 'qem2');
      assert.equal(q.originalSize, c.size);
      assert.equal(q.currentSize, c.size);
      // qemu's force_size quirk: always the maximum CHS geometry, whatever the size.
      assert.deepEqual(q.geometry, geo(65535, 16, 255));

      const ours = oursLike(q, c.size);
      const p = parseVhdFooter(ours);
      assert.deepEqual(p.geometry, chsGeometry(c.size), 'ours follows the spec geometry');
      // Field by field, everything but geometry and (hence) checksum is identical.
      assert.deepEqual({ ...p, geometry: q.geometry, checksum: q.checksum }, q);
      // Byte for byte: only the geometry (56..59) and checksum (64..67) bytes may differ;
      // giving ours qemu's geometry and recomputing the checksum reproduces qemu's footer exactly.
      for (let i = 0; i < 512; i++) {
        if ((i >= 56 && i < 60) || (i >= 64 && i < 68)) continue;
        assert.equal(ours[i], fixture[i], `byte ${i}`);
      }
      const patched = Buffer.from(ours);
      fixture.copy(patched, 56, 56, 60);
      assert.deepEqual(withChecksum(patched), fixture);
      // Geometry only matches qemu's where the spec's geometry is the maximum too (the cap).
      const specIsMax = c.size >= 130559 * MIB; // 130559M, 1T: at or above the cap
      assert.equal(ours.equals(fixture), specIsMax);
    });
  }
});

describe('qemu-img reference footers (subformat=fixed, CHS-rounded size)', () => {
  for (const c of QEMU_CASES) {
    it(`${c.name} (${c.branch}): ours at qemu's rounded size matches`, () => {
      const fixture = readFixture(`qemu-chs-${c.name}.bin`);
      assert.equal(fixture.length, 512);
      const q = parseVhdFooter(fixture);
      assertCommonFixedFields(q, fixture);
      assert.equal(q.creatorApplication, 'qemu');
      assert.equal(q.currentSize, c.chsSize);
      assert.equal(q.originalSize, c.chsSize);
      assert.deepEqual(q.geometry, c.chsGeometry);
      const ours = oursLike(q, q.currentSize);
      if (c.qemuChsQuirk) {
        assert.deepEqual(chsGeometry(q.currentSize), c.qemuChsQuirk);
        const patched = Buffer.from(ours);
        fixture.copy(patched, 56, 56, 60);
        assert.deepEqual(withChecksum(patched), fixture);
        return;
      }
      // qemu's calculate_geometry is the spec's algorithm: ours gives the same geometry for that size.
      assert.deepEqual(chsGeometry(q.currentSize), q.geometry);
      assert.deepEqual(ours, fixture);
    });
  }
});
