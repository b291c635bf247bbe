/**
 * The developer loop: how long a contributor waits for the test suite, and for `npm ci` on a
 * fresh clone. The full suite runs in that fresh clone, so it measures the committed tests only
 * (not whatever is half-written in a working tree).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { onInterrupt, runCommand, type CommandResult } from './processes';
import { summarize, type Summary } from './stats';

const ROOT = path.resolve(__dirname, '..');
const NPM_CI_TIMEOUT_MS = 15 * 60_000;
const JEST_TIMEOUT_MS = 20 * 60_000;
/** The subset `--quick` runs: the benchmark's own tests that need no synth. */
export const QUICK_TEST_PATHS = [
  'test/bench/stats.test.ts',
  'test/bench/args.test.ts',
  'test/bench/reports.test.ts',
];

export interface JestCounts {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly total: number;
}

/** The counts of jest's `Tests:` summary line, or null when the output has none. */
export function parseJestSummary(output: string): JestCounts | null {
  const line = output.split('\n').find((l) => /^Tests:\s/.test(l.trim()));
  if (!line) return null;
  const count = (word: string) => Number(new RegExp(`(\\d+) ${word}`).exec(line)?.[1] ?? 0);
  return {
    passed: count('passed'),
    failed: count('failed'),
    skipped: count('skipped'),
    total: count('total'),
  };
}

/** The test files jest timed (it prints a time for files slower than about a second), slowest first. */
export function slowestTestFiles(
  output: string,
  count: number,
): { readonly file: string; readonly seconds: number }[] {
  const files = [...output.matchAll(/^(?:PASS|FAIL)\s+(\S+)\s+\(([\d.]+) s\)/gm)].map((m) => ({
    file: m[1],
    seconds: Number(m[2]),
  }));
  return files.sort((a, b) => b.seconds - a.seconds).slice(0, count);
}

/** The test files jest reported as failed, and the titles of the failed tests (`● ...`), in order. */
export function failedTests(output: string): string[] {
  const files = [...output.matchAll(/^FAIL\s+(\S+)/gm)].map((m) => m[1]);
  const titles = [...output.matchAll(/^\s*● (.+›.+)$/gm)].map((m) => m[1].trim());
  return [...new Set([...files, ...titles])];
}

export interface TimedCommand {
  readonly command: string;
  readonly where: string;
  readonly wallSeconds: Summary;
  readonly exitCodes: readonly (number | null)[];
}

export interface TestSuiteTiming extends TimedCommand {
  readonly scope: 'full suite' | 'subset';
  readonly tests: JestCounts | null;
  /** Jest's own time per file (files run two at a time, so these overlap). */
  readonly slowestFiles: readonly { readonly file: string; readonly seconds: number }[];
}

export interface InstallTiming extends TimedCommand {
  /** Packages in package-lock.json (node_modules entries). */
  readonly packages: number;
  /** Size of the installed node_modules. */
  readonly nodeModulesMiB: number;
}

export interface DevLoopResults {
  readonly testSuite: TestSuiteTiming;
  readonly npmCi: InstallTiming | null;
  readonly notes: readonly string[];
}

function failure(what: string, result: CommandResult): Error {
  const why = result.timedOut ? 'timed out' : `exited with ${result.exitCode ?? result.signal}`;
  return new Error(`${what} ${why}:\n${result.output.slice(-3000)}`);
}

/** How many packages the lock file installs, and how big node_modules is, in a clone. */
function installSize(clone: string): { packages: number; nodeModulesMiB: number } {
  const lock = JSON.parse(readFileSync(path.join(clone, 'package-lock.json'), 'utf8')) as {
    packages?: Record<string, unknown>;
  };
  const kib = Number(
    execFileSync('du', ['-sk', path.join(clone, 'node_modules')], { encoding: 'utf8' }).split(
      '\t',
    )[0],
  );
  return {
    packages: Object.keys(lock.packages ?? {}).filter((key) => key.startsWith('node_modules/'))
      .length,
    nodeModulesMiB: Math.round(kib / 1024),
  };
}

async function jest(cwd: string, paths: readonly string[]): Promise<CommandResult> {
  return runCommand('npx', ['jest', ...paths], {
    cwd,
    env: { ...process.env, CI: 'true', FORCE_COLOR: '0' },
    timeoutMs: JEST_TIMEOUT_MS,
  });
}

