/**
 * One poll of a running scenario, as a pure function: given the previous observation and what
 * this poll saw, record the moments (detected, traffic moved, recovered) and decide whether the
 * phase is over. The state machine calls it every poll interval until `done`.
 */
import type { Timeline } from '../../lib/gameday/scoring';
import {
  Observation,
  ObservationEnd,
  PollPoint,
  RunPlan,
  SCENARIO_RUNS,
  TargetCounts,
} from '../gameday-shared/run';
import { EventValidationError } from '../shared/errors';

import type { ReadResult } from './client-reads';

/** The report keeps at most this many polls (about 20 minutes at the default interval). */
const MAX_SERIES = 240;

/** What one poll saw. */
export interface Signals {
  /** ms since the epoch. */
  readonly at: number;
  readonly targets: TargetCounts;
  /** Alarm name -> state (`OK`, `ALARM`, `INSUFFICIENT_DATA`, or `MISSING`). */
  readonly alarms: Readonly<Record<string, string>>;
  /** Client reads through the endpoint users reach. */
  readonly reads: readonly ReadResult[];
  /** Whoami reads of the global name (region-evacuation only). */
  readonly whoami?: readonly ReadResult[];
}

export interface ObserveContext {
  readonly run: RunPlan;
  readonly phase: 'fault' | 'recovery';
  readonly baseline: TargetCounts;
  readonly previous?: Observation;
  readonly injectedAt?: number;
  readonly restoredAt?: number;
  readonly region: string;
  readonly regionImpairedAlarm: string;
}

const TARGET_HEALTH_SHAPE =
  'targetHealth must be one poll of the target groups ([{ ids, ports, states }, ...], one per ' +
  'group), { states: [...] } (target states) or a DescribeTargetHealth response with a ' +
  'TargetHealthDescriptions list';

/** One group's targets: their states, and (when the poll kept them) their ids and ports. */
function groupTargets(group: unknown): { key?: string; state: unknown }[] {
  const {
    ids,
    ports,
    states,
    TargetHealthDescriptions: descriptions,
  } = (group ?? {}) as {
    ids?: unknown;
    ports?: unknown;
    states?: unknown;
    TargetHealthDescriptions?: unknown;
  };
  if (Array.isArray(states)) {
    const keyed = Array.isArray(ids) && ids.length === states.length;
    return states.map((state: unknown, i) => ({
      ...(keyed
        ? { key: `${String(ids[i])}:${Array.isArray(ports) ? String(ports[i]) : ''}` }
        : {}),
      state,
    }));
  }
  if (Array.isArray(descriptions)) {
    return descriptions.map((d) => {
      const { Target, TargetHealth } = (d ?? {}) as {
        Target?: { Id?: unknown; Port?: unknown };
        TargetHealth?: { State?: unknown };
      };
      return {
        ...(typeof Target?.Id === 'string' ? { key: `${Target.Id}:${String(Target.Port)}` } : {}),
        state: TargetHealth?.State,
      };
    });
  }
  throw new EventValidationError([TARGET_HEALTH_SHAPE]);
}

/**
 * Counts target states, from what the state machine keeps of a poll: one `{ ids, ports, states }`
 * per target group (both groups with canary deployments, which move the service between them),
 * or a single group's `{ states }` or whole DescribeTargetHealth answer. A target (id and port)
 * registered in several groups mid-deployment counts once: healthy only when healthy in every
 * group, otherwise in the first other state it has (as the chaos functions' cap counts it).
 */
export function countTargets(response: unknown): TargetCounts {
  const groups = Array.isArray(response) ? response : [response];
  if (groups.length === 0) throw new EventValidationError([TARGET_HEALTH_SHAPE]);
  const keyed = new Map<string, unknown>();
  const states: unknown[] = [];
  for (const { key, state } of groups.flatMap(groupTargets)) {
    if (key === undefined) states.push(state);
    else if (!keyed.has(key) || keyed.get(key) === 'healthy') keyed.set(key, state);
  }
  states.push(...keyed.values());
  const counts = { healthy: 0, unhealthy: 0, initial: 0, draining: 0, other: 0 };
  for (const state of states) {
    if (state === 'healthy' || state === 'unhealthy' || state === 'initial' || state === 'draining')
      counts[state] += 1;
    else counts.other += 1;
  }
  return { ...counts, total: states.length };
}

