// What `npm start` keeps between runs, under one directory (.local/ in the repository by default,
// JACKET_LOCAL_STATE_DIR to move it): Azurite's data (tables, queues, blobs — every Jacket record and
// the emulator's disk bytes), the ARM emulator's resources (emulator.json), the token signing key and
// the Azurite account key. So servers, volumes and tokens survive Ctrl-C; `npm start -- --fresh`
// deletes it all first for a clean cloud.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The parts of the state directory (the TLS certificate of the emulator lives in certs/, kept by --fresh). */
const PARTS = ['azurite', 'emulator.json', 'token-keys', 'azurite-key'] as const;

export class LocalState {
  constructor(readonly dir: string) {}

  get azuriteDir(): string {
    return path.join(this.dir, 'azurite');
  }

  get certDir(): string {
    return path.join(this.dir, 'certs');
  }

  private get emulatorFile(): string {
    return path.join(this.dir, 'emulator.json');
  }

  /** Deletes the saved cloud (not the certificate: clients may trust it already). */
  clear(): void {
    for (const p of PARTS) rmSync(path.join(this.dir, p), { recursive: true, force: true });
  }

  /** A secret kept in the directory, made on first use (base64 of 32 random bytes). */
  private secret(name: string): string {
    const file = path.join(this.dir, name);
    if (existsSync(file)) return readFileSync(file, 'utf8').trim();
    mkdirSync(this.dir, { recursive: true });
    const v = randomBytes(32).toString('base64');
    writeFileSync(file, v + '\n', { mode: 0o600 });
    return v;
  }

  /** The token signing key, unless JACKET_TOKEN_KEYS is set: tokens stay valid across restarts. */
  tokenKeys(): string {
    return this.secret('token-keys');
  }

  /** Azurite's account key: stable, so stored connection strings and SAS keep working. */
  azuriteKey(): string {
    return this.secret('azurite-key');
  }

  /** The emulator's resources saved at the last stop, if any. */
  loadEmulator<T>(): T | undefined {
    if (!existsSync(this.emulatorFile)) return undefined;
    return JSON.parse(readFileSync(this.emulatorFile, 'utf8')) as T;
  }

  /** Written to a temporary file and renamed, so a crash mid-write leaves the previous state. */
  saveEmulator(snapshot: unknown): void {
    mkdirSync(this.dir, { recursive: true });
    const tmp = `${this.emulatorFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(snapshot));
    renameSync(tmp, this.emulatorFile);
  }
}
