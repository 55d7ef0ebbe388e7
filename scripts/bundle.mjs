// The deployed entry points as bundles (cold start, issue 11; docs/performance.md, infra/README.md).
// esbuild bundles what `npm run build` compiled — dist/shared/telemetry.js and dist/functions/*.js, the
// files package.json "main" names — into dist/bundle/ with the same relative paths (dist/bundle/
// functions/http.mjs, …): one file per entry point, plus shared chunks (dist/bundle/chunks/) holding
// what several entry points use. So the Functions host reads a few files instead of resolving and
// reading 100–180 modules per entry point, and — as it loads every entry point of "main" into one
// process — each shared module is parsed and evaluated once, with one instance of its state (the
// services, the metric sink), as unbundled.
//
// Why ES modules: esbuild shares chunks between entry points only in that format. One CommonJS bundle
// per entry point was measured too: each entry point alone as fast, but all four in one process
// (what the host does) ~240–320 ms against ~165–205 ms, each bundle parsing its own copy of the shared
// ~2.3 MB. The input is tsc's CommonJS, so every import is a require() and the Azure SDKs resolve to
// their CommonJS builds, as unbundled; a banner gives each output file the `require`, `__filename`
// and `__dirname` that code expects (require of the external packages below, an SDK's wasm loader).
// The host imports .mjs files as ES modules; Node 20.19+ and 22.12+ also require() them (the bench).
// Not minified; a source map beside each file (.mjs.map, chained through tsc's maps to the TypeScript
// lines; sources not embedded), used for stack traces under --enable-source-maps (infra/main.bicep).
//
// Kept external (required from node_modules at run time, which the package still ships):
// - @azure/functions: the host's programming model, one instance per process (app.setup, the
//   registrations), patched by name by @azure/functions-opentelemetry-instrumentation;
//   @azure/functions-core exists only inside the host.
// - @azure/core-tracing and @opentelemetry/api: the Azure Monitor distro sets the SDKs' tracer by hooking
//   require('@azure/core-tracing'), and its meters live in @opentelemetry/api's global; a bundled copy
//   would never be hooked.
// - @azure/monitor-opentelemetry, @azure/functions-opentelemetry-instrumentation: loaded only when
//   telemetry is on; their instrumentations patch modules through require hooks, which bundling defeats.
// - @azure/arm-compute, @azure/arm-network, @azure/storage-blob, @azure/identity: loaded on first use
//   (shared/azure/clients.ts) and ~6 MB of code together; bundled, every process would parse them at
//   import although most invocations never call them.
// test/unit/bundle.test.ts checks that the bundles register the same functions as the compiled files,
// and answers requests through a bundled handler.
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

/** The compiled entry points, relative to dist/: telemetry first, as package.json "main" lists it. The bundles have the same paths with .mjs. */
export function entryPoints(root = ROOT) {
  const fns = readdirSync(path.join(root, 'dist/functions'))
    .filter((f) => f.endsWith('.js'))
    .sort()
    .map((f) => `functions/${f}`);
  return ['shared/telemetry.js', ...fns];
}

/** package.json "main" for the bundles: the same pattern as the compiled files', under dist/bundle. */
export const BUNDLE_MAIN = 'dist/bundle/{shared/telemetry.mjs,functions/*.mjs}';

/** Each output file's own require (for the externals), __filename and __dirname, as CommonJS code expects. */
const BANNER = [
  "import { createRequire as __jacketCreateRequire } from 'node:module';",
  "import { fileURLToPath as __jacketFileURLToPath } from 'node:url';",
  "import { dirname as __jacketDirname } from 'node:path';",
  'const require = __jacketCreateRequire(import.meta.url);',
  'const __filename = __jacketFileURLToPath(import.meta.url);',
  'const __dirname = __jacketDirname(__filename);',
].join(' ');

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
    format: 'esm',
    splitting: true,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    banner: { js: BANNER },
    sourcemap: 'linked',
    sourcesContent: false,
    external: EXTERNAL,
    metafile: true,
    logLevel: 'warning',
  });
  if (res.errors.length) throw new Error(res.errors.map((e) => e.text).join('\n'));
  return { files: entries.map((e) => path.join(outdir, e.replace(/\.js$/, '.mjs'))), metafile: res.metafile };
}

// No top-level await: the tests load this file with require() (TypeScript's CommonJS output of import()).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = Date.now();
  const out = process.argv[2] ? path.resolve(process.argv[2]) : undefined;
  bundle(out).then(
    ({ metafile }) => {
      for (const [f, o] of Object.entries(metafile.outputs)) if (f.endsWith('.mjs')) console.log(`${f}: ${(o.bytes / 1024).toFixed(0)} KiB`);
      console.log(`bundled in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    },
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
