/**
 * The local game day (`npm run gameday:local`), run as a subprocess per scenario; its report JSON
 * holds the measured time-to-detect and time-to-recover and the budgets they are scored against.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

import { runCommand } from './processes';
import { interleavedOrder, summarize, type Summary } from './stats';

const ROOT = path.resolve(__dirname, '..');
const REPORT_DIR = 'gameday-report';
const GAMEDAY_TIMEOUT_MS = 15 * 60_000;

export const GAMEDAY_SCENARIOS = ['zero-length-responder', 'task-loss'] as const;
export type GamedayScenario = (typeof GAMEDAY_SCENARIOS)[number];

/** The part of a local game-day report the benchmark reads. */
export interface GamedayRun {
  readonly report: string;
  readonly quick: boolean;
  readonly timeScale: number;
  readonly verdict: string;
  readonly timeToDetectSeconds: number | null;
  readonly timeToRecoverSeconds: number | null;
  readonly detectBudgetSeconds: number | null;
  readonly recoverBudgetSeconds: number;
  readonly successRate: number | null;
  readonly minSuccessRate: number;
}

export interface GamedayScenarioResult {
  readonly scenario: GamedayScenario;
  readonly runs: readonly GamedayRun[];
  /** Over the runs that detected at all; null when none did. */
  readonly timeToDetect: Summary | null;
  readonly timeToRecover: Summary | null;
  readonly detectBudgetSeconds: number | null;
  readonly recoverBudgetSeconds: number;
  /** Runs whose verdict was pass. */
  readonly passed: number;
  readonly derivation: string;
}

export interface GamedayResults {
  readonly command: string;
  /** Where the game day's servers listened. */
  readonly isolation: string;
  readonly scenarios: readonly GamedayScenarioResult[];
}

function field(object: unknown, keys: string[], file: string): unknown {
  let value: unknown = object;
  for (const key of keys) {
    if (typeof value !== 'object' || value === null || !(key in value)) {
      throw new Error(`${file} has no ${keys.join('.')}: is it a local game-day report?`);
    }
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

const numberOrNull = (value: unknown) => (typeof value === 'number' ? value : null);

/** Reads the fields the benchmark needs from a report, with a clear error if one is missing. */
export function readGamedayReport(
  file: string,
  json: unknown,
): GamedayRun & { derivation: string } {
  const recoverBudget = field(json, ['budget', 'recoverSeconds'], file);
  const minSuccessRate = field(json, ['budget', 'minSuccessRate'], file);
  if (typeof recoverBudget !== 'number' || typeof minSuccessRate !== 'number') {
    throw new Error(`${file}: budget.recoverSeconds and budget.minSuccessRate must be numbers`);
  }
  return {
    report: file,
    quick: field(json, ['quick'], file) === true,
    timeScale: Number(field(json, ['plan', 'timeScale'], file)),
    verdict: String(field(json, ['verdict'], file)),
    timeToDetectSeconds: numberOrNull(field(json, ['score', 'timeToDetectSeconds'], file)),
    timeToRecoverSeconds: numberOrNull(field(json, ['score', 'timeToRecoverSeconds'], file)),
    detectBudgetSeconds: numberOrNull(
      (json as { budget: { detectSeconds?: unknown } }).budget.detectSeconds,
    ),
    recoverBudgetSeconds: recoverBudget,
    successRate: numberOrNull(field(json, ['score', 'successRate'], file)),
    minSuccessRate,
    derivation: String(field(json, ['budget', 'derivation'], file)),
  };
}

function reportsOf(scenario: string): Set<string> {
  const directory = path.join(ROOT, REPORT_DIR);
  if (!existsSync(directory)) return new Set();
  return new Set(
    readdirSync(directory).filter(
      (name) => name.startsWith(`${scenario}-`) && name.endsWith('.json'),
    ),
  );
}

/** Whether `npm run gameday:local` exists in this checkout. */
export function gamedayAvailable(): boolean {
  const scripts = (
    JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      scripts?: Record<string, string>;
    }
  ).scripts;
  return (
    Boolean(scripts?.['gameday:local']) && existsSync(path.join(ROOT, 'gameday', 'local', 'cli.ts'))
  );
}

/**
 * How the game day is started. test/support/dynalite.ts's startDynaliteProcess binds dynalite's
 * fixed default port 4567 (it passes --port 0, which dynalite reads as "use the default"), so two
 * local game days on one machine collide. As root, with unshare and ip at hand, each run gets a
 * network namespace of its own, whose loopback nothing else uses; otherwise it shares the
 * machine's loopback and waits for the port.
 */
export function gamedayLauncher(): { isolation: string; wrap: (args: string[]) => string[] } {
  const works = (command: string, args: string[]) =>
    spawnSync(command, args, { stdio: 'ignore', timeout: 10_000 }).status === 0;
  if (process.getuid?.() === 0 && works('unshare', ['-n', 'ip', 'link', 'set', 'lo', 'up'])) {
    return {
      isolation: 'its own network namespace (unshare -n, loopback only)',
      wrap: (args) => ['unshare', '-n', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', ...args],
    };
  }
  return { isolation: "the machine's loopback", wrap: (args) => args };
}

/** Tries before giving up when a fixed port the game day needs is taken by another run. */
const PORT_CLASH_ATTEMPTS = 4;
const PORT_CLASH_WAIT_MS = 15_000;

async function runOnce(
  scenario: GamedayScenario,
  quick: boolean,
  wrap: (args: string[]) => string[],
  log: (line: string) => void,
): Promise<GamedayRun & { derivation: string }> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await runAttempt(scenario, quick, wrap);
    } catch (error) {
      // Another game day or test on the machine may hold dynalite's port 4567 for a while.
      const clash = error instanceof Error && /EADDRINUSE[^\n]*4567/.test(error.message);
      if (!clash || attempt >= PORT_CLASH_ATTEMPTS) throw error;
      log(`  port 4567 is taken by another process; trying ${scenario} again in 15 s`);
      await new Promise((resolve) => setTimeout(resolve, PORT_CLASH_WAIT_MS));
    }
  }
}

