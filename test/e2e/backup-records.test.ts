// Backup export/import records end to end (Cinder's export_record / import_record): the real
// `openstack volume backup record export` and HTTP against the ARM emulator, known bytes through
// the backup blob and back out of volumes restored from imported records; a blob two records share is
// kept until the last of them is deleted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { BlobServiceClient } from '@azure/storage-blob';
import { diskBytes } from '../support/diskBytes';
import type { Stack } from '../support/stack';
import { startArmStack, waitFor } from '../support/armStack';
import { tokenProjectId, type ProjectUser } from '../support/fixtures';
import { assertCinderShape } from '../support/cinderShapes';
import type { EmulatorControl } from '../../emulator/control';
import { createAzureClients, type AzureClients } from '../../shared/azure/clients';

let stack: Stack;
let control: EmulatorControl;
let arm: AzureClients;
let blobs: BlobServiceClient;
let alice: ProjectUser;
let tA: string, tAdmin: string, adminProject: string;

before(async () => {
  ({ stack, control } = await startArmStack({ asyncDelayMs: 100 }));
  arm = createAzureClients(stack.cloud.services.config);
  blobs = BlobServiceClient.fromConnectionString(stack.cloud.azurite.connectionString);
  alice = await stack.makeProjectUser('rec-a', 'recalice');
  [tA, tAdmin] = await Promise.all([stack.token(alice), stack.token()]);
  adminProject = await tokenProjectId(stack, tAdmin);
});
after(async () => {
  control?.close();
  await stack?.stop();
});

