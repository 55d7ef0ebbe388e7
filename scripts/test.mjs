#!/usr/bin/env node
// `npm test`: makes sure the OpenStack CLI venv exists, then runs every compiled test file
// (dist/test/**/*.test.js) with Node's test runner. Arguments filter files by substring,
// e.g. `npm test -- identity`.
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// Which Node runs the suite (CI runs it twice: the machine's Node, then Node 22 through npx).
console.log(`test runner: node ${process.version} (${process.execPath})`);
execFileSync('bash', [path.join(root, 'scripts/ensure-venv.sh')], { stdio: 'inherit' });

// dist/test/horizon/ is the dashboard test: `npm run test:horizon` runs it (scripts/test-horizon.mjs).
const SKIP = new Set([path.join(root, 'dist/test/horizon')]);

function walk(dir) {
  let out = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (SKIP.has(p)) continue;
    if (statSync(p).isDirectory()) out = out.concat(walk(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = walk(path.join(root, 'dist/test'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const r = spawnSync(
  process.execPath,
  [
    '--test',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${path.join(root, 'scripts/file-times.mjs')}`,
    '--test-reporter-destination=stdout',
    '--test-concurrency=2',
    ...files,
  ],
  {
    stdio: 'inherit',
    cwd: root,
    env: { ...process.env, JACKET_LOG_LEVEL: process.env.JACKET_LOG_LEVEL ?? 'silent' },
  },
);
process.exit(r.status ?? 1);
