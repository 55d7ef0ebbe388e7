// Units of backups and Cinder quotas that need no stack: the range arithmetic and sector comparison
// behind incremental copies, the operator's quota defaults section, and the extension list's agreement
// with Cinder's own descriptions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WINDOW as CHUNK, changedRuns, mergeRanges, nextChunk, windowsOf } from '../../shared/azure/diskCopy';
import { CINDER_DEFAULTS, configuredVolumeDefaults } from '../../shared/volume/quotas/engine';
import { EXTENSIONS } from '../../shared/volume/zonesExtensions';
import type { JacketConfig } from '../../shared/config';
import { cinderSample } from '../support/cinderShapes';

test('page ranges are merged, clipped to the data and cut into 4 MiB windows', () => {
  assert.deepEqual(
    mergeRanges(
      [
        { start: 1024, end: 2048 },
        { start: 0, end: 512 },
        { start: 512, end: 1024 },
        { start: 9000, end: 20000 },
      ],
      10000,
    ),
    [
      { start: 0, end: 2048 },
      { start: 9000, end: 10000 },
    ],
  );
  assert.deepEqual(mergeRanges([{ start: 5, end: 5 }], 10), []);
  assert.deepEqual(
    windowsOf([
      { start: 0, end: 512 },
      { start: 100, end: 200 },
      { start: CHUNK + 1, end: 2 * CHUNK + 1 },
    ]),
    [
      { start: 0, end: CHUNK },
      { start: CHUNK, end: 2 * CHUNK },
      { start: 2 * CHUNK, end: 3 * CHUNK },
    ],
  );
});

test('the next chunk to copy is the first chunk-aligned span holding data at or after the offset', () => {
  const MiB = 1024 ** 2;
  const data = [
    { start: 9 * MiB, end: 9 * MiB + 512 },
    { start: 2 * MiB, end: 3 * MiB },
    { start: 30 * MiB, end: 31 * MiB },
  ];
  assert.deepEqual(nextChunk(data, 0, 4 * MiB, 32 * MiB), { start: 0, end: 4 * MiB });
  // after the first chunk, the empty chunk 4-8 MiB is skipped
  assert.deepEqual(nextChunk(data, 4 * MiB, 4 * MiB, 32 * MiB), { start: 8 * MiB, end: 12 * MiB });
  assert.deepEqual(nextChunk(data, 12 * MiB, 4 * MiB, 32 * MiB), { start: 28 * MiB, end: 32 * MiB });
  assert.equal(nextChunk(data, 32 * MiB, 4 * MiB, 32 * MiB), undefined);
  // the last chunk is clipped to the data size; a range reaching past it is clipped too
  assert.deepEqual(nextChunk([{ start: 0, end: 100 * MiB }], 16 * MiB, 16 * MiB, 20 * MiB), { start: 16 * MiB, end: 20 * MiB });
  assert.equal(nextChunk([], 0, 4 * MiB, 8 * MiB), undefined);
});

test('only differing sectors are written; sectors that became zero are cleared', () => {
  const prev = Buffer.alloc(512 * 6);
  const next = Buffer.alloc(512 * 6);
  prev.fill(1, 0, 512); // sector 0: data that is gone now -> clear
  next.fill(2, 512 * 2, 512 * 4); // sectors 2-3: new data -> one write
  prev.fill(3, 512 * 5); // sector 5: unchanged
  next.fill(3, 512 * 5);
  assert.deepEqual(changedRuns(prev, next), [
    { op: 'clear', start: 0, end: 512 },
    { op: 'write', start: 1024, end: 2048 },
  ]);
  assert.deepEqual(changedRuns(next, next), []);
});

test("catalog.volumeQuotas: Cinder's defaults when absent, validated when present", () => {
  const cfg = (catalog: Record<string, unknown>) => ({ catalog }) as unknown as JacketConfig;
  assert.deepEqual(configuredVolumeDefaults(cfg({})), CINDER_DEFAULTS);
  assert.equal(configuredVolumeDefaults(cfg({ volumeQuotas: { volumes: 3, gigabytes: -1 } })).volumes, 3);
  assert.throws(() => configuredVolumeDefaults(cfg({ volumeQuotas: { disks: 1 } })), /unknown quota resource "disks"/);
  assert.throws(() => configuredVolumeDefaults(cfg({ volumeQuotas: { volumes: -5 } })), /integer from -1/);
  assert.throws(() => configuredVolumeDefaults(cfg({ volumeQuotas: [] })), /must be an object/);
});

test("each served extension reads as in Cinder's own list", () => {
  const upstream = new Map((cinderSample('extensions/extensions-list-response.json') as { extensions: { alias: string }[] }).extensions.map((e) => [e.alias, e]));
  for (const e of EXTENSIONS) assert.deepEqual(e, upstream.get(e.alias), e.alias);
});