/** `--quick`: only the subset, in this checkout; no clone, no npm ci. */
export async function quickDevLoop(log: (line: string) => void): Promise<DevLoopResults> {
  const result = await jest(ROOT, QUICK_TEST_PATHS);
  log(`  jest ${QUICK_TEST_PATHS.join(' ')}: ${(result.wallMs / 1000).toFixed(1)} s`);
  if (result.exitCode !== 0) throw failure(`npx jest ${QUICK_TEST_PATHS.join(' ')}`, result);
  return {
    testSuite: {
      command: `npx jest ${QUICK_TEST_PATHS.join(' ')}`,
      where: 'this checkout',
      scope: 'subset',
      wallSeconds: summarize([result.wallMs / 1000], 's'),
      exitCodes: [result.exitCode],
      tests: parseJestSummary(result.output),
      slowestFiles: slowestTestFiles(result.output, 5),
    },
    npmCi: null,
    notes: [
      `--quick runs only ${QUICK_TEST_PATHS.join(', ')} of the test suite and skips npm ci on a clean clone; run npm run bench for both.`,
    ],
  };
}

/**
 * `npm ci` on `runs` fresh clones of this repository's HEAD (the npm cache is whatever the
 * machine has), then the whole jest suite once in the last clone.
 */
export async function fullDevLoop(
  runs: number,
  log: (line: string) => void,
): Promise<DevLoopResults> {
  const clones: string[] = [];
  const removeClones = async () => {
    clones.forEach((clone) => rmSync(clone, { recursive: true, force: true }));
    return Promise.resolve();
  };
  const removeCleanup = onInterrupt(removeClones);
  try {
    const npmCiSeconds: number[] = [];
    const npmCiExits: (number | null)[] = [];
    for (let run = 1; run <= runs; run += 1) {
      const clone = mkdtempSync(path.join(tmpdir(), 'bench-clone-'));
      clones.push(clone);
      const cloned = await runCommand('git', ['clone', '--quiet', ROOT, clone], {
        cwd: tmpdir(),
        env: process.env,
        timeoutMs: 5 * 60_000,
      });
      if (cloned.exitCode !== 0) throw failure(`git clone ${ROOT}`, cloned);
      const ci = await runCommand('npm', ['ci'], {
        cwd: clone,
        env: { ...process.env, npm_config_update_notifier: 'false' },
        timeoutMs: NPM_CI_TIMEOUT_MS,
      });
      if (ci.exitCode !== 0) throw failure('npm ci', ci);
      npmCiSeconds.push(ci.wallMs / 1000);
      npmCiExits.push(ci.exitCode);
      log(`  npm ci ${run}/${runs}: ${(ci.wallMs / 1000).toFixed(1)} s`);
      // Only the last clone is kept, for the test suite.
      if (run < runs) rmSync(clone, { recursive: true, force: true });
    }
    const size = installSize(clones.at(-1)!);
    const suite = await jest(clones.at(-1)!, []);
    log(`  jest (full suite): ${(suite.wallMs / 1000).toFixed(1)} s, exit ${suite.exitCode}`);
    const tests = parseJestSummary(suite.output);
    if (tests === null) throw failure('npx jest (no test summary)', suite);
    return {
      testSuite: {
        command: 'npx jest',
        where: 'a fresh clone of HEAD after npm ci',
        scope: 'full suite',
        wallSeconds: summarize([suite.wallMs / 1000], 's'),
        exitCodes: [suite.exitCode],
        tests,
        slowestFiles: slowestTestFiles(suite.output, 5),
      },
      npmCi: {
        command: 'git clone <repo> <tmp> && npm ci',
        where: 'a fresh clone of HEAD (timed: npm ci only), npm cache as the machine has it',
        wallSeconds: summarize(npmCiSeconds, 's'),
        exitCodes: npmCiExits,
        ...size,
      },
      notes:
        tests.failed > 0
          ? [
              `${tests.failed} of ${tests.total} tests failed in the clean clone (${failedTests(suite.output).join('; ') || 'jest named none'}); the time still counts the whole suite.`,
            ]
          : [],
    };
  } finally {
    removeCleanup();
    await removeClones();
  }
}