/** Every target healthy, and at least as many as before the fault. */
export const targetsSteady = (targets: TargetCounts, baseline: TargetCounts): boolean =>
  targets.healthy >= baseline.healthy && targets.unhealthy === 0 && targets.initial === 0;

/** The balancer has taken something out: fewer healthy targets, or one failing its checks. */
const targetsLost = (targets: TargetCounts, baseline: TargetCounts): boolean =>
  targets.healthy < baseline.healthy || targets.unhealthy > 0;

const allOk = (reads: readonly ReadResult[]): boolean =>
  reads.length > 0 && reads.every((r) => r.ok);

export function nextObservation(ctx: ObserveContext, signals: Signals): Observation {
  const { run, phase, baseline } = ctx;
  const scenario = SCENARIO_RUNS[run.scenario];
  const at = signals.at;
  const previous = ctx.previous;
  const samePhase = previous?.phase === phase ? previous : undefined;
  const phaseStartedAt =
    samePhase?.phaseStartedAt ??
    (phase === 'fault' ? (ctx.injectedAt ?? at) : (ctx.restoredAt ?? at));

  const timeline: { -readonly [K in keyof Timeline]?: Timeline[K] } = {
    ...previous?.timeline,
    ...(ctx.injectedAt !== undefined ? { injectedAt: ctx.injectedAt } : {}),
    ...(ctx.restoredAt !== undefined ? { restoredAt: ctx.restoredAt } : {}),
  };
  const reads = signals.reads;
  const succeeded = reads.filter((r) => r.ok).length;
  const faulted = reads.filter((r) => r.faulted).length;
  const clean = allOk(reads) && faulted === 0;
  const answeredBy = signals.whoami
    ?.filter((r) => r.region !== undefined)
    .map((r) => r.region as string);
  const steady = targetsSteady(signals.targets, baseline);

  let reason: ObservationEnd | undefined;
  if (phase === 'fault') {
    const movedAway =
      answeredBy !== undefined &&
      answeredBy.length > 0 &&
      answeredBy.every((r) => r !== ctx.region);
    if (timeline.detectedAt === undefined) {
      const detected =
        scenario.detection === 'region' ? movedAway : targetsLost(signals.targets, baseline);
      if (detected) timeline.detectedAt = at;
    }
    if (timeline.detectedAt !== undefined && timeline.trafficMovedAt === undefined) {
      const moved = scenario.detection === 'region' ? movedAway && allOk(reads) : clean;
      if (moved) timeline.trafficMovedAt = at;
    }
    if (
      scenario.recoveryFrom === 'injection' &&
      timeline.detectedAt !== undefined &&
      timeline.recoveredAt === undefined &&
      steady &&
      clean
    ) {
      timeline.recoveredAt = at;
    }

    if (stopConditionMet(ctx, signals) && scenario.detection !== 'region') {
      // Users are affected beyond what the scenario allows: end the fault now.
      reason = 'stop-condition';
    } else if (scenario.recoveryFrom === 'injection' && timeline.recoveredAt !== undefined) {
      reason = 'recovered';
    } else if (
      scenario.detection !== 'none' &&
      scenario.recoveryFrom === 'restore' &&
      timeline.trafficMovedAt !== undefined &&
      at - timeline.trafficMovedAt >= run.limits.holdSeconds * 1000
    ) {
      reason = 'held';
    } else if (at - phaseStartedAt >= run.limits.faultPhaseSeconds * 1000) {
      reason = scenario.detection === 'none' ? 'held' : 'timeout';
    }
  } else {
    const back =
      steady &&
      clean &&
      (!scenario.recoveryNeedsCacheHits || reads.every((r) => r.cache === 'HIT')) &&
      (scenario.detection !== 'region' ||
        (answeredBy !== undefined &&
          answeredBy.length > 0 &&
          answeredBy.every((r) => r === ctx.region)));
    if (back) {
      timeline.recoveredAt ??= at;
      reason = 'recovered';
    } else if (at - phaseStartedAt >= run.limits.recoveryPhaseSeconds * 1000) {
      reason = 'timeout';
    }
  }

  const alarmsFired = { ...previous?.alarmsFired };
  for (const [name, state] of Object.entries(signals.alarms)) {
    if (state === 'ALARM' && alarmsFired[name] === undefined) alarmsFired[name] = at;
  }
  const origin = timeline.injectedAt ?? phaseStartedAt;
  const point: PollPoint = {
    t: Math.round((at - origin) / 100) / 10,
    healthy: signals.targets.healthy,
    ok: succeeded,
    total: reads.length,
  };
  const series = [...(previous?.series ?? []), point].slice(-MAX_SERIES);

  const faultPhaseEnd = phase === 'recovery' ? endOfFaultPhase(previous) : undefined;
  return {
    phase,
    phaseStartedAt,
    polls: (previous?.polls ?? 0) + 1,
    done: reason !== undefined,
    ...(reason ? { reason } : {}),
    ...(faultPhaseEnd ? { faultPhaseEnd } : {}),
    timeline,
    requests: {
      total: (previous?.requests.total ?? 0) + reads.length,
      succeeded: (previous?.requests.succeeded ?? 0) + succeeded,
    },
    latest: {
      at,
      targets: signals.targets,
      requests: { total: reads.length, succeeded },
      faulted,
      cacheMisses: reads.filter((r) => r.cache === 'MISS').length,
      slowestMs: reads.reduce((max, r) => Math.max(max, r.latencyMs), 0),
      ...(answeredBy ? { answeredBy: [...new Set(answeredBy)].sort() } : {}),
    },
    lowestHealthy: Math.min(previous?.lowestHealthy ?? baseline.healthy, signals.targets.healthy),
    alarmsFired,
    series,
  };
}

