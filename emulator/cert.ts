/**
 * Self-signed TLS certificate for the emulator (127.0.0.1 and localhost as SAN entries).
 * Created once per directory with the system `openssl`, so that processes which talk to the
 * emulator can be launched with NODE_EXTRA_CA_CERTS=<certPath> before the emulator starts.
 * Safe when several processes (parallel test files) ask for the same directory at once.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface CertFiles {
  certPath: string;
  keyPath: string;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function ensureCert(dir: string): CertFiles {
  const certPath = path.join(dir, 'emulator-cert.pem');
  const keyPath = path.join(dir, 'emulator-key.pem');
  const ready = () => fs.existsSync(certPath) && fs.existsSync(keyPath);
  if (ready()) return { certPath, keyPath };
  fs.mkdirSync(dir, { recursive: true });
  const lock = path.join(dir, '.emulator-cert.lock');
  let fd: number | undefined;
  const deadline = Date.now() + 60_000;
  while (fd === undefined) {
    if (ready()) return { certPath, keyPath };
    try {
      fd = fs.openSync(lock, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      try {
        if (Date.now() - fs.statSync(lock).mtimeMs > 30_000) fs.rmSync(lock, { force: true }); // stale
      } catch {
        /* lock vanished meanwhile */
      }
      if (Date.now() > deadline) throw new Error(`ensureCert: timed out waiting for ${lock}`, { cause: e });
      sleepSync(50);
    }
  }
  try {
    if (!ready()) {
      const tmpCert = `${certPath}.${process.pid}.tmp`;
      const tmpKey = `${keyPath}.${process.pid}.tmp`;
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-sha256',
          '-days',
          '825',
          '-keyout',
          tmpKey,
          '-out',
          tmpCert,
          '-subj',
          '/CN=Jacket ARM emulator',
          '-addext',
          'subjectAltName=IP:127.0.0.1,DNS:localhost',
          '-addext',
          'basicConstraints=critical,CA:TRUE',
          '-addext',
          'keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign',
          '-addext',
          'extendedKeyUsage=serverAuth',
        ],
        { stdio: 'pipe' },
      );
      fs.renameSync(tmpKey, keyPath);
      fs.renameSync(tmpCert, certPath);
    }
  } finally {
    fs.closeSync(fd);
    fs.rmSync(lock, { force: true });
  }
  return { certPath, keyPath };
}
