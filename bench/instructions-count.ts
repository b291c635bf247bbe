/**
 * The arithmetic and checks of bench/instructions.ts, apart from the processes it runs (so tests
 * load them without the service, the AWS SDK or valgrind).
 */

/** What the service's bundle must contain for the limits to be raised, and what replaces it. */
export const VALGRIND_LIMITS: ReadonlyArray<readonly [from: string, to: string]> = [
  ['operationTimeoutMs ?? 100;', 'operationTimeoutMs ?? 600000;'],
  ['maxEventLoopDelayMs ?? 500;', 'maxEventLoopDelayMs ?? 600000;'],
];

/** The bundle with the limits raised; throws naming the text it did not find. */
export function raiseLimitsForValgrind(bundle: string): string {
  let patched = bundle;
  for (const [from, to] of VALGRIND_LIMITS) {
    const at = patched.indexOf(from);
    if (at < 0 || patched.indexOf(from, at + 1) >= 0) {
      throw new Error(
        `the service bundle must contain '${from}' exactly once (bench/instructions.ts raises it under valgrind); update VALGRIND_LIMITS`,
      );
    }
    patched = patched.replace(from, to);
  }
  return patched;
}

/** The total of instructions executed (Ir) a cachegrind output file reports. */
export function cachegrindInstructions(text: string): number {
  const match = /^summary:\s+(\d+)\s*$/m.exec(text);
  if (!match) throw new Error('no "summary: <instructions>" line in the cachegrind output');
  return Number(match[1]);
}

export interface CountedRun {
  readonly requests: number;
  readonly instructions: number;
}

/** Instructions per request between a short and a long run that share start-up and warm-up. */
export function instructionsPerRequest(short: CountedRun, long: CountedRun): number {
  if (long.requests <= short.requests) {
    throw new Error(
      `the long run must measure more requests than the short one, got ${long.requests} and ${short.requests}`,
    );
  }
  return Math.round((long.instructions - short.instructions) / (long.requests - short.requests));
}

/** Above this drift between the two halves, a count is not steady (V8 compiling, or timing). */
export const STEADY_DRIFT = 0.05;

export interface SteadyCount {
  /** Instructions per request from the short run to the long one. */
  readonly perRequest: number;
  /** From the short run to the middle one, and from the middle one to the long one. */
  readonly firstHalf: number;
  readonly secondHalf: number;
  /** |second half - first half| / perRequest. */
  readonly drift: number;
  /** Whether the two halves agree within STEADY_DRIFT. */
  readonly steady: boolean;
}

/**
 * Instructions per request from three runs that share start-up and warm-up, with a check that the
 * server was in a steady state: V8 keeps compiling and deoptimizing for tens of thousands of
 * requests, and a compile that lands between the short and the long run is counted as per-request
 * work (millions of instructions, so thousands per request). Two halves that agree say it did not.
 */
export function steadyInstructions(
  short: CountedRun,
  middle: CountedRun,
  long: CountedRun,
): SteadyCount {
  const perRequest = instructionsPerRequest(short, long);
  const firstHalf = instructionsPerRequest(short, middle);
  const secondHalf = instructionsPerRequest(middle, long);
  const drift = Math.round((Math.abs(secondHalf - firstHalf) / perRequest) * 1000) / 1000;
  return { perRequest, firstHalf, secondHalf, drift, steady: drift <= STEADY_DRIFT };
}

export const INSTRUCTION_TARGETS = ['service-cache-hit', 'fair-limit', 'framework-floor'] as const;
export type InstructionTarget = (typeof INSTRUCTION_TARGETS)[number];

export interface InstructionsOptions {
  readonly warm: number;
  readonly short: number;
  readonly long: number;
  /** Connections the load generator keeps open, each with one request in flight. */
  readonly connections: number;
  /** The servers to count, in this order. */
  readonly only: readonly InstructionTarget[];
  /** A directory with a service bundle (sh service/bundle.sh <dir>) to count instead of the tree's. */
  readonly bundle?: string;
}

export const DEFAULT_CONNECTIONS = 10;

export const USAGE = '--warm N --short N --long N --connections N --only <targets> --bundle <dir>';

/**
 * Parses USAGE's arguments: every count a whole number, long at least 2 above short (a middle run
 * goes between them), targets among INSTRUCTION_TARGETS.
 */
export function parseInstructionsArgs(args: readonly string[]): InstructionsOptions {
  const counts: Record<string, number> = {
    warm: 20_000,
    short: 5000,
    long: 15_000,
    connections: DEFAULT_CONNECTIONS,
  };
  let only: InstructionTarget[] = [...INSTRUCTION_TARGETS];
  let bundle: string | undefined;
  for (let index = 0; index < args.length; index += 2) {
    const name = args[index].replace(/^--/, '');
    const value = args[index + 1];
    if (
      !args[index].startsWith('--') ||
      !(name in counts || name === 'only' || name === 'bundle')
    ) {
      throw new Error(`unknown argument '${args[index]}'; allowed: ${USAGE}`);
    }
    if (name === 'only') {
      const targets = (value ?? '').split(',');
      const unknown = targets.filter(
        (target) => !(INSTRUCTION_TARGETS as readonly string[]).includes(target),
      );
      if (value === undefined || unknown.length > 0) {
        throw new Error(
          `--only takes a comma-separated list of ${INSTRUCTION_TARGETS.join(', ')}, got '${value}'`,
        );
      }
      only = [...new Set(targets as InstructionTarget[])];
    } else if (name === 'bundle') {
      if (value === undefined || value.startsWith('--') || value === '') {
        throw new Error(`--bundle needs a directory built by sh service/bundle.sh, got '${value}'`);
      }
      bundle = value;
    } else {
      if (value === undefined || !/^[1-9][0-9]*$/.test(value)) {
        throw new Error(`--${name} needs a whole number of at least 1, got '${value}'`);
      }
      counts[name] = Number(value);
    }
  }
  if (counts.long - counts.short < 2) {
    throw new Error(
      `--long (${counts.long}) must be at least 2 more than --short (${counts.short}): a middle run goes between them`,
    );
  }
  return {
    warm: counts.warm,
    short: counts.short,
    long: counts.long,
    connections: counts.connections,
    only,
    ...(bundle === undefined ? {} : { bundle }),
  };
}

/** The middle run's request count, halfway between the short and the long one. */
export function middleRequests(options: Pick<InstructionsOptions, 'short' | 'long'>): number {
  return Math.round((options.short + options.long) / 2);
}
