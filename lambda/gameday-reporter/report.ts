/**
 * Builds a run's report from the state the state machine carried, scores it against the
 * scenario's budget (lib/gameday/scoring), stores it in S3 and emits metrics.
 */
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';

import { SCENARIOS, isScenarioName } from '../../lib/gameday/scenarios';
import { scoreRun } from '../../lib/gameday/scoring';
import type { ReportEnv } from '../gameday-shared/env';
import {
  GameDayReport,
  REPORT_SCHEMA,
  ReportMoments,
  RunOutcome,
  reportKey,
} from '../gameday-shared/report';
import {
  ChaosResponse,
  GameDayState,
  SCENARIO_RUNS,
  TaskFailure,
  faultMayBeApplied,
  scoredTimeline,
} from '../gameday-shared/run';
import { EventValidationError } from '../shared/errors';
import type { S3Objects } from '../shared/s3-objects';
import { parseObject, string } from '../shared/validation';

export function parseReportEvent(raw: unknown) {
  const event = parseObject(
    {
      execution: string({
        pattern: /^[A-Za-z0-9_.:-]{1,80}$/,
        expects: 'the execution name',
      }),
      startedAt: string({ pattern: /^\d{4}-\d\d-\d\dT/, expects: 'an ISO timestamp' }),
    },
    raw,
    { allowUnknown: true },
  );
  const state = (raw as { state?: unknown }).state;
  if (typeof state !== 'object' || state === null || Array.isArray(state)) {
    throw new EventValidationError(['state must be the state machine state, a JSON object']);
  }
  return { ...event, state: state as GameDayState };
}
export type ReportEvent = ReturnType<typeof parseReportEvent>;

/** A failure's message without the stack the Lambda runtime puts in `Cause`. */
export function failureOf(failure: TaskFailure): { error: string; message: string } {
  const error = failure.Error ?? 'Error';
  const cause = failure.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return { error, message: parsed.errorMessage };
  } catch {
    // not JSON: a Step Functions error such as States.Timeout says it in plain text
  }
  return { error, message: cause.split('\n')[0] || 'no cause given' };
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : undefined;

/** A chaos function's answer in one line: its plan or status, or its refusal. */
function detailOf(response: ChaosResponse | undefined): string | undefined {
  if (!response) return undefined;
  if (!response.ok) return `${response.error.code}: ${response.error.message}`;
  const plan = response.result.plan as { summary?: unknown } | undefined;
  return text(plan?.summary) ?? text(response.result.detail) ?? text(response.result.status);
}

function outcomeOf(state: GameDayState): RunOutcome {
  const preflight = state.preflight;
  if (!preflight?.ok || !preflight.run) return 'refused';
  if (state.inject?.ok === false) return 'refused';
  if (state.restoreFailure || state.restore?.ok === false) return 'restore-failed';
  if (preflight.run.dryRun) return 'dry-run';
  if (state.failure) return 'aborted';
  const observation = state.observation;
  const faultEnd = observation?.phase === 'fault' ? observation.reason : observation?.faultPhaseEnd;
  return faultEnd === 'stop-condition' ? 'stopped' : 'completed';
}

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
const since = (from: number, to: number | undefined) =>
  to === undefined ? undefined : Math.round((to - from) / 100) / 10;

