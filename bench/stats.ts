/**
 * The statistics every benchmark figure is reported with: a unit, how many runs it summarises,
 * and their min/median/max. Comparisons are ratios of runs taken in turn (round i of A against
 * round i of B), so that a slow spell on a shared machine hits both sides of the same pair.
 */

export interface Summary {
  /** What one value measures in, e.g. `s`, `ms`, `req/s`, `×` (a ratio), `%`. */
  readonly unit: string;
  /** How many values (runs, or resources read) the summary covers. */
  readonly runs: number;
  readonly min: number;
  readonly median: number;
  readonly max: number;
}

function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

/** The middle value of `values`, or the mean of the two middle ones. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median needs at least one value, got none');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** min/median/max of `values`, rounded to `decimals` places. */
export function summarize(values: readonly number[], unit: string, decimals = 1): Summary {
  if (values.length === 0) throw new Error(`cannot summarise no values (unit ${unit})`);
  const bad = values.find((value) => !Number.isFinite(value));
  if (bad !== undefined) throw new Error(`cannot summarise a non-finite value (${bad} ${unit})`);
  return {
    unit,
    runs: values.length,
    min: round(Math.min(...values), decimals),
    median: round(median(values), decimals),
    max: round(Math.max(...values), decimals),
  };
}

function checkPaired(name: string, a: readonly number[], b: readonly number[]): void {
  if (a.length === 0 || a.length !== b.length) {
    throw new Error(
      `${name} needs the same non-zero number of runs on each side, got ${a.length} and ${b.length}`,
    );
  }
}

/** Ratio of each run of A to the run of B taken in the same round: `a[i] / b[i]`. */
export function pairedRatios(a: readonly number[], b: readonly number[], decimals = 3): Summary {
  checkPaired('pairedRatios', a, b);
  if (b.some((value) => value === 0)) throw new Error('pairedRatios cannot divide by a zero run');
  return summarize(
    a.map((value, index) => value / b[index]),
    '×',
    decimals,
  );
}

/** How much less A takes than B, per round, in percent: `(1 - a[i] / b[i]) × 100`. */
export function pairedReductionPercent(
  a: readonly number[],
  b: readonly number[],
  decimals = 1,
): Summary {
  checkPaired('pairedReductionPercent', a, b);
  if (b.some((value) => value === 0)) {
    throw new Error('pairedReductionPercent cannot compare against a zero run');
  }
  return summarize(
    a.map((value, index) => (1 - value / b[index]) * 100),
    '%',
    decimals,
  );
}

/** Difference of each run of A and the run of B in the same round: `a[i] - b[i]`. */
export function pairedDifferences(
  a: readonly number[],
  b: readonly number[],
  unit: string,
  decimals = 1,
): Summary {
  checkPaired('pairedDifferences', a, b);
  return summarize(
    a.map((value, index) => value - b[index]),
    unit,
    decimals,
  );
}

/**
 * The order to run `subjects` in, round by round: every round runs each subject once, and the
 * first subject rotates, so none always runs first (a warm cache or a cold disk favours nobody).
 */
export function interleavedOrder<T>(subjects: readonly T[], rounds: number): T[][] {
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new Error(`rounds must be a whole number of at least 1, got ${rounds}`);
  }
  return Array.from({ length: rounds }, (_, round) =>
    subjects.map((_, index) => subjects[(index + round) % subjects.length]),
  );
}
