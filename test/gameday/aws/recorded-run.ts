/**
 * A recorded task-loss run in eu-west-1, replayed through the real game-day code: recorded polls
 * (target health and client reads) go through the observe function's `nextObservation`, the
 * final state through the reporter's `buildReport`, and every state's output becomes a history
 * event the fake Step Functions serves to the CLI.
 *
 * The recording: polls every 6.2 s; the stopped task drained at the second poll (12.4 s after the
 * injection, where one of 15 reads was in flight to it and failed); its replacement was healthy
 * at 74.4 s; the restore had nothing left to undo; the verify poll found the region steady.
 */
import {
  Signals,
  finishedObservation,
  nextObservation,
} from '../../../lambda/gameday-observe/observe';
import { buildReport } from '../../../lambda/gameday-reporter/report';
import type { GameDayReport } from '../../../lambda/gameday-shared/report';
import {
  GameDayInput,
  GameDayState,
  Observation,
  RunPlan,
  TargetCounts,
  faultDurationMinutes,
  injectEvent,
  runLimits,
  scoredBudget,
} from '../../../lambda/gameday-shared/run';
import { SCENARIOS } from '../../../lib/gameday/scenarios';

import type { ExecutionScript, ScriptedEvent } from './fake-sfn';

export const REGION = 'eu-west-1';
export const REPORT_BUCKET = 'blueprint-eu-west-1-gamedayreports';
export const SETTINGS = {
  albIntervalSeconds: 5,
  albHealthyThreshold: 2,
  albUnhealthyThreshold: 3,
  route53IntervalSeconds: 10,
  route53FailureThreshold: 3,
  taskStartSeconds: 90,
  faultPollSeconds: 7,
  selfEjectionSeconds: 10,
};
const START = Date.parse('2026-11-21T10:00:00.000Z');
const IMPAIRED = 'Blueprint-eu-west-1-region-impaired';
const POLL_SECONDS = 6.2;
const READS_PER_POLL = 15;

const targets = (healthy: number, draining = 0, initial = 0): TargetCounts => ({
  healthy,
  unhealthy: 0,
  initial,
  draining,
  other: 0,
  total: healthy + draining + initial,
});
const describeTargets = (t: TargetCounts) => ({
  TargetHealthDescriptions: [
    ...Array.from({ length: t.healthy }, () => ({ TargetHealth: { State: 'healthy' } })),
    ...Array.from({ length: t.draining }, () => ({ TargetHealth: { State: 'draining' } })),
    ...Array.from({ length: t.initial }, () => ({ TargetHealth: { State: 'initial' } })),
  ],
});
const reads = (failed: number) =>
  Array.from({ length: READS_PER_POLL }, (_, i) => ({
    ok: i >= failed,
    latencyMs: i >= failed ? 24 : 3000,
    faulted: false,
    ...(i >= failed ? { cache: 'HIT' as const } : {}),
  }));

export type Variant = 'pass' | 'slow-recovery' | 'refused';

export interface RecordedRun {
  readonly script: ExecutionScript;
  readonly report: GameDayReport;
}

