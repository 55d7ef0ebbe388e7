// `npm run bench` (docs/performance.md): starts its own stack on free ports, measures, prints the table.
//   npm run bench                 full run: N = 50, 1k, 10k; timers at 1k and 10k; actions at 0 s and 2 s delay
//   npm run bench -- --quick      N = 20, 200; timers at 200; at 2 s delay only the creates and deletes
//   --timers-at=1000,10000        where the timer passes run (each must be one of the levels)
//   --levels=50,1000              the record counts
//   --cold-start                  only the cold-start section (5 runs; with --quick, 2)
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { formatTable, runBench, type BenchOptions } from './run';

export const QUICK: BenchOptions = { levels: [20, 200], timersAt: [200], delaysMs: [0, 2000], repeats: 5, listRepeats: 11, importRuns: 2 };
export const FULL: BenchOptions = {
  levels: [50, 1000, 10000],
  timersAt: [1000, 10000],
  delaysMs: [0, 2000],
  delayedActions: ['reboot', 'stop', 'start', 'attach', 'snapshot', 'backup'],
  repeats: 7,
  listRepeats: 31,
  importRuns: 5,
};

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: path.resolve(__dirname, '../..'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '?';
  }
}

export function parseArgs(argv: string[]): BenchOptions {
  const opts: BenchOptions = { ...(argv.includes('--quick') ? QUICK : FULL) };
  const list = (name: string) => {
    const a = argv.find((x) => x.startsWith(`--${name}=`));
    return a
      ? a
          .slice(name.length + 3)
          .split(',')
          .map(Number)
      : undefined;
  };
  opts.coldStartOnly = argv.includes('--cold-start');
  opts.levels = list('levels') ?? opts.levels;
  opts.timersAt = list('timers-at') ?? opts.timersAt.filter((n) => opts.levels.includes(n));
  for (const n of opts.timersAt) if (!opts.levels.includes(n)) throw new Error(`--timers-at ${n} is not one of the levels ${opts.levels.join(',')}`);
  return opts;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opts = parseArgs(argv);
  const started = new Date();
  const log = (l: string) => process.stderr.write(`[bench ${((Date.now() - started.getTime()) / 1000).toFixed(0)} s] ${l}\n`);
  const res = await runBench({ ...opts, log });
  const dirty = git(['status', '--porcelain', '--untracked-files=no']) ? ' (with uncommitted changes)' : '';
  const load = os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
  process.stdout.write(
    [
      `command: npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
      `commit: ${git(['rev-parse', '--short', 'HEAD'])}${dirty}`,
      `date: ${started.toISOString()}; node ${process.version}; ${os.cpus().length} CPUs; load average ${load} (at the end)`,
      opts.coldStartOnly
        ? `cold start only; medians of ${opts.importRuns}; took ${res.seconds.toFixed(0)} s`
        : `levels N=${opts.levels.join(', ')} (records of each kind in one project); timers at ${opts.timersAt.join(', ') || 'none'}; medians of ${opts.repeats} (list rows: ${opts.listRepeats ?? opts.repeats} pairs); took ${res.seconds.toFixed(0)} s`,
      '',
      formatTable(res.rows),
      '',
    ].join('\n'),
  );
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (e) => {
      process.stderr.write(`bench failed: ${e instanceof Error ? e.stack : String(e)}\n`);
      process.exit(1);
    },
  );
}
