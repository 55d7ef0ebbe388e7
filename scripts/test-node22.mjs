#!/usr/bin/env node
// `npm run test:node22 [-- filters | --all]`: tests again under Node 22 without building again — dist/
// from `npm test` is reused. The npm registry serves Node binaries as the `node` package: npx fetches
// node@22 into its cache and tells us where its binary is, and scripts/test.mjs runs under it (the
// test runner and every child it starts use that binary: process.execPath).
//
// Without arguments it runs every unit and emulator test and the end-to-end files below, not all
// ninety: CI (.ci/run) has 90 minutes on 2 cores and the full suite takes ~40 of them on each Node.
// The files are the ones where the runtime shows: the local cloud's start (`npm start`), the
// Functions host and its HTTP framing, parsers fed malformed input, tokens and crypto, streams of
// page blobs (backups, images), the queue worker and resumed steps, the timers, and one full
// server and volume life. `--all` runs the whole suite, as it was before the budget ran short.
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const RUNTIME_FILES = [
  'dist/test/unit/',
  'dist/test/emulator/',
  'e2e/local-start.',
  'e2e/api-framework.',
  'e2e/fuzz.',
  'e2e/identity.',
  'e2e/application-credentials.',
  'e2e/servers.',
  'e2e/server-lifecycle.',
  'e2e/volumes.',
  'e2e/volume-attachments.',
  'e2e/backups.',
  'e2e/images.',
  'e2e/sweeps.',
  'e2e/reconcile.',
  'e2e/services.',
];

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const filters = args.includes('--all') ? [] : args.length > 0 ? args : RUNTIME_FILES;
const node22 = execFileSync('npx', ['-y', '-p', 'node@22', '-c', 'node -p process.execPath'], { cwd: root, encoding: 'utf8' }).trim();
const version = execFileSync(node22, ['--version'], { encoding: 'utf8' }).trim();
if (!version.startsWith('v22.')) throw new Error(`npx gave ${node22} ${version}, not Node 22`);
console.log(`Node 22 for the suite: ${node22} ${version}; ${filters.length === 0 ? 'every file' : `files matching: ${filters.join(' ')}`}`);
const r = spawnSync(node22, [path.join(root, 'scripts/test.mjs'), ...filters], { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
