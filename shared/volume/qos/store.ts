// QoS specs records (cinder/volume/qos_specs.py, objects/qos_specs.py): one global partition of the
// `volqos` table, a name index (`volqosnames`) for Cinder's unique names; a volume type's association
// is its record's `qos_specs_id` (types/store.ts), as Cinder's volume_types.qos_specs_id column.
import { createHash } from 'node:crypto';
import type { Services } from '../../services';
import type { Stored } from '../../store/tables';

export interface QosSpecsRecord {
  id: string;
  name: string;
  /** Cinder's QoSConsumerValues. */
  consumer: 'front-end' | 'back-end' | 'both';
  specs: Record<string, string | null>;
  created_at: string;
  updated_at: string | null;
}

export const QOS_CONSUMERS = ['back-end', 'front-end', 'both'] as const;
const PK = 'qos';
/** A name's index key: its hash (a name of 255 characters may not fit a Table key as it is). */
const nameKey = (name: string) => createHash('sha256').update(name).digest('hex');

export function qosStore(s: Services) {
  const specs = s.tables.repository<QosSpecsRecord>('volqos');
  const names = s.tables.repository<{ id: string }>('volqosnames');
  return {
    get: (id: string): Promise<Stored<QosSpecsRecord> | undefined> => specs.get(PK, id),
    list: async (): Promise<QosSpecsRecord[]> => (await specs.list(PK)).map((r) => r.value),
    /** The name row first (AlreadyExistsError on a taken name), then the record. */
    async create(r: QosSpecsRecord): Promise<void> {
      await names.create(PK, nameKey(r.name), { id: r.id });
      try {
        await specs.create(PK, r.id, r);
      } catch (e) {
        await names.delete(PK, nameKey(r.name));
        throw e;
      }
    },
    update: (id: string, mutate: (r: QosSpecsRecord) => QosSpecsRecord | undefined) => specs.update(PK, id, mutate),
    /** The record, then its name row (a name is free again only once the record is gone). */
    async remove(r: QosSpecsRecord): Promise<void> {
      await specs.delete(PK, r.id);
      await names.delete(PK, nameKey(r.name));
    },
  };
}
