// A server's user_data as Nova keeps it (instance.user_data, the base64 text as sent), shown to admins
// as OS-EXT-SRV-ATTR:user_data from 2.3. Up to 65535 characters: more than one Table Storage string
// property holds (32K UTF-16 characters, and the record's whole `doc` is one), so a short one rides in
// the server record and a long one is kept in 'serveruserdata' rows of INLINE_MAX characters (partition
// = server id, RowKey = chunk index), read only when a view shows it.
import type { Services } from '../../services';
import type { ServerRecord } from './model';

/** Longest user_data kept in the server record itself. */
const INLINE_MAX = 16000;

export interface UserDataFields {
  /** Inline user_data, or null when there is none. */
  user_data?: string | null;
  /** The user_data is in 'serveruserdata' (it was too long for the record). */
  user_data_external?: boolean;
}

const repo = (s: Services) => s.tables.repository<{ chunk: string }>('serveruserdata');

/** The record's fields for a user_data (null or undefined: none). */
export function userDataFields(userData: string | null | undefined): UserDataFields {
  if (userData === undefined || userData === null) return { user_data: null, user_data_external: false };
  return userData.length <= INLINE_MAX ? { user_data: userData, user_data_external: false } : { user_data: null, user_data_external: true };
}

const chunksOf = (userData: string | null) => (userData !== null && userData.length > INLINE_MAX ? Math.ceil(userData.length / INLINE_MAX) : 0);

async function writeChunks(s: Services, serverId: string, userData: string | null): Promise<number> {
  const n = chunksOf(userData);
  for (let i = 0; i < n; i++) await repo(s).upsert(serverId, String(i), { chunk: userData!.slice(i * INLINE_MAX, (i + 1) * INLINE_MAX) });
  return n;
}

/** Stores user_data for a new server; returns the fields its record carries. */
export async function saveUserData(s: Services, serverId: string, userData: string | undefined): Promise<UserDataFields> {
  await writeChunks(s, serverId, userData ?? null);
  return userDataFields(userData);
}

/**
 * Makes the 'serveruserdata' rows hold a rebuild's user_data (2.57): the chunks of a long one, and none
 * past its end (none at all for a short one or null, which ride in the record). Rewriting in place is
 * safe because the rebuild holds the server's task_state meanwhile.
 */
export async function replaceUserData(s: Services, serverId: string, userData: string | null): Promise<void> {
  const n = await writeChunks(s, serverId, userData);
  for (const row of await repo(s).list(serverId)) if (Number(row.rowKey) >= n) await repo(s).delete(serverId, row.rowKey);
}

/** The user_data of each record (null when none), reading the long ones. */
export async function loadUserData(s: Services, records: ServerRecord[]): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  await Promise.all(
    records.map(async (r) => {
      const f = r as ServerRecord & UserDataFields;
      if (!f.user_data_external) return out.set(r.id, f.user_data ?? null);
      const rows = await repo(s).list(r.id);
      return out.set(
        r.id,
        rows
          .sort((a, b) => Number(a.rowKey) - Number(b.rowKey))
          .map((x) => x.value.chunk)
          .join(''),
      );
    }),
  );
  return out;
}

/** Drops the long user_data of a server whose record is going. */
export async function deleteUserData(s: Services, rec: ServerRecord): Promise<void> {
  if (!(rec as ServerRecord & UserDataFields).user_data_external) return;
  for (const row of await repo(s).list(rec.id)) await repo(s).delete(rec.id, row.rowKey);
}
