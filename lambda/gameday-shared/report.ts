/**
 * The game-day report: what the report function stores in S3 and returns as the execution's
 * output, and how the CLI prints it. Times are ISO strings; `seconds` counts from the injection.
 */
import type { Budget, DeployedSettings } from '../../lib/gameday/scenarios';
import { Score, renderScore } from '../../lib/gameday/scoring';

import type { ObservationEnd, PollPoint, ScenarioMeasures } from './run';

export const REPORT_SCHEMA = 'gameday-report/1';

/**
 * - `completed`: the fault was injected, held, restored and scored;
 * - `dry-run`: every check ran and the chaos function reported its plan; nothing changed;
 * - `refused`: the steady state did not hold, or the chaos function refused; nothing changed;
 * - `stopped`: the region-impaired alarm fired during the fault, which was restored at once;
 * - `aborted`: a step failed after the injection; the fault was restored;
 * - `restore-failed`: the restore itself failed: clean up by hand (see the runbook).
 */
export type RunOutcome =
  'completed' | 'dry-run' | 'refused' | 'stopped' | 'aborted' | 'restore-failed';

export const RUN_OUTCOMES: readonly RunOutcome[] = [
  'completed',
  'dry-run',
  'refused',
  'stopped',
  'aborted',
  'restore-failed',
];

export interface ReportMoments {
  readonly injectedAt?: string;
  readonly detectedAt?: string;
  readonly trafficMovedAt?: string;
  readonly restoredAt?: string;
  readonly recoveredAt?: string;
}

export interface GameDayReport {
  readonly schema: typeof REPORT_SCHEMA;
  /** The scenario name, or what the input said when it was not one. */
  readonly scenario: string;
  readonly title?: string;
  readonly hypothesis?: string;
  readonly blastRadius?: string;
  readonly region: string;
  readonly experimentId: string;
  readonly dryRun: boolean;
  readonly outcome: RunOutcome;
  /** One line: the verdict and why. */
  readonly summary: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly settings: DeployedSettings;
  readonly budget?: Budget;
  /** Why the steady state did not hold. */
  readonly problems: readonly string[];
  readonly inject?: {
    readonly function: string;
    readonly event: Record<string, unknown>;
    /** The chaos function's plan summary, or its refusal. */
    readonly detail?: string;
  };
  readonly restore?: { readonly status: string; readonly detail?: string };
  readonly timeline: ReportMoments;
  /** Seconds from the injection to each moment. */
  readonly seconds: {
    readonly detected?: number;
    readonly trafficMoved?: number;
    readonly restored?: number;
    readonly recovered?: number;
  };
  readonly score?: Score;
  /** The event each figure times (time to detect, to recover, success rate), in words. */
  readonly measures?: ScenarioMeasures;
  readonly requests: { readonly total: number; readonly succeeded: number };
  readonly signals: {
    readonly baselineHealthy?: number;
    readonly lowestHealthy?: number;
    /** Alarm name -> seconds from the injection to its first ALARM. */
    readonly alarmsFired: Readonly<Record<string, number>>;
    readonly faultPhaseEnd?: ObservationEnd;
    readonly recoveryPhaseEnd?: ObservationEnd;
    /** A target left the healthy set in a scenario that expects no ejection. */
    readonly unexpectedEjection?: boolean;
  };
  readonly series: readonly PollPoint[];
  /** az-outage's mitigation: the zonal shift, how long it took to work, and users' errors. */
  readonly zonalShift?: {
    readonly zonalShiftId?: string;
    readonly availabilityZone?: string;
    readonly awayFrom?: string;
    readonly timeToShiftSeconds?: number;
    readonly errorsDuringShift?: number;
    readonly errorsAfterShift?: number;
    readonly reads?: number;
    readonly end?: 'held' | 'timeout' | 'cut-short';
    /** Why it did not start or could not be observed (restore still ended any shift). */
    readonly failure?: string;
  };
  readonly failure?: { readonly error: string; readonly message: string };
  readonly location: { readonly bucket: string; readonly key: string };
}

/** Where a run's report is stored: one object per execution. */
export const reportKey = (scenario: string, executionName: string): string =>
  `reports/${scenario}/${executionName}.json`;

const MOMENTS: readonly [keyof GameDayReport['seconds'], string][] = [
  ['detected', 'detected'],
  ['trafficMoved', 'traffic moved'],
  ['restored', 'restored'],
  ['recovered', 'recovered'],
];

/** The report as a terminal shows it. */
export function renderReport(report: GameDayReport): string {
  const lines: string[] = [];
  const verdict = report.score ? ` · verdict ${report.score.verdict.toUpperCase()}` : '';
  lines.push(
    `Game day report: ${report.scenario}${report.title ? ` (${report.title})` : ''}`,
    `${report.region} · experiment ${report.experimentId} · ${report.outcome}${verdict}`,
    report.summary,
  );
  if (report.hypothesis) lines.push('', `Hypothesis: ${report.hypothesis}`);
  if (report.problems.length > 0) {
    lines.push('', 'Steady state did not hold:', ...report.problems.map((p) => `  - ${p}`));
  }
  if (report.inject?.detail)
    lines.push('', `Injected with ${report.inject.function}: ${report.inject.detail}`);
  if (report.timeline.injectedAt) {
    lines.push('', 'Timeline (seconds after injection):');
    lines.push(`  ${'injected'.padEnd(14)} ${report.timeline.injectedAt}`);
    // In the order they happened (task-loss recovers before its restore); the missing ones last.
    const moments = MOMENTS.map(([key, label]) => ({ label, s: report.seconds[key] })).sort(
      (a, b) => (a.s ?? Infinity) - (b.s ?? Infinity),
    );
    for (const { label, s } of moments) {
      lines.push(`  ${label.padEnd(14)} ${s === undefined ? 'never' : `+${s.toFixed(1)} s`}`);
    }
  }
  if (report.score) lines.push('', renderScore(report.score));
  if (report.score && report.measures) {
    lines.push(
      'What each figure times:',
      `  time to detect: ${report.measures.detect}`,
      `  time to recover: ${report.measures.recover}`,
      `  success rate: ${report.measures.successRate}`,
    );
  }
  if (report.budget) lines.push(`Budget: ${report.budget.derivation}`);
  const { total, succeeded } = report.requests;
  if (total > 0) {
    lines.push(
      `Client reads: ${succeeded} of ${total} succeeded (${((100 * succeeded) / total).toFixed(1)} %)`,
    );
  }
  const s = report.signals;
  if (
    s.baselineHealthy !== undefined &&
    s.lowestHealthy !== undefined &&
    report.timeline.injectedAt
  ) {
    lines.push(`Healthy targets: ${s.baselineHealthy} before, ${s.lowestHealthy} at the lowest`);
  }
  const fired = Object.entries(s.alarmsFired);
  if (fired.length > 0) {
    lines.push(
      'Alarms that fired:',
      ...fired.map(([name, at]) => `  ${name} at +${at.toFixed(1)} s`),
    );
  }
  if (s.unexpectedEjection) {
    lines.push('NOTE  a target left the healthy set, which this scenario expects not to happen');
  }
  if (report.restore) {
    lines.push(
      `Restore: ${report.restore.status}${report.restore.detail ? ` (${report.restore.detail})` : ''}`,
    );
  }
  if (report.failure) lines.push(`Failure: ${report.failure.error}: ${report.failure.message}`);
  lines.push(`Stored at s3://${report.location.bucket}/${report.location.key}`);
  return lines.join('\n');
}