/** An observation that ends at once, without polling (nothing to watch). */
export function finishedObservation(
  phase: 'fault' | 'recovery',
  reason: ObservationEnd,
  at: number,
  previous: Observation | undefined,
  baseline: TargetCounts | undefined,
): Observation {
  const faultPhaseEnd = phase === 'recovery' ? endOfFaultPhase(previous) : undefined;
  return {
    phase,
    phaseStartedAt: at,
    polls: previous?.polls ?? 0,
    done: true,
    reason,
    ...(faultPhaseEnd ? { faultPhaseEnd } : {}),
    timeline: previous?.timeline ?? {},
    requests: previous?.requests ?? { total: 0, succeeded: 0 },
    ...(previous?.latest ? { latest: previous.latest } : {}),
    lowestHealthy: previous?.lowestHealthy ?? baseline?.healthy ?? 0,
    alarmsFired: previous?.alarmsFired ?? {},
    series: previous?.series ?? [],
  };
}

/** Why the fault phase ended, carried through the recovery phase for the report. */
const endOfFaultPhase = (previous: Observation | undefined): ObservationEnd | undefined =>
  previous?.phase === 'fault' ? previous.reason : previous?.faultPhaseEnd;

/**
 * The region-impaired alarm fires for a reason the scenario does not expect: one of its members
 * other than the scenario's expected alarms is in ALARM, or no watched alarm explains it.
 */
function stopConditionMet(ctx: ObserveContext, signals: Signals): boolean {
  if (signals.alarms[ctx.regionImpairedAlarm] !== 'ALARM') return false;
  const expected = SCENARIO_RUNS[ctx.run.scenario].expectedAlarms;
  const firing = Object.entries(signals.alarms)
    .filter(([name, state]) => state === 'ALARM' && name !== ctx.regionImpairedAlarm)
    .map(([name]) => name);
  const unexpected = firing.filter((name) => !expected.some((e) => name.endsWith(`-${e}`)));
  return firing.length === 0 || unexpected.length > 0;
}