function summaryOf(report: Omit<GameDayReport, 'summary'>, state: GameDayState): string {
  switch (report.outcome) {
    case 'refused':
      if (report.problems.length > 0) return `refused: ${report.problems.join('; ')}`;
      if (state.inject && !state.inject.ok)
        return `refused by ${report.inject?.function}: ${report.inject?.detail}`;
      return `refused: ${report.failure ? `${report.failure.error}: ${report.failure.message}` : 'the preflight gave no result'}`;
    case 'dry-run':
      return `dry run, nothing changed; would: ${report.inject?.detail ?? 'no plan given'}`;
    case 'restore-failed':
      return (
        `RESTORE FAILED (${report.restore?.detail ?? report.failure?.message ?? 'no detail'}); ` +
        `clean up by hand: docs/gameday/${report.scenario}.md`
      );
    default:
      break;
  }
  const score = report.score;
  const failed = score?.checks.filter((c) => c.verdict === 'fail').map((c) => c.name) ?? [];
  const verdict = !score
    ? 'not scored'
    : score.verdict === 'pass'
      ? 'PASS: every check within budget'
      : `FAIL: ${failed.join(', ')} outside budget`;
  if (report.outcome === 'stopped') {
    return `stopped early, the region-impaired alarm fired; restored. ${verdict}`;
  }
  if (report.outcome === 'aborted') {
    return `aborted after injection (${report.failure?.error}: ${report.failure?.message}); restored. ${verdict}`;
  }
  return verdict;
}

/** The report of one execution; pure, so that recorded states can be replayed. */
export function buildReport(event: ReportEvent, env: ReportEnv, finishedAt: Date): GameDayReport {
  const { state } = event;
  const run = state.preflight?.run;
  const input = state as { scenario?: unknown; experimentId?: unknown; dryRun?: unknown };
  const scenarioName =
    run?.scenario ?? (typeof input.scenario === 'string' ? input.scenario : undefined);
  const scenario =
    scenarioName && isScenarioName(scenarioName) ? SCENARIOS[scenarioName] : undefined;
  const keyScenario = run?.scenario ?? 'invalid-input';
  const outcome = outcomeOf(state);

  const observation = state.observation;
  const timeline = observation?.timeline ?? {};
  const injectedAt = timeline.injectedAt;
  const moments: ReportMoments = {
    injectedAt: iso(injectedAt),
    detectedAt: iso(timeline.detectedAt),
    trafficMovedAt: iso(timeline.trafficMovedAt),
    restoredAt: iso(timeline.restoredAt),
    recoveredAt: iso(timeline.recoveredAt),
  };
  const requests = observation?.requests ?? { total: 0, succeeded: 0 };
  const applied = run !== undefined && faultMayBeApplied(state);
  const scored = applied && run ? scoredTimeline(run.scenario, timeline) : undefined;
  const score = run && scored ? scoreRun(scored, run.budget, requests) : undefined;
  const failure = state.restoreFailure ?? state.failure;
  const alarmsFired =
    injectedAt === undefined
      ? {}
      : Object.fromEntries(
          Object.entries(observation?.alarmsFired ?? {}).map(([name, at]) => [
            name,
            since(injectedAt, at) as number,
          ]),
        );
  const baselineHealthy = state.preflight?.baseline?.healthy;
  const unexpectedEjection =
    run && SCENARIO_RUNS[run.scenario].detection === 'none' && timeline.detectedAt !== undefined;

  const report: Omit<GameDayReport, 'summary'> = {
    schema: REPORT_SCHEMA,
    scenario: scenarioName ?? 'unknown',
    ...(scenario
      ? {
          title: scenario.title,
          hypothesis: scenario.hypothesis,
          blastRadius: scenario.blastRadius,
        }
      : {}),
    region: env.region,
    experimentId: run?.experimentId ?? text(input.experimentId) ?? event.execution,
    dryRun: run?.dryRun ?? input.dryRun === true,
    outcome,
    startedAt: event.startedAt,
    finishedAt: finishedAt.toISOString(),
    settings: env.settings,
    ...(run ? { budget: run.budget, measures: SCENARIO_RUNS[run.scenario].measures } : {}),
    problems: state.preflight?.problems ?? [],
    ...(run && state.preflight?.ok
      ? {
          inject: {
            function: run.inject,
            event: run.injectEvent,
            ...(detailOf(state.inject) ? { detail: detailOf(state.inject) } : {}),
          },
        }
      : {}),
    ...(state.restore
      ? {
          restore: {
            status: state.restore.ok ? (text(state.restore.result.status) ?? 'done') : 'failed',
            ...(detailOf(state.restore) ? { detail: detailOf(state.restore) } : {}),
          },
        }
      : state.restoreFailure
        ? { restore: { status: 'failed', detail: failureOf(state.restoreFailure).message } }
        : {}),
    timeline: moments,
    seconds:
      injectedAt === undefined
        ? {}
        : {
            detected: since(injectedAt, timeline.detectedAt),
            trafficMoved: since(injectedAt, timeline.trafficMovedAt),
            restored: since(injectedAt, timeline.restoredAt),
            recovered: since(injectedAt, timeline.recoveredAt),
          },
    ...(score ? { score } : {}),
    requests,
    signals: {
      ...(baselineHealthy !== undefined ? { baselineHealthy } : {}),
      ...(observation ? { lowestHealthy: observation.lowestHealthy } : {}),
      alarmsFired,
      ...(observation?.phase === 'recovery'
        ? { faultPhaseEnd: observation.faultPhaseEnd, recoveryPhaseEnd: observation.reason }
        : observation
          ? { faultPhaseEnd: observation.reason }
          : {}),
      ...(unexpectedEjection ? { unexpectedEjection: true } : {}),
    },
    series: observation?.series ?? [],
    ...zonalShiftOf(state),
    ...(failure ? { failure: failureOf(failure) } : {}),
    location: { bucket: env.bucket, key: reportKey(keyScenario, event.execution) },
  };
  return { ...report, summary: summaryOf(report, state) };
}

