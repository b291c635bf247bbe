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

export interface InstructionsOptions {
  readonly warm: number;
  readonly short: number;
  readonly long: number;
}

/** Parses `--warm N --short N --long N`; every value a whole number, short below long. */
export function parseInstructionsArgs(args: readonly string[]): InstructionsOptions {
  const values: Record<string, number> = { warm: 20_000, short: 5000, long: 15_000 };
  for (let index = 0; index < args.length; index += 2) {
    const name = args[index].replace(/^--/, '');
    const value = args[index + 1];
    if (!args[index].startsWith('--') || !(name in values)) {
      throw new Error(`unknown argument '${args[index]}'; allowed: --warm, --short, --long`);
    }
    if (value === undefined || !/^[1-9][0-9]*$/.test(value)) {
      throw new Error(`--${name} needs a whole number of requests of at least 1, got '${value}'`);
    }
    values[name] = Number(value);
  }
  if (values.short >= values.long) {
    throw new Error(`--short (${values.short}) must be less than --long (${values.long})`);
  }
  return { warm: values.warm, short: values.short, long: values.long };
}
