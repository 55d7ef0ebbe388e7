// What a volume type's QoS specs mean on Azure (docs/volumes.md, "QoS specs"). Cinder hands back-end
// QoS (consumer back-end or both) to its driver at create; front-end QoS is the hypervisor's throttle
// (Nova's libvirt), which Azure has no place for. Azure provisions a disk's IOPS and throughput itself
// on Premium SSD v2 and Ultra disks only (diskIOPSReadWrite, diskMBpsReadWrite); every other SKU's
// performance follows its size, so there the specs stay records, as with a Cinder driver without QoS.
import type { Services } from '../../services';
import type { VolumeTypeRecord } from '../types/store';
import { qosStore, type QosSpecsRecord } from './store';

/** The SKUs whose performance Azure lets a disk's creator set. */
export const PROVISIONED_SKUS = ['PremiumV2_LRS', 'UltraSSD_LRS'];

const num = (v: string | null | undefined): number | undefined => {
  if (v === undefined || v === null || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n > 0 ? n : undefined;
};

/**
 * Cinder's QoS keys as Azure's two figures: IOPS from total_iops_sec (else read + write, else the
 * per-GB form times the size), MB/s (Azure's MB is 10^6 bytes) from total_bytes_sec likewise, rounded
 * up. Undefined when the specs name neither or do not reach the back end.
 */
export function diskPerformance(q: QosSpecsRecord | undefined, sku: string, sizeGB: number): { iops?: number; mbps?: number } | undefined {
  if (!q || q.consumer === 'front-end' || !PROVISIONED_SKUS.includes(sku)) return undefined;
  const s = q.specs;
  const pick = (kind: 'iops' | 'bytes') => {
    const total = num(s[`total_${kind}_sec`]);
    if (total !== undefined) return total;
    const r = num(s[`read_${kind}_sec`]);
    const w = num(s[`write_${kind}_sec`]);
    if (r !== undefined && w !== undefined) return r + w;
    const perGb = num(s[`total_${kind}_sec_per_gb`]);
    return perGb !== undefined ? perGb * sizeGB : undefined;
  };
  const iops = pick('iops');
  const bytes = pick('bytes');
  const out = { ...(iops !== undefined ? { iops: Math.ceil(iops) } : {}), ...(bytes !== undefined ? { mbps: Math.ceil(bytes / 1_000_000) } : {}) };
  return Object.keys(out).length ? out : undefined;
}

/** The performance a new volume of this type gets on Azure (one read of its QoS specs, when it has any). */
export async function typePerformance(s: Services, type: VolumeTypeRecord, sku: string, sizeGB: number): Promise<{ iops?: number; mbps?: number } | undefined> {
  if (!type.qos_specs_id || !PROVISIONED_SKUS.includes(sku)) return undefined;
  return diskPerformance((await qosStore(s).get(type.qos_specs_id))?.value, sku, sizeGB);
}
