import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureCert } from '../../emulator/cert';
import { startHarness, Harness } from './harness';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.stop();
});

describe('TLS certificate', () => {
  it('is created once, for 127.0.0.1 and localhost, before any emulator runs', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jacket-cert-'));
    const a = ensureCert(dir);
    const pem = fs.readFileSync(a.certPath, 'utf8');
    const b = ensureCert(dir);
    assert.deepEqual(b, a);
    assert.equal(fs.readFileSync(b.certPath, 'utf8'), pem, 'not regenerated');
    const san = execFileSync('openssl', ['x509', '-in', a.certPath, '-noout', '-ext', 'subjectAltName']).toString();
    assert.match(san, /IP Address:127\.0\.0\.1/);
    assert.match(san, /DNS:localhost/);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a Node process launched with NODE_EXTRA_CA_CERTS reaches the emulator through the SDK (no tlsOptions)', async () => {
    const script = `
      const { ComputeManagementClient } = require(${JSON.stringify(require.resolve('@azure/arm-compute'))});
      const c = new ComputeManagementClient({ getToken: async () => ({ token: 't', expiresOnTimestamp: Date.now() + 3600e3 }) }, ${JSON.stringify(h.subscriptionId)}, { endpoint: ${JSON.stringify(h.emu.url)} });
      (async () => { let n = 0; for await (const s of c.virtualMachineSizes.list(${JSON.stringify(h.location)})) n++; process.stdout.write(String(n)); })()
        .catch((e) => { process.stderr.write(String(e && e.message)); process.exit(1); });`;
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['-e', script], { env: { ...process.env, NODE_EXTRA_CA_CERTS: h.emu.caCertPath } }, (e, stdout, stderr) => (e ? reject(new Error(stderr)) : resolve(stdout))),
    );
    assert.equal(Number(out), h.emu.emulator.cfg.seed.vmSizes.length);
  });
});
