#!/usr/bin/env node
// `npm run test:horizon`: the OpenStack dashboard against Jacket (docs/horizon.md). Installs what it
// needs once (scripts/ensure-horizon.sh: Debian's Chromium, Horizon's venv), then runs the compiled
// dashboard test (dist/test/horizon/*.test.js) with Node's test runner. `npm test` leaves it out.
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
execFileSync('bash', [path.join(root, 'scripts/ensure-horizon.sh')], { stdio: 'inherit' });
const dir = path.join(root, 'dist/test/horizon');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.test.js'))
  .map((f) => path.join(dir, f));
if (files.length === 0) {
  console.error('no test files in dist/test/horizon (run npm run build)');
  process.exit(1);
}
const started = Date.now();
const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
  cwd: root,
  env: { ...process.env, JACKET_LOG_LEVEL: process.env.JACKET_LOG_LEVEL ?? 'silent' },
});
console.log(`test:horizon took ${Math.round((Date.now() - started) / 1000)} s`);
process.exit(r.status ?? 1);
