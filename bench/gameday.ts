/**
 * The local game day (`npm run gameday:local`), run as a subprocess per scenario; its report JSON
 * holds the measured time-to-detect and time-to-recover and the budgets they are scored against.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

import { runCommand } from './processes';
import { interleavedOrder, summarize, type Summary } from './stats';

const ROOT = path.resolve(__dirname, '..');
const REPORT_DIR = 'gameday-report';
const GAMEDAY_TIMEOUT_MS = 15 * 60_000;

export const GAMEDAY_SCENARIOS = ['zero-length-responder', 'task-loss', 'bad-deploy'] as const;
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
  /** Zero-length responses users got over the whole run (requests.zeroLength); null if absent. */
  readonly zeroLengthDelivered: number | null;
  /** bad-deploy: whether the deploy gate refused the new revision; null for other scenarios. */
  readonly gateRefused: boolean | null;
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
  /** Zero-length responses users got, summed over the runs that report it; null if none does. */
  readonly zeroLengthDelivered: number | null;
  /** bad-deploy: runs whose deploy gate refused the bad revision; null for other scenarios. */
  readonly gateRefusals: number | null;
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

/** A bad-deploy report's `deployGate.verdict.passed`, negated; null when the report has no gate. */
function gateRefused(json: unknown): boolean | null {
  const passed = (json as { deployGate?: { verdict?: { passed?: unknown } } }).deployGate?.verdict
    ?.passed;
  return typeof passed === 'boolean' ? !passed : null;
}

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
    zeroLengthDelivered: numberOrNull(
      (json as { requests?: { zeroLength?: unknown } }).requests?.zeroLength,
    ),
    gateRefused: gateRefused(json),
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

async function runOnce(
  scenario: GamedayScenario,
  quick: boolean,
): Promise<GamedayRun & { derivation: string }> {
  const before = reportsOf(scenario);
  const [command, ...args] = [
    'npm',
    'run',
    '--silent',
    'gameday:local',
    '--',
    scenario,
    '--out',
    REPORT_DIR,
    ...(quick ? ['--quick'] : []),
  ];
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
  const taken = new Map<GamedayScenario, (GamedayRun & { derivation: string })[]>(
    GAMEDAY_SCENARIOS.map((s) => [s, []]),
  );
  for (const [round, order] of interleavedOrder(GAMEDAY_SCENARIOS, runs).entries()) {
    for (const scenario of order) {
      const run = await runOnce(scenario, quick);
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
    isolation: "the machine's loopback",
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
        zeroLengthDelivered: series.some((r) => r.zeroLengthDelivered !== null)
          ? series.reduce((sum, r) => sum + (r.zeroLengthDelivered ?? 0), 0)
          : null,
        gateRefusals: series.some((r) => r.gateRefused !== null)
          ? series.filter((r) => r.gateRefused === true).length
          : null,
        derivation: series[0].derivation,
      };
    }),
  };
}
