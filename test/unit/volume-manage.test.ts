// The manageable list's entries (shared/volume/manage/service.ts) from an inventory listing: Jacket's
// disks left out, a disk a VM holds or Azure is busy with not safe to manage ('volume in use'), one
// still provisioning not ready.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isJacketDisk, manageableVolumes } from '../../shared/volume/manage/service';
import type { InventoryItem } from '../../shared/azure/inventory';
import type { Services } from '../../shared/services';

const stub = (items: InventoryItem[]) =>
  ({
    azure: {
      inventory: {
        async *list(kind: string) {
          assert.equal(kind, 'disk');
          yield* items;
        },
      },
    },
  }) as unknown as Services;

const disk = (name: string, more: Partial<InventoryItem> = {}): InventoryItem => ({ kind: 'disk', name, tags: {}, provisioningState: 'Succeeded', sizeGB: 4, ...more });

test("Jacket's disks: any jacket tag, or a server's OS disk named by its UUID (or a rebuild's)", () => {
  const id = '0b7e5a52-6f7d-4c1e-9d0a-6a3f2d1e8c44';
  assert.equal(isJacketDisk('data', {}), false);
  assert.equal(isJacketDisk('data', { jacket: 'volume' }), true);
  assert.equal(isJacketDisk(id, {}), true);
  assert.equal(isJacketDisk(`${id}-rk3j2`, {}), true);
  // a volume-<uuid> disk that lost Jacket's tags (an unmanaged volume) is manageable again
  assert.equal(isJacketDisk(`volume-${id}`, {}), false);
});

test('entries: in use, busy, not ready, and Jacket disks left out', async () => {
  const out = await manageableVolumes(
    stub([
      disk('free'),
      disk('attached', { heldBy: '/subscriptions/x/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1', diskState: 'Attached' }),
      disk('exported', { diskState: 'ActiveSAS' }),
      disk('creating', { provisioningState: 'Creating' }),
      disk('jackets', { tags: { jacket: 'volume' } }),
    ]),
  );
  assert.deepEqual(
    out.map((e) => [e.reference['source-name'], e.size, e.safe_to_manage, e.reason_not_safe]),
    [
      ['free', 4, true, null],
      ['attached', 4, false, 'volume in use'],
      ['exported', 4, false, 'volume in use'],
      ['creating', 4, false, 'volume not ready'],
    ],
  );
  assert.ok(out.every((e) => e.cinder_id === null && e.extra_info === null));
});