/** Writes the report where `location` says. */
export async function storeReport(s3: S3Objects, report: GameDayReport): Promise<void> {
  await s3.put(
    report.location.bucket,
    report.location.key,
    JSON.stringify(report, null, 2),
    'application/json',
  );
}

/**
 * One `Runs` count per run (dimensions scenario and outcome); for scored runs also the measured
 * times, the success rate and `Passed` (1 or 0), with the scenario as dimension.
 */
export function emitMetrics(metrics: Metrics, report: GameDayReport): void {
  const run = metrics.singleMetric();
  run.addDimensions({ scenario: report.scenario, outcome: report.outcome });
  run.addMetric('Runs', MetricUnit.Count, 1);
  const score = report.score;
  if (!score) return;
  // One record with the four values: a single metric would publish (and drop the dimension) on each.
  metrics.addDimension('scenario', report.scenario);
  if (score.timeToDetectSeconds !== null) {
    metrics.addMetric('TimeToDetect', MetricUnit.Seconds, score.timeToDetectSeconds);
  }
  if (score.timeToRecoverSeconds !== null) {
    metrics.addMetric('TimeToRecover', MetricUnit.Seconds, score.timeToRecoverSeconds);
  }
  if (score.successRate !== null) {
    metrics.addMetric('SuccessRate', MetricUnit.Percent, score.successRate * 100);
  }
  metrics.addMetric('Passed', MetricUnit.Count, score.verdict === 'pass' ? 1 : 0);
  metrics.publishStoredMetrics();
}

/** az-outage's mitigation as the report shows it; nothing when the run had none. */
function zonalShiftOf(state: GameDayState): Pick<GameDayReport, 'zonalShift'> {
  const shift = state.mitigation;
  const failed = state.mitigationFailure ? failureOf(state.mitigationFailure).message : undefined;
  if (!shift) return failed ? { zonalShift: { failure: failed } } : {};
  return {
    zonalShift: {
      zonalShiftId: shift.zonalShiftId,
      availabilityZone: shift.availabilityZone,
      awayFrom: shift.awayFrom,
      ...(shift.timeToShiftSeconds !== undefined
        ? { timeToShiftSeconds: shift.timeToShiftSeconds }
        : {}),
      errorsDuringShift: shift.errorsDuringShift,
      errorsAfterShift: shift.errorsAfterShift,
      reads: shift.reads,
      end: shift.reason ?? 'cut-short',
      ...(failed ? { failure: failed } : {}),
    },
  };
}
