// Nova's os-server-password (nova/api/openstack/compute/server_password.py): the password a guest
// posted, encrypted with the server's SSH public key, to the metadata service, for the owner to read
// and decrypt with the private key; DELETE forgets it (the guest's password itself is unchanged).
// Jacket runs no metadata service, so nothing posts one: GET answers {"password": ""} unless a row
// exists. Table 'serverpasswords' (PartitionKey = project, RowKey = server id) would hold only that
// encrypted blob, never a plaintext password; the adminPass given at create goes to Azure only.
import type { RequestContext, Route } from '../../../http/router';
import type { Services } from '../../../services';
import { json, noContent } from '../../../http/respond';
import { computeRoute } from '../../common';
import { visibleServer, type ServerRecord } from '../model';

interface PasswordRow {
  /** Base64 of the guest's RSA-encrypted password, as the guest posted it. */
  encrypted: string;
}

const repo = (s: Services) => s.tables.repository<PasswordRow>('serverpasswords');

/** What a metadata service's password POST would store (Nova's convert_password); used by tests only. */
export async function storeEncryptedPassword(s: Services, srv: Pick<ServerRecord, 'id' | 'project_id'>, encrypted: string): Promise<void> {
  await repo(s).upsert(srv.project_id, srv.id, { encrypted });
}

async function show(ctx: RequestContext) {
  const srv = (await visibleServer(ctx)).value;
  const row = await repo(ctx.services).get(srv.project_id, srv.id);
  return json({ password: row?.value.encrypted ?? '' });
}

async function clear(ctx: RequestContext) {
  const srv = (await visibleServer(ctx)).value;
  await repo(ctx.services).delete(srv.project_id, srv.id);
  return noContent();
}

const P = 'os_compute_api:os-server-password:';

export const serverPasswordRoutes: Route[] = [
  computeRoute('server-password-show', 'GET', '/servers/{server_id}/os-server-password', `${P}show`, show),
  computeRoute('server-password-clear', 'DELETE', '/servers/{server_id}/os-server-password', `${P}clear`, clear),
];