const asAlice = (method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${alice.projectId}${p}`, { token: tA, body });
const asAdmin = (method: string, p: string, body?: unknown) => stack.http(method, `/volume/v3/${adminProject}${p}`, { token: tAdmin, body });
const bad = (message: string) => ({ badRequest: { code: 400, message } });
const waitStatus = (as: typeof asAlice, kind: 'volume' | 'backup', id: string, want: string) =>
  waitFor(`${kind} ${id} ${want}`, async () => {
    const r = await as('GET', `/${kind}s/${id}`);
    if (kind === 'backup' && r.body?.backup?.status === 'error' && want !== 'error') throw new Error(`backup ${id} failed: ${r.body.backup.fail_reason}`);
    return r.body?.[kind]?.status === want ? (r.body[kind] as Record<string, any>) : undefined;
  });
const waitGone = (as: typeof asAlice, p: string) => waitFor(`${p} gone`, async () => ((await as('GET', p)).status === 404 ? true : undefined));
const blobExists = (name: string) => blobs.getContainerClient('backups').getPageBlobClient(name).exists();
const pattern = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + 3) % 251));
const importBody = (backup_service: string, backup_url: string) => ({ 'backup-record': { backup_service, backup_url } });
const withId = (url: string, id: string) => Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(url, 'base64').toString()), id })).toString('base64');

/** Restores backup `id` (as the admin) to a new volume and reads the first bytes of its disk. */
async function restoredBytes(id: string, n: number): Promise<Buffer> {
  const r = await asAdmin('POST', `/backups/${id}/restore`, { restore: { name: `from-${id.slice(0, 8)}` } });
  assert.equal(r.status, 202, r.text);
  await waitStatus(asAdmin, 'volume', r.body.restore.volume_id, 'available');
  await waitStatus(asAdmin, 'backup', id, 'available');
  return diskBytes(arm.compute, control, blobs).readDisk(`volume-${r.body.restore.volume_id}`, 0, n);
}

test('backup record export/import: Cinder record, refusals, import under a new id and after the record is gone; the shared blob kept to the last', async () => {
  const DATA = pattern(4096);
  const v = await asAlice('POST', '/volumes', { volume: { size: 1, name: 'src' } });
  await waitStatus(asAlice, 'volume', v.body.volume.id, 'available');
  await diskBytes(arm.compute, control, blobs).writeDisk(`volume-${v.body.volume.id}`, 0, DATA);
  const b = await asAlice('POST', '/backups', { backup: { volume_id: v.body.volume.id, name: 'b1', description: 'to export' } });
  const bid = b.body.backup.id as string;
  await waitStatus(asAlice, 'backup', bid, 'available');

  // Admin only (backup:export-import, backup:backup-import).
  const mExport = await asAlice('GET', `/backups/${bid}/export_record`);
  assert.equal(mExport.status, 403, mExport.text);
  assert.deepEqual(mExport.body, { forbidden: { code: 403, message: "Policy doesn't allow backup:export-import to be performed." } });

  // Export through the CLI and over HTTP: Cinder's record.
  const cli = await stack.oscJson<{ backup_service: string; backup_url: string }>(['volume', 'backup', 'record', 'export', bid]);
  const http = await asAdmin('GET', `/backups/${bid}/export_record`);
  assert.equal(http.status, 200, http.text);
  assertCinderShape('backup-record-export-response.json', http.body);
  assert.deepEqual(cli, http.body['backup-record']);
  const rec = JSON.parse(Buffer.from(cli.backup_url, 'base64').toString());
  assert.equal(rec.id, bid);
  assert.equal(rec.size, 1);
  assert.equal(rec.display_name, 'b1');
  assert.equal(rec.display_description, 'to export');
  assert.equal(rec.service, cli.backup_service);
  assert.deepEqual(rec.driver_info.blob, `backup-${bid}.vhd`);

  const mImport = await asAlice('POST', '/backups/import_record', importBody(cli.backup_service, cli.backup_url));
  assert.equal(mImport.status, 403, mImport.text);
  assert.deepEqual(mImport.body, { forbidden: { code: 403, message: "Policy doesn't allow backup:backup-import to be performed." } });
  // The backup still exists: Cinder's 400, nothing made.
  const dup = await asAdmin('POST', '/backups/import_record', importBody(cli.backup_service, cli.backup_url));
  assert.deepEqual(dup.body, bad('Invalid backup: Backup already exists in database.'));
  // `openstack volume backup record import` cannot reach import_record: the SDK (Backup.import_record)
  // POSTs to /backups/export_record, with that path as the backup_url; no Cinder route answers it.
  const cliImport = await stack.osc(['volume', 'backup', 'record', 'import', cli.backup_service, cli.backup_url]);
  assert.notEqual(cliImport.code, 0);
  assert.match(cliImport.stderr, /backups\/export_record/);
  // Unreadable records.
  const notJson = await asAdmin('POST', '/backups/import_record', importBody(cli.backup_service, Buffer.from('not json').toString('base64')));
  assert.deepEqual(notJson.body, bad("Invalid input received: Can't parse backup record."));
  const noId = await asAdmin('POST', '/backups/import_record', importBody(cli.backup_service, Buffer.from(JSON.stringify({ size: 1 })).toString('base64')));
  assert.deepEqual(noId.body, bad('Invalid input received: Provided backup record is missing an id'));
  const noSize = await asAdmin('POST', '/backups/import_record', importBody(cli.backup_service, Buffer.from(JSON.stringify({ id: randomUUID() })).toString('base64')));
  assert.deepEqual(noSize.body, bad('Invalid input received: Provided backup record is missing size attribute'));
  assert.equal((await asAdmin('POST', '/backups/import_record', importBody(cli.backup_service, '***'))).status, 400);
  assert.equal((await asAdmin('GET', '/backups/detail?all_tenants=1')).body.backups.length, 1);

  // Another backup service: created, then in error with the manager's reason.
  const otherSvc = randomUUID();
  const wrongSvc = await asAdmin('POST', '/backups/import_record', importBody('cinder.backup.drivers.swift', withId(cli.backup_url, otherSvc)));
  assert.equal(wrongSvc.status, 201, wrongSvc.text);
  const ws = (await asAdmin('GET', `/backups/${otherSvc}`)).body.backup;
  assert.equal(ws.status, 'error');
  assert.equal(ws.fail_reason, 'Import record failed, cannot find backup service to perform the import. Request service cinder.backup.drivers.swift.');
  assert.equal((await asAdmin('DELETE', `/backups/${otherSvc}`)).status, 202);
  await waitGone(asAdmin, `/backups/${otherSvc}`);
  assert.equal(await blobExists(`backup-${bid}.vhd`), true, 'a failed import owns no blob');

  // Import under a new id (as tempest does): 201 with the summary, the record in the admin's project.
  const sid = randomUUID();
  const imp = await asAdmin('POST', '/backups/import_record', importBody(cli.backup_service, withId(cli.backup_url, sid)));
  assert.equal(imp.status, 201, imp.text);
  assertCinderShape('backup-record-import-response.json', imp.body);
  assert.equal(imp.body.backup.id, sid);
  assert.equal(imp.body.backup.name, 'b1');
  const shared = await waitStatus(asAdmin, 'backup', sid, 'available');
  assert.equal(shared.size, 1);
  assert.deepEqual(await restoredBytes(sid, DATA.length), DATA);
  // A third user of the blob, deleted at once: the blob stays for the others.
  const third = await asAdmin('POST', '/backups/import_record', importBody(cli.backup_service, withId(cli.backup_url, randomUUID())));
  assert.equal(third.status, 201, third.text);
  assert.equal((await asAdmin('DELETE', `/backups/${third.body.backup.id}`)).status, 202);
  await waitGone(asAdmin, `/backups/${third.body.backup.id}`);
  assert.equal(await blobExists(`backup-${bid}.vhd`), true);

  // The original record deleted: the blob stays for the imported record.
  assert.equal((await asAlice('DELETE', `/backups/${bid}`)).status, 202);
  await waitGone(asAlice, `/backups/${bid}`);
  assert.equal(await blobExists(`backup-${bid}.vhd`), true);
  // Imported again under its own id, now free: a record pointing at its blob, restorable.
  const back = await asAdmin('POST', '/backups/import_record', importBody(cli.backup_service, cli.backup_url));
  assert.equal(back.status, 201, back.text);
  assert.equal(back.body.backup.id, bid);
  await waitStatus(asAdmin, 'backup', bid, 'available');
  assert.deepEqual(await restoredBytes(bid, DATA.length), DATA);

  // Deleting one user keeps the blob; deleting the last removes it.
  assert.equal((await asAdmin('DELETE', `/backups/${sid}`)).status, 202);
  await waitGone(asAdmin, `/backups/${sid}`);
  assert.equal(await blobExists(`backup-${bid}.vhd`), true);
  assert.equal((await asAdmin('DELETE', `/backups/${bid}`)).status, 202);
  await waitGone(asAdmin, `/backups/${bid}`);
  await waitFor('the blob deleted', async () => ((await blobExists(`backup-${bid}.vhd`)) ? undefined : true));

  // A record whose blob is gone: created, in error (the manager's driver cannot find it).
  const gone = await asAdmin('POST', '/backups/import_record', importBody(cli.backup_service, cli.backup_url));
  assert.equal(gone.status, 201, gone.text);
  const g = (await asAdmin('GET', `/backups/${bid}`)).body.backup;
  assert.equal(g.status, 'error');
  assert.equal(g.fail_reason, `Backup blob backups/backup-${bid}.vhd not found.`);
});
