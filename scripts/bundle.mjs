#!/usr/bin/env node
// The deployed entry points as bundles (cold start, issue 11; docs/performance.md, infra/README.md).
// esbuild bundles what `npm run build` compiled — dist/functions/*.js and dist/shared/telemetry.js, the
// files package.json "main" names — each into one file under dist/bundle/ with the same relative path
// (dist/bundle/functions/http.js, …), so the Functions host loads one file per entry point instead of
// resolving and reading some 460–540 modules. It bundles the CommonJS that tsc emitted (not the
// TypeScript sources): every import is then a require(), so the Azure SDKs resolve to their CommonJS
// builds, as they do unbundled. Output is CommonJS for Node 20 (what the host loads for a package
// without "type": "module"), not minified, with a source map beside each bundle (.js.map, chained
// through tsc's own maps to the TypeScript lines; sources not embedded). Node uses the maps for stack
// traces when started with --enable-source-maps (infra/main.bicep sets it for the worker).
//
// Kept external (required from node_modules at run time, which the package still ships):
// - @azure/functions: the host's programming model, one instance per process whatever the number of
//   bundles (app.setup, the registrations), and the package @azure/functions-opentelemetry-instrumentation
//   patches by name; @azure/functions-core exists only inside the host.
// - @azure/core-tracing and @opentelemetry/api: the Azure Monitor distro sets the SDKs' tracer by hooking
//   require('@azure/core-tracing'), and its meters live in @opentelemetry/api's global; a bundled copy
//   would never be hooked.
// - @azure/monitor-opentelemetry, @azure/functions-opentelemetry-instrumentation: loaded only when
//   telemetry is on; their instrumentations patch modules through require hooks, which bundling defeats.
// - @azure/arm-compute, @azure/arm-network, @azure/storage-blob, @azure/identity: loaded on first use
//   (shared/azure/clients.ts) and ~6 MB of code together; in a bundle every entry point would parse them
//   at import although most invocations never call them.
// Each bundle carries its own copy of the shared modules; the host loads all of them (package.json
// "main") into one process, so process-wide state that crosses entry points lives on globalThis
// (shared/metrics.ts: the metric sink telemetry sets). test/unit/bundle.test.ts checks that the bundles
// register the same functions as the compiled files, and answers a request through a bundled handler.
//
// Usage: node scripts/bundle.mjs [outdir]   (default dist/bundle; run after `npm run build`)
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const EXTERNAL = [
  '@azure/functions',
  '@azure/functions-core',
  '@azure/core-tracing',
  '@opentelemetry/api',
  '@azure/monitor-opentelemetry',
  '@azure/functions-opentelemetry-instrumentation',
  '@azure/arm-compute',
  '@azure/arm-network',
  '@azure/storage-blob',
  '@azure/identity',
];

/** The compiled entry points, relative to dist/: telemetry first, as package.json "main" lists it. */
export function entryPoints(root = ROOT) {
  const fns = readdirSync(path.join(root, 'dist/functions'))
    .filter((f) => f.endsWith('.js'))
    .sort()
    .map((f) => `functions/${f}`);
  return ['shared/telemetry.js', ...fns];
}

/** package.json "main" for the bundles: the same pattern as the compiled files', under dist/bundle. */
export const BUNDLE_MAIN = 'dist/bundle/{shared/telemetry.js,functions/*.js}';

/** Bundles every entry point into outdir; returns the bundle files (absolute) and esbuild's metafile. */
export async function bundle(outdir = path.join(ROOT, 'dist/bundle'), root = ROOT) {
  const dist = path.join(root, 'dist');
  if (!existsSync(path.join(dist, 'functions'))) throw new Error('dist/functions is missing: run `npm run build` first');
  rmSync(outdir, { recursive: true, force: true });
  const entries = entryPoints(root);
  const res = await build({
    absWorkingDir: root,
    entryPoints: entries.map((e) => path.join(dist, e)),
    outbase: dist,
    outdir,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: 'linked',
    sourcesContent: false,
    external: EXTERNAL,
    metafile: true,
    logLevel: 'warning',
  });
  if (res.errors.length) throw new Error(res.errors.map((e) => e.text).join('\n'));
  return { files: entries.map((e) => path.join(outdir, e)), metafile: res.metafile };
}

// No top-level await: the tests load this file with require() (TypeScript's CommonJS output of import()).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = Date.now();
  const out = process.argv[2] ? path.resolve(process.argv[2]) : undefined;
  bundle(out).then(
    ({ files, metafile }) => {
      for (const f of files) {
        const o = metafile.outputs[path.relative(ROOT, f).split(path.sep).join('/')];
        console.log(`${path.relative(ROOT, f)}: ${o ? (o.bytes / 1024 / 1024).toFixed(1) : '?'} MiB`);
      }
      console.log(`bundled in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    },
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