async function runAttempt(
  scenario: GamedayScenario,
  quick: boolean,
  wrap: (args: string[]) => string[],
): Promise<GamedayRun & { derivation: string }> {
  const before = reportsOf(scenario);
  const [command, ...args] = wrap([
    'npm',
    'run',
    '--silent',
    'gameday:local',
    '--',
    scenario,
    '--out',
    REPORT_DIR,
    ...(quick ? ['--quick'] : []),
  ]);
  const result = await runCommand(command, args, {
    cwd: ROOT,
    env: { ...process.env, FORCE_COLOR: '0' },
    timeoutMs: GAMEDAY_TIMEOUT_MS,
  });
  const fresh = [...reportsOf(scenario)].filter((name) => !before.has(name)).sort();
  // Exit 1 is a failed verdict, which is a result; anything else (or no report) is a breakage.
  if (fresh.length === 0) {
    const why = result.timedOut ? 'timed out' : `exited with ${result.exitCode ?? result.signal}`;
    throw new Error(
      `npm run gameday:local -- ${scenario} ${why} and wrote no report:\n${result.output.slice(-3000)}`,
    );
  }
  const file = path.join(REPORT_DIR, fresh.at(-1)!);
  return readGamedayReport(file, JSON.parse(readFileSync(path.join(ROOT, file), 'utf8')));
}

/** Runs each scenario `runs` times, in turn. */
export async function runGamedays(
  runs: number,
  quick: boolean,
  log: (line: string) => void,
): Promise<GamedayResults> {
  const launcher = gamedayLauncher();
  log(`  each run in ${launcher.isolation}`);
  const taken = new Map<GamedayScenario, (GamedayRun & { derivation: string })[]>(
    GAMEDAY_SCENARIOS.map((s) => [s, []]),
  );
  for (const [round, order] of interleavedOrder(GAMEDAY_SCENARIOS, runs).entries()) {
    for (const scenario of order) {
      const run = await runOnce(scenario, quick, launcher.wrap, log);
      taken.get(scenario)!.push(run);
      log(
        `  game day ${round + 1}/${runs} ${scenario}: detect ${run.timeToDetectSeconds ?? 'never'} s ` +
          `(budget ${run.detectBudgetSeconds ?? '-'} s), recover ${run.timeToRecoverSeconds ?? 'never'} s ` +
          `(budget ${run.recoverBudgetSeconds} s), ${run.verdict}`,
      );
    }
  }
  const summaryOf = (values: (number | null)[]) => {
    const measured = values.filter((v): v is number => v !== null);
    return measured.length > 0 ? summarize(measured, 's') : null;
  };
  return {
    command: `npm run gameday:local -- <scenario>${quick ? ' --quick' : ''}`,
    isolation: launcher.isolation,
    scenarios: GAMEDAY_SCENARIOS.map((scenario) => {
      const series = taken.get(scenario)!;
      return {
        scenario,
        runs: series.map(({ derivation: _derivation, ...run }) => run),
        timeToDetect: summaryOf(series.map((r) => r.timeToDetectSeconds)),
        timeToRecover: summaryOf(series.map((r) => r.timeToRecoverSeconds)),
        detectBudgetSeconds: series[0].detectBudgetSeconds,
        recoverBudgetSeconds: series[0].recoverBudgetSeconds,
        passed: series.filter((r) => r.verdict === 'pass').length,
        derivation: series[0].derivation,
      };
    }),
  };
}
