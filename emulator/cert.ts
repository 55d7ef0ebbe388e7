/**
 * Self-signed TLS certificate for the emulator (127.0.0.1 and localhost as SAN entries).
 * Created once per directory with the system `openssl`, so that processes which talk to the
 * emulator can be launched with NODE_EXTRA_CA_CERTS=<certPath> before the emulator starts.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface CertFiles {
  certPath: string;
  keyPath: string;
}

export function ensureCert(dir: string): CertFiles {
  const certPath = path.join(dir, 'emulator-cert.pem');
  const keyPath = path.join(dir, 'emulator-key.pem');
  if (fs.existsSync(certPath) && fs.existsSync(keyPath)) return { certPath, keyPath };
  fs.mkdirSync(dir, { recursive: true });
  const tmpCert = `${certPath}.${process.pid}.tmp`;
  const tmpKey = `${keyPath}.${process.pid}.tmp`;
  execFileSync(
    'openssl',
    [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '825',
      '-keyout', tmpKey, '-out', tmpCert,
      '-subj', '/CN=Jacket ARM emulator',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign',
      '-addext', 'extendedKeyUsage=serverAuth',
    ],
    { stdio: 'pipe' },
  );
  // Another process may have raced us: keep whichever pair landed first, as a pair.
  if (!(fs.existsSync(certPath) && fs.existsSync(keyPath))) {
    fs.renameSync(tmpKey, keyPath);
    fs.renameSync(tmpCert, certPath);
  } else {
    fs.rmSync(tmpKey, { force: true });
    fs.rmSync(tmpCert, { force: true });
  }
  return { certPath, keyPath };
}
