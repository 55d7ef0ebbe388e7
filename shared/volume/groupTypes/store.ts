// Group types (Cinder's group_types and group_type_specs tables) in the name-unique store volume types
// use too (namedStore.ts), seeded with Cinder's `default_cgsnapshot_type` (its initial migration
// creates it with consistent_group_snapshot_enabled = "<is> True").
import type { Services } from '../../services';
import type { RequestContext } from '../../http/router';
import { isAdmin } from '../../api/policy';
import { notFound } from '../../http/errors';
import type { Stored } from '../../store/tables';
import { NamedStore, type NamedStoreSpec } from '../namedStore';
import { cinderTime } from '../common';

export interface GroupTypeRecord {
  id: string;
  name: string;
  description: string | null;
  is_public: boolean;
  group_specs: Record<string, string | null>;
  created_at: string;
  updated_at: string | null;
}

export const DEFAULT_CGSNAPSHOT_TYPE = 'default_cgsnapshot_type';

const spec: NamedStoreSpec<GroupTypeRecord> = {
  table: 'volgrouptypes',
  namesTable: 'volgrouptypenames',
  pk: 'grouptype',
  seedSalt: 'jacket-group-type',
  seeds: (_s, seededId) => {
    const now = cinderTime();
    return [
      {
        id: seededId(DEFAULT_CGSNAPSHOT_TYPE),
        name: DEFAULT_CGSNAPSHOT_TYPE,
        description: 'Default group type for migrating cgsnapshot',
        is_public: true,
        group_specs: { consistent_group_snapshot_enabled: '<is> True' },
        created_at: now,
        updated_at: now,
      },
    ];
  },
};

export class GroupTypeStore extends NamedStore<GroupTypeRecord> {
  constructor(s: Services) {
    super(s, spec);
  }
}

export const groupTypeStore = (s: Services) => new GroupTypeStore(s);

/**
 * A group type the caller may see (db _group_type_get: admins any, others the public ones — no group
 * type access API is served, so no project is granted a private one); else Cinder's 404.
 */
export async function visibleGroupType(ctx: RequestContext, id: string): Promise<Stored<GroupTypeRecord>> {
  const t = await groupTypeStore(ctx.services).get(id);
  if (!t || (!t.value.is_public && !isAdmin(ctx.auth!))) throw notFound(`Group type ${id} could not be found.`);
  return t;
}
