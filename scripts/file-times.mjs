// A Node test-runner reporter (scripts/test.mjs adds it beside `spec`): at the end of a run, where each
// test file's time went, slowest first. The spec reporter names tests, not files, and CI has a time
// budget (.ci/run). "tests" sums the file's top-level test durations; "span" is from its first event to
// its last as this process received them, so it includes the file's `before` hooks (a stack's start).
// A test declared through a helper (test/support/advertised.ts) counts under the helper's file: Node
// names the file a test() call is in.
import path from 'node:path';

export default async function* fileTimes(source) {
  const files = new Map();
  for await (const event of source) {
    const file = event.data?.file;
    // Only a test's own start and end: the runner queues (test:enqueue) every file at once.
    if (!file || !['test:start', 'test:pass', 'test:fail'].includes(event.type)) continue;
    const f = path.basename(file);
    const now = Date.now();
    const row = files.get(f) ?? { first: now, last: now, tests: 0 };
    row.last = now;
    if ((event.type === 'test:pass' || event.type === 'test:fail') && event.data.nesting === 0) row.tests += event.data.details?.duration_ms ?? 0;
    files.set(f, row);
  }
  const rows = [...files].sort((a, b) => b[1].last - b[1].first - (a[1].last - a[1].first));
  yield `\ntime per test file, slowest first (${rows.length} files): span s / tests s\n`;
  for (const [f, r] of rows.slice(0, 30)) yield `  ${((r.last - r.first) / 1000).toFixed(1).padStart(7)} ${(r.tests / 1000).toFixed(1).padStart(7)}  ${f}\n`;
}
