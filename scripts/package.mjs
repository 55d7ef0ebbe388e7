#!/usr/bin/env node
// `npm run package`: the zip the Functions platform runs (infra/README.md deploys it with
// `az functionapp deployment source config-zip`). It holds exactly:
// - host.json and a package.json trimmed to what the host reads (engines, dependencies, and "main"
//   pointing at the bundles: dist/bundle/{shared/telemetry.mjs,functions/*.mjs}),
// - the bundled entry points (scripts/bundle.mjs: one file per entry point and the chunks they share,
//   made from the compiled app, with their source maps) — no unbundled dist/functions or dist/shared, no TypeScript sources, no
//   tests, no emulator, no local host,
// - the production dependencies (`npm ls --omit=dev`), copied from the installed node_modules, so
//   packaging needs no network and no second install; the bundles require the packages they keep
//   external (scripts/bundle.mjs EXTERNAL) from there. No devDependency (Azurite, TypeScript, esbuild)
//   goes in.
// The zip is written here, with Node's zlib (deflate, crc32): no zip binary needed.
// Usage: node scripts/package.mjs [out.zip]   (default dist/jacket.zip; run after `npm run build`)
import { Buffer } from 'node:buffer';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync, writeFileSync, existsSync, lstatSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateRawSync } from 'node:zlib';
import { BUNDLE_MAIN, bundle } from './bundle.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function walk(dir, keep) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    const st = lstatSync(p);
    if (st.isSymbolicLink()) continue;
    if (st.isDirectory()) out.push(...walk(p, keep));
    else if (keep(p)) out.push(p);
  }
  return out;
}

/** The production packages' directories, from the installed tree (npm ls --omit=dev). */
function productionPackages(root) {
  const out = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && path.resolve(l) !== path.resolve(root));
}

/** [path in zip, absolute file] for everything the package holds; bundleDir holds scripts/bundle.mjs's output. */
export function packageEntries(root = ROOT, bundleDir = path.join(root, 'dist/bundle')) {
  if (!existsSync(bundleDir)) throw new Error(`${bundleDir} is missing: run scripts/bundle.mjs first`);
  const entries = [];
  for (const f of walk(bundleDir, (p) => p.endsWith('.mjs') || p.endsWith('.mjs.map'))) entries.push([path.join('dist/bundle', path.relative(bundleDir, f)), f]);
  for (const pkgDir of productionPackages(root)) {
    // A package's own nested node_modules holds its own dependencies, listed separately by npm ls.
    const inPkg = (p) => !path.relative(pkgDir, p).split(path.sep).includes('node_modules');
    for (const f of walk(pkgDir, inPkg)) entries.push([path.relative(root, f), f]);
  }
  return entries.map(([name, file]) => [name.split(path.sep).join('/'), file]);
}

/** package.json as the host needs it: the bundles as "main", no scripts, no devDependencies. */
export function runtimePackageJson(root = ROOT) {
  const p = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  return JSON.stringify({ name: p.name, version: p.version, private: true, main: BUNDLE_MAIN, engines: p.engines, dependencies: p.dependencies }, null, 2) + '\n';
}

/** A plain (non-zip64) zip archive: deflated entries, fixed 1980 timestamps, so builds are reproducible. */
export function zip(files) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  if (files.length > 0xffff) throw new Error(`${files.length} files: more than a plain zip holds`);
  for (const { name, data, mode } of files) {
    const nameBuf = Buffer.from(name, 'utf8');
    const packed = deflateRawSync(data, { level: 6 });
    const store = packed.length >= data.length;
    const body = store ? data : packed;
    const crc = crc32(data);
    if (offset + body.length > 0xffffffff) throw new Error('package larger than 4 GiB');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(store ? 0 : 8, 8);
    local.writeUInt16LE(0, 10); // time 00:00
    local.writeUInt16LE(0x21, 12); // date 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(store ? 0 : 8, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBuf.length, 28);
    central.writeUInt32LE(((0o100000 | mode) << 16) >>> 0, 38); // regular file + permissions
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBuf, body);
    centrals.push(central, nameBuf);
    offset += local.length + nameBuf.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/**
 * Bundles the compiled entry points (into bundleDir, dist/bundle by default), then builds the package;
 * returns its path and entry names.
 */
export async function buildPackage(out = path.join(ROOT, 'dist/jacket.zip'), root = ROOT, bundleDir = path.join(root, 'dist/bundle')) {
  await bundle(bundleDir, root);
  const files = [
    { name: 'host.json', data: readFileSync(path.join(root, 'host.json')), mode: 0o644 },
    { name: 'package.json', data: Buffer.from(runtimePackageJson(root)), mode: 0o644 },
    ...packageEntries(root, bundleDir).map(([name, file]) => ({ name, data: readFileSync(file), mode: statSync(file).mode & 0o111 ? 0o755 : 0o644 })),
  ];
  writeFileSync(out, zip(files));
  return { out, names: files.map((f) => f.name) };
}

// No top-level await: test/unit/infra-template.test.ts loads this file with require().
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = Date.now();
  buildPackage(process.argv[2] ? path.resolve(process.argv[2]) : undefined).then(
    ({ out, names }) => console.log(`${out}: ${names.length} files, ${(statSync(out).size / 1024 / 1024).toFixed(1)} MiB, in ${((Date.now() - t0) / 1000).toFixed(1)} s`),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
