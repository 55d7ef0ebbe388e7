// shared/log.ts scopes: a level set for one side ('api', 'worker') governs that side's lines only
// (Cinder's set-log, 3.32, where one Functions process runs both sides).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { log } from '../../shared/log';

test("a scope's level filters its own lines; other flows keep the configured level", async () => {
  const lines: string[] = [];
  log.setSink((l) => lines.push(JSON.parse(l).msg as string));
  log.setLevel('info');
  try {
    log.setScopeLevel('worker', 'debug');
    log.setScopeLevel('api', 'error');
    await Promise.all([
      // Each flow enters its scope once it runs on its own (after an await, as the pipeline and the
      // engine do: enterWith marks the current async context).
      (async () => {
        await Promise.resolve();
        log.enterScope('worker');
        log.debug('worker debug');
      })(),
      (async () => {
        await Promise.resolve();
        log.enterScope('api');
        log.warn('api warn');
        log.error('api error');
      })(),
    ]);
    log.debug('outside debug');
    log.info('outside info');
    assert.deepEqual(lines.sort(), ['api error', 'outside info', 'worker debug']);
  } finally {
    log.setScopeLevel('worker', 'info');
    log.setScopeLevel('api', 'info');
    log.setSink((l) => process.stdout.write(l + '\n'));
  }
});
