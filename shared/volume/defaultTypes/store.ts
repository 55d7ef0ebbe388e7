// Per-project default volume types (Block Storage 3.62, cinder/db/api.py project_default_volume_type_*):
// one row per project in the `voldefaulttypes` table, keyed by the project id, as Cinder's
// default_volume_types table has project_id as its primary key (setting again replaces, unsetting is a
// hard delete).
import type { Services } from '../../services';
import { odata } from '../../store/tables';

export interface DefaultTypeRecord {
  project_id: string;
  volume_type_id: string;
}

const PK = 'default';

export function defaultTypeStore(s: Services) {
  const rows = s.tables.repository<DefaultTypeRecord>('voldefaulttypes', ['volume_type_id']);
  return {
    get: async (projectId: string): Promise<DefaultTypeRecord | undefined> => (await rows.get(PK, projectId))?.value,
    list: async (): Promise<DefaultTypeRecord[]> => (await rows.list(PK)).map((r) => r.value),
    /** project_default_volume_type_set: an update when the project has one, else a new row. */
    set: async (projectId: string, volumeTypeId: string): Promise<DefaultTypeRecord> => (await rows.upsert(PK, projectId, { project_id: projectId, volume_type_id: volumeTypeId })).value,
    unset: (projectId: string): Promise<boolean> => rows.delete(PK, projectId),
    /** get_all_projects_with_default_type: the projects whose default is the type. */
    projectsWith: async (volumeTypeId: string): Promise<string[]> => (await rows.list(PK, odata`volume_type_id eq ${volumeTypeId}`)).map((r) => r.value.project_id),
  };
}
