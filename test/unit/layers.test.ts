// The layering rules of docs/developing.md that the compiler does not enforce by itself, checked on the
// sources: only the driver layer (shared/azure/) imports Azure's management and Blob SDKs; compute
// reaches Cinder only through the volume service's client for compute; long actions are listed, not
// registered by import side effects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../support/paths';

function sources(dir: string): string[] {
  const abs = path.join(REPO_ROOT, dir);
  return readdirSync(abs).flatMap((n) => {
    const p = path.join(abs, n);
    if (statSync(p).isDirectory()) return sources(path.join(dir, n));
    return n.endsWith('.ts') ? [path.join(dir, n)] : [];
  });
}

const importsOf = (file: string) => [...readFileSync(path.join(REPO_ROOT, file), 'utf8').matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gm)].map((m) => m[1]);

test('only shared/azure/ imports the Azure management and Blob SDKs', () => {
  const offenders = [...sources('shared'), ...sources('functions')]
    .filter((f) => !f.startsWith(`shared${path.sep}azure${path.sep}`))
    .flatMap((f) =>
      importsOf(f)
        .filter((m) => /^@azure\/(arm-|storage-blob)/.test(m))
        .map((m) => `${f}: ${m}`),
    );
  assert.deepEqual(offenders, []);
});

test('the driver layer is where the SDK calls are (the test would be empty if it moved)', () => {
  const azure = sources(path.join('shared', 'azure'));
  assert.ok(azure.some((f) => importsOf(f).includes('@azure/arm-compute')));
  assert.ok(azure.some((f) => importsOf(f).includes('@azure/storage-blob')));
});

test('nothing registers a long action by being imported: every WorkKind is listed in handlers.ts', () => {
  const text = readFileSync(path.join(REPO_ROOT, 'shared/work/handlers.ts'), 'utf8');
  assert.doesNotMatch(text, /^import '[^']+';$/m, 'a side-effect import in handlers.ts');
  const registering = sources('shared').filter((f) => /\bregisterWork\(/.test(readFileSync(path.join(REPO_ROOT, f), 'utf8')));
  assert.deepEqual(registering, []);
});

test('compute reaches Cinder only through shared/volume/computeApi.ts (as Nova through nova/volume/cinder.py)', () => {
  const compute = sources(path.join('shared', 'compute'));
  const offenders = compute.flatMap((f) =>
    importsOf(f)
      .filter((m) => m.startsWith('.'))
      .map((m) =>
        path
          .relative(REPO_ROOT, path.resolve(REPO_ROOT, path.dirname(f), m))
          .split(path.sep)
          .join('/'),
      )
      .filter((target) => target.startsWith('shared/volume/') && target !== 'shared/volume/computeApi')
      .map((target) => `${f}: ${target}`),
  );
  assert.deepEqual(offenders, []);
  // and the client is in use (the test would pass vacuously if compute stopped reaching Cinder at all)
  assert.ok(compute.some((f) => importsOf(f).some((m) => m.endsWith('volume/computeApi'))));
});
