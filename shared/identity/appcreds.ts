// Application credentials (keystone/application_credential): a user's delegation of some of their roles
// on one project to a secret an automation holds. Records sit in one partition (identity data is small;
// a user's list is one filtered partition query, an authentication one point read by id). The secret is
// kept only as a scrypt hash (passwords.ts). Names are unique per user, as Keystone's
// duplicate_app_cred_constraint makes them: a second table holds one row per (user, name), created
// before the record, so two concurrent creates cannot both win.
import { createHash, randomBytes } from 'node:crypto';
import { AlreadyExistsError, odata, type Repository, type TableStore } from '../store/tables';
import type { Revocations } from './revocation';

export interface AppCredRecord {
  id: string;
  name: string;
  /** Lower-cased name, for per-user uniqueness without regard to case (as the other identity names). */
  name_key: string;
  description: string | null;
  user_id: string;
  project_id: string;
  secret_hash: string;
  /** ISO time (UTC, milliseconds), or null for never. */
  expires_at: string | null;
  unrestricted: boolean;
  /** The delegated roles, as the creating token listed them (its effective roles, or the asked subset). */
  roles: { id: string; name: string }[];
}

interface NameRow {
  id: string;
}

const PK = 'appcred';
const nameKey = (userId: string) => `name:${userId}`;
// Names may hold characters a RowKey may not ('/', '#', '?'): key the uniqueness row by a digest.
const nameRow = (nameKey: string) => createHash('sha256').update(nameKey, 'utf8').digest('hex');

/** Keystone's generated secret: 64 random bytes, URL-safe base64 without padding (86 characters). */
export function generateSecret(): string {
  return randomBytes(64).toString('base64url');
}

export class NameTakenError extends Error {}

export class AppCredStore {
  private readonly records: Repository<AppCredRecord>;
  private readonly names: Repository<NameRow>;

  constructor(tables: TableStore) {
    this.records = tables.repository<AppCredRecord>('appcreds', ['user_id', 'project_id', 'name_key']);
    this.names = tables.repository<NameRow>('appcrednames');
  }

  get = async (id: string) => (await this.records.get(PK, id))?.value;

  async listForUser(userId: string, name?: string): Promise<AppCredRecord[]> {
    const filter = odata`user_id eq ${userId}` + (name !== undefined ? odata` and name_key eq ${name.toLowerCase()}` : '');
    return (await this.records.list(PK, filter)).map((r) => r.value);
  }

  /** Stores a new credential; NameTakenError when the user already has one of that name. */
  async create(c: AppCredRecord): Promise<void> {
    const pk = nameKey(c.user_id);
    const rk = nameRow(c.name_key);
    try {
      await this.names.create(pk, rk, { id: c.id });
    } catch (e) {
      if (!(e instanceof AlreadyExistsError)) throw e;
      // A row whose credential is gone was left by a create or delete that stopped midway: take it over.
      const held = await this.names.get(pk, rk);
      if (held && (await this.get(held.value.id))) throw new NameTakenError(c.name);
      await this.names.upsert(pk, rk, { id: c.id });
    }
    await this.records.create(PK, c.id, c);
  }

  /** Removes the record (first: authentication reads it), then its name row. False when it was gone. */
  async delete(c: AppCredRecord): Promise<boolean> {
    const gone = await this.records.delete(PK, c.id);
    await this.names.delete(nameKey(c.user_id), nameRow(c.name_key));
    return gone;
  }
}

/**
 * Deletes credentials and ends the tokens made from them: one credential, every credential of a user
 * (user deleted or disabled), or those of a user on one project (a role of theirs there removed) — the
 * three cases keystone/application_credential/core.py deletes them in.
 */
export async function deleteAppCreds(store: AppCredStore, revocations: Revocations, creds: AppCredRecord[]): Promise<void> {
  for (const c of creds) {
    await revocations.revokeAppCred(c.id);
    await store.delete(c);
  }
}

export async function deleteAppCredsOfUser(store: AppCredStore, revocations: Revocations, userId: string, projectId?: string): Promise<void> {
  const creds = (await store.listForUser(userId)).filter((c) => projectId === undefined || c.project_id === projectId);
  await deleteAppCreds(store, revocations, creds);
}
