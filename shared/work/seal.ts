// Secrets that must outlive a request but never be stored (a server's admin password, on its way to
// the VM PUT of a build or the VMAccess extension of a rebuild; a backup's export SAS between its copy
// steps): they travel in the work item sealed
// with AES-256-GCM under a key derived (HKDF-SHA256) from the deployment's first token key
// (JACKET_TOKEN_KEYS) — the way Nova passes them to nova-compute over RPC. The item is gone once its
// action finishes; a key rotation makes an in-flight sealed secret unreadable (the step gives up).
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { JacketConfig } from '../config';

function sealKey(cfg: JacketConfig): Buffer {
  return Buffer.from(hkdfSync('sha256', cfg.auth.tokenKeys[0], 'jacket', 'work-item-secret', 32));
}

export function seal(cfg: JacketConfig, secret: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', sealKey(cfg), iv);
  const data = Buffer.concat([c.update(secret, 'utf8'), c.final()]);
  return Buffer.concat([iv, c.getAuthTag(), data]).toString('base64');
}

export function unseal(cfg: JacketConfig, sealed: string): string {
  const b = Buffer.from(sealed, 'base64');
  const d = createDecipheriv('aes-256-gcm', sealKey(cfg), b.subarray(0, 12));
  d.setAuthTag(b.subarray(12, 28));
  return Buffer.concat([d.update(b.subarray(28)), d.final()]).toString('utf8');
}
