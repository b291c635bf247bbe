import { parseArgs } from 'node:util';

import {
  isLocalScenarioName,
  LOCAL_SCENARIO_NAMES,
  LOCAL_SCENARIOS,
  type LocalScenarioName,
} from '../../lib/gameday/scenarios';

/** The command line of `npm run gameday:local`, checked with messages that say what is allowed. */

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface CliArgs {
  readonly help: boolean;
  readonly list: boolean;
  readonly scenario?: LocalScenarioName;
  readonly quick: boolean;
  readonly durationSeconds?: number;
  readonly rate: number;
  readonly outDir: string;
  readonly configPath?: string;
}

export const DEFAULT_RATE = 60;
export const DEFAULT_OUT_DIR = 'gameday-report';

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  list: { type: 'boolean' },
  quick: { type: 'boolean' },
  duration: { type: 'string' },
  rate: { type: 'string' },
  out: { type: 'string' },
  config: { type: 'string' },
} as const;

const ALLOWED_OPTIONS =
  '--quick, --list, --duration <seconds>, --rate <requests/s>, --out <dir>, --config <file>, --help';

export const USAGE = `Usage: npm run gameday:local -- <scenario> [options]

Rehearses a game-day scenario on this machine: three service replicas per region (one per AZ),
memcached, dynalite and HAProxy on loopback, under steady load; writes
gameday-report/<scenario>-<time>.json and .html.

Scenarios: ${LOCAL_SCENARIO_NAMES.join(', ')} (--list describes them)

Options:
  --quick               scale every duration by 0.2 (1 s health checks): a run in under a minute
  --duration <seconds>  how long the fault is held before the restore (1-3600; not for task-loss)
  --rate <requests/s>   client load, 3 reads per idempotent write (5-1000, default ${DEFAULT_RATE})
  --out <dir>           where the reports go (default ${DEFAULT_OUT_DIR})
  --config <file>       blueprint config JSON whose health-check settings to use (default: the defaults)
  --list                list the scenarios and exit
  --help                show this and exit

Needs haproxy and memcached (bash scripts/install.sh --test installs both).
Exit codes: 0 every check passed, 1 a check failed, 2 bad command line, 3 could not run, 130 interrupted.`;

/** `--list`: every scenario with its title and hypothesis. */
export function renderScenarioList(): string {
  const width = Math.max(...LOCAL_SCENARIO_NAMES.map((name) => name.length));
  return [
    'Scenarios (npm run gameday:local -- <scenario> [--quick]):',
    ...LOCAL_SCENARIO_NAMES.map(
      (name) =>
        `  ${name.padEnd(width)}  ${LOCAL_SCENARIOS[name].title}: ${LOCAL_SCENARIOS[name].hypothesis}`,
    ),
  ].join('\n');
}

function number(
  flag: string,
  text: string,
  options: { min: number; max: number; integer: boolean },
): number {
  const value = Number(text);
  const shaped = options.integer ? /^\d+$/.test(text) : /^\d+(\.\d+)?$/.test(text);
  if (!shaped || value < options.min || value > options.max) {
    throw new UsageError(
      `${flag} must be ${options.integer ? 'an integer' : 'a number'} ${options.min}-${options.max}, got '${text}'`,
    );
  }
  return value;
}

/**
 * Parses the arguments after `--`.
 * @throws UsageError naming what is wrong and what is allowed
 */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const unknown = /Unknown option '([^']+)'/.exec(message);
    if (unknown) {
      throw new UsageError(`unknown option '${unknown[1]}'; allowed: ${ALLOWED_OPTIONS}`);
    }
    const missing = /Option '(?:-\w, )?(--[\w-]+) <value>' argument missing/.exec(message);
    if (missing) throw new UsageError(`${missing[1]} needs a value; allowed: ${ALLOWED_OPTIONS}`);
    throw new UsageError(`${message.split('\n')[0]}; allowed: ${ALLOWED_OPTIONS}`);
  }
  const { values, positionals } = parsed;
  const help = values.help === true;
  const list = values.list === true;
  if (positionals.length > 1) {
    throw new UsageError(
      `one scenario at a time, got ${positionals.length}: ${positionals.join(' ')}`,
    );
  }
  const name = positionals[0];
  if (name !== undefined && !isLocalScenarioName(name)) {
    throw new UsageError(`unknown scenario '${name}'; allowed: ${LOCAL_SCENARIO_NAMES.join(', ')}`);
  }
  if (name === undefined && !help && !list) {
    throw new UsageError(`name a scenario; allowed: ${LOCAL_SCENARIO_NAMES.join(', ')}`);
  }
  const durationSeconds =
    values.duration === undefined
      ? undefined
      : number('--duration', values.duration, { min: 1, max: 3600, integer: false });
  if (durationSeconds !== undefined && name === 'task-loss') {
    throw new UsageError(
      '--duration does not apply to task-loss: nothing is restored, ECS replaces the lost task by itself',
    );
  }
  const rate =
    values.rate === undefined
      ? DEFAULT_RATE
      : number('--rate', values.rate, { min: 5, max: 1000, integer: true });
  if (values.out !== undefined && values.out.trim() === '') {
    throw new UsageError('--out must name a directory, got an empty string');
  }
  return {
    help,
    list,
    scenario: name,
    quick: values.quick === true,
    durationSeconds,
    rate,
    outDir: values.out ?? DEFAULT_OUT_DIR,
    configPath: values.config,
  };
}
