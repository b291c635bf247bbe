import { Budget } from './scenarios';

/** Moments of one run, in milliseconds since the epoch; absent when it never happened. */
export interface Timeline {
  readonly injectedAt: number;
  /** The balancer stopped routing to the bad target or region (health check or alarm). */
  readonly detectedAt?: number;
  /** Clients' traffic reached the healthy part only (canary). */
  readonly trafficMovedAt?: number;
  readonly restoredAt?: number;
  /** Full healthy capacity again. */
  readonly recoveredAt?: number;
}

export interface RequestCounts {
  readonly total: number;
  readonly succeeded: number;
}

export type Verdict = 'pass' | 'fail';

export interface Check {
  readonly name: string;
  readonly measured: number | null;
  readonly budget: number;
  readonly unit: 's' | '%';
  readonly verdict: Verdict;
}

export interface Score {
  readonly timeToDetectSeconds: number | null;
  readonly timeToRecoverSeconds: number | null;
  readonly successRate: number | null;
  readonly checks: readonly Check[];
  readonly verdict: Verdict;
}

const seconds = (fromMs: number, toMs: number | undefined) =>
  toMs === undefined ? null : Math.round((toMs - fromMs) / 100) / 10;

/**
 * Scores a run against its budget. Time to detect counts from injection; time to recover counts
 * from the restore when there was one (the fault was held until then), else from injection. A
 * moment that never came fails its check.
 */
export function scoreRun(timeline: Timeline, budget: Budget, requests: RequestCounts): Score {
  const timeToDetect = seconds(timeline.injectedAt, timeline.detectedAt);
  const timeToRecover = seconds(timeline.restoredAt ?? timeline.injectedAt, timeline.recoveredAt);
  const successRate = requests.total > 0 ? requests.succeeded / requests.total : null;
  const within = (measured: number | null, limit: number): Verdict =>
    measured !== null && measured <= limit ? 'pass' : 'fail';

  const checks: Check[] = [];
  if (budget.detectSeconds !== undefined) {
    checks.push({
      name: 'time to detect',
      measured: timeToDetect,
      budget: budget.detectSeconds,
      unit: 's',
      verdict: within(timeToDetect, budget.detectSeconds),
    });
  }
  checks.push({
    name: 'time to recover',
    measured: timeToRecover,
    budget: budget.recoverSeconds,
    unit: 's',
    verdict: within(timeToRecover, budget.recoverSeconds),
  });
  checks.push({
    name: 'success rate',
    measured: successRate === null ? null : Math.round(successRate * 100_000) / 1000,
    budget: budget.minSuccessRate * 100,
    unit: '%',
    verdict: successRate !== null && successRate >= budget.minSuccessRate ? 'pass' : 'fail',
  });
  return {
    timeToDetectSeconds: timeToDetect,
    timeToRecoverSeconds: timeToRecover,
    successRate,
    checks,
    verdict: checks.every((c) => c.verdict === 'pass') ? 'pass' : 'fail',
  };
}

/** One line per check, for terminals and reports. */
export function renderScore(score: Score): string {
  return score.checks
    .map((c) => {
      const measured = c.measured === null ? 'never' : `${c.measured} ${c.unit}`;
      const relation = c.unit === '%' ? '≥' : '≤';
      return `${c.verdict === 'pass' ? 'PASS' : 'FAIL'}  ${c.name}: ${measured} (budget ${relation} ${c.budget} ${c.unit})`;
    })
    .join('\n');
}
