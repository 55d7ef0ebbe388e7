#!/usr/bin/env node
// `npm run test:node22 [-- filters]`: the suite again under Node 22 without building again — dist/
// from `npm test` is reused. The npm registry serves Node binaries as the `node` package: npx fetches
// node@22 into its cache and tells us where its binary is, and scripts/test.mjs runs under it (the
// test runner and every child it starts use that binary: process.execPath).
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const node22 = execFileSync('npx', ['-y', '-p', 'node@22', '-c', 'node -p process.execPath'], { cwd: root, encoding: 'utf8' }).trim();
const version = execFileSync(node22, ['--version'], { encoding: 'utf8' }).trim();
if (!version.startsWith('v22.')) throw new Error(`npx gave ${node22} ${version}, not Node 22`);
console.log(`Node 22 for the suite: ${node22} ${version}`);
const r = spawnSync(node22, [path.join(root, 'scripts/test.mjs'), ...process.argv.slice(2)], { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