/** The recorded run for `input`, as the state machine would have carried it. */
export function recordedTaskLoss(input: GameDayInput, variant: Variant = 'pass'): RecordedRun {
  // As the preflight plans it: the limits from the whole budget, scored without time to detect.
  const limits = runLimits('task-loss', SCENARIOS['task-loss'].budget(SETTINGS), 30);
  const budget = scoredBudget('task-loss', SCENARIOS['task-loss'].budget(SETTINGS));
  const run: RunPlan = {
    scenario: 'task-loss',
    experimentId: input.experimentId,
    dryRun: input.dryRun,
    region: REGION,
    inject: 'stop-tasks',
    injectEvent: injectEvent(input, undefined, faultDurationMinutes(limits, 30)),
    budget,
    limits,
    clientEndpoint: 'https://eu-west-1.api.example.com',
    startedAt: START + 1900,
  };
  const baseline = targets(3);
  const s = (seconds: number) => START + seconds * 1000;
  const iso = (seconds: number) => new Date(s(seconds)).toISOString();

  let state: GameDayState = {
    ...input,
    targetHealth: describeTargets(baseline),
    canary: { ok: true, results: [{ name: REGION, ok: true }] },
  };
  const steps: ScriptedEvent[][] = [];
  const task = (name: string, from: number, to: number, output: unknown): ScriptedEvent[] => [
    { type: 'TaskStateEntered', at: from, entered: name },
    { type: 'TaskStateExited', at: to, exited: { name, output } },
  ];
  const entered = (type: ScriptedEvent['type'], name: string, at: number): ScriptedEvent => ({
    type,
    at,
    entered: name,
  });

  // Preflight and inject.
  const preflightOk = variant !== 'refused';
  state = {
    ...state,
    preflight: {
      ok: preflightOk,
      problems: preflightOk ? [] : [`alarm ${IMPAIRED} is ALARM, not OK`],
      run,
      baseline,
    },
  };
  const first: ScriptedEvent[] = [
    ...task('Baseline targets', 0.1, 0.3, { targetHealth: state.targetHealth }),
    ...task('Canary', 0.3, 1.9, { canary: state.canary }),
    ...task('Preflight', 1.9, 2.4, state),
    entered('ChoiceStateEntered', 'Steady state?', 2.4),
  ];
  if (!preflightOk) {
    const report = buildReport(
      { execution: input.experimentId, startedAt: iso(0), state },
      { region: REGION, settings: SETTINGS, bucket: REPORT_BUCKET },
      new Date(s(3.1)),
    );
    first.push(...task('Report', 2.5, 3.0, { ...state, report }));
    first.push(entered('FailStateEntered', 'Refused', 3.0));
    return {
      script: {
        steps: [first],
        end: { status: 'FAILED', at: 3.1, error: 'GameDay.Refused', cause: report.summary },
      },
      report,
    };
  }
  state = {
    ...state,
    inject: {
      ok: true,
      result: {
        status: input.dryRun ? 'dry-run' : 'applied',
        plan: { summary: 'stop 1 of 3 task(s)' },
      },
    },
  };
  first.push(
    entered('ChoiceStateEntered', 'Which scenario?', 2.4),
    ...task('Inject task-loss', 2.4, 3.0, state),
    entered('PassStateEntered', 'Mark injected', 3.0),
  );
  steps.push(first);
  const injectedAt = 3.0;
  state = { ...state, injectedAt: { at: iso(injectedAt) } };
  if (input.dryRun) return dryRun(input, state, first, s, iso);

  // Observe: one poll per step, with the recorded signals.
  const drainedAtPoll = 2;
  // The replacement's target turns healthy at 74.4 s, or at 124 s, past the 100 s budget.
  const replacedAt = variant === 'slow-recovery' ? 124 : 74.4;
  let observation: Observation | undefined;
  for (let poll = 1; ; poll++) {
    const sinceInjection = Math.round(poll * POLL_SECONDS * 10) / 10;
    const t = injectedAt + sinceInjection;
    const signals: Signals = {
      at: s(t),
      targets:
        poll < drainedAtPoll
          ? targets(3)
          : sinceInjection < replacedAt
            ? targets(2, poll === drainedAtPoll ? 1 : 0, poll === drainedAtPoll ? 0 : 1)
            : targets(3),
      alarms: { [IMPAIRED]: 'OK' },
      reads: reads(poll === drainedAtPoll ? 1 : 0),
    };
    observation = nextObservation(
      {
        run,
        phase: 'fault',
        baseline,
        previous: observation,
        injectedAt: s(injectedAt),
        region: REGION,
        regionImpairedAlarm: IMPAIRED,
      },
      signals,
    );
    state = { ...state, observation };
    steps.push([
      ...task('Targets (fault)', t - 0.4, t - 0.2, state),
      ...task('Observe', t - 0.2, t, state),
      entered('ChoiceStateEntered', 'Observed enough?', t),
      ...(observation.done ? [] : [entered('WaitStateEntered', 'Wait (fault)', t)]),
    ]);
    if (observation.done) break;
  }

  // Restore, verify, report.
  const restoredAt = injectedAt + (observation.series.at(-1)?.t ?? 0) + 0.8;
  state = {
    ...state,
    restore: { ok: true, result: { status: 'restored', detail: 'undid: stop 1 of 3 task(s)' } },
    restoredAt: { at: iso(restoredAt) },
  };
  const verifyAt = restoredAt + 1.2;
  observation = nextObservation(
    {
      run,
      phase: 'recovery',
      baseline,
      previous: observation,
      injectedAt: s(injectedAt),
      restoredAt: s(restoredAt),
      region: REGION,
      regionImpairedAlarm: IMPAIRED,
    },
    { at: s(verifyAt), targets: targets(3), alarms: { [IMPAIRED]: 'OK' }, reads: reads(0) },
  );
  state = { ...state, observation };
  const report = buildReport(
    { execution: input.experimentId, startedAt: iso(0), state },
    { region: REGION, settings: SETTINGS, bucket: REPORT_BUCKET },
    new Date(s(verifyAt + 0.9)),
  );
  steps.push([
    ...task('Restore', restoredAt - 0.6, restoredAt, state),
    entered('PassStateEntered', 'Mark restored', restoredAt),
    ...task('Targets (recovery)', restoredAt, restoredAt + 0.2, state),
    ...task('Verify recovery', restoredAt + 0.2, verifyAt, state),
    entered('ChoiceStateEntered', 'Recovered?', verifyAt),
    ...task('Report', verifyAt, verifyAt + 0.9, { ...state, report }),
    entered('SucceedStateEntered', 'Done', verifyAt + 0.9),
  ]);
  return {
    script: { steps, end: { status: 'SUCCEEDED', at: verifyAt + 0.9, output: report } },
    report,
  };
}

/** The dry run of the same input: nothing injected, so nothing observed or restored. */
function dryRun(
  input: GameDayInput,
  injected: GameDayState,
  first: ScriptedEvent[],
  s: (seconds: number) => number,
  iso: (seconds: number) => string,
): RecordedRun {
  const observation = finishedObservation('fault', 'not-injected', s(3.2), undefined, targets(3));
  const state: GameDayState = {
    ...injected,
    observation,
    restore: { ok: true, result: { status: 'nothing-to-restore' } },
  };
  const report = buildReport(
    { execution: input.experimentId, startedAt: iso(0), state },
    { region: REGION, settings: SETTINGS, bucket: REPORT_BUCKET },
    new Date(s(5)),
  );
  const exited = (name: string, at: number, output: unknown): ScriptedEvent[] => [
    { type: 'TaskStateEntered', at: at - 0.1, entered: name },
    { type: 'TaskStateExited', at, exited: { name, output } },
  ];
  return {
    script: {
      steps: [
        first,
        [
          ...exited('Observe', 3.2, { ...injected, observation }),
          ...exited('Restore', 3.8, state),
          ...exited('Verify recovery', 4.1, state),
          ...exited('Report', 4.9, { ...state, report }),
        ],
      ],
      end: { status: 'SUCCEEDED', at: 5, output: report },
    },
    report,
  };
}
