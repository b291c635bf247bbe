/**
 * What one game-day run is, shared by the orchestrator construct, its two functions and the CLI:
 * which chaos function each scenario invokes and with what event, how it is detected, how long
 * each phase may last, and the shapes the state machine carries between states.
 *
 * Pure TypeScript with no AWS SDK and no CDK: the functions bundle it, the construct validates
 * with it at synth time, and the CLI reads the same shapes from the execution history.
 */
import { Budget, SCENARIOS, ScenarioName } from '../../lib/gameday/scenarios';
import type { Timeline } from '../../lib/gameday/scoring';
import type { ShiftObservation } from '../zonal-shift/mitigation';

/** The guarded chaos functions a scenario may inject with (a subset of the chaos functions). */
export type InjectFunctionName =
  'stop-tasks' | 'az-outage' | 'empty-responses' | 'region-outage' | 'cache-outage' | 'latency';

/**
 * How a scenario's fault shows:
 * - `target`: the load balancer takes a target out of the healthy set (target health);
 * - `region`: Route 53 takes the region out, so the global name answers from another region;
 * - `none`: nothing should be ejected (the hypothesis is that users barely notice).
 */
export type DetectionKind = 'target' | 'region' | 'none';

export interface ScenarioRun {
  readonly inject: InjectFunctionName;
  readonly detection: DetectionKind;
  /**
   * `injection`: the system heals by itself while the fault stands (ECS replaces a stopped task),
   * so recovery is observed before the restore and counted from the injection. `restore`: the
   * fault is held until the restore, and recovery counts from there (see `scoreRun`).
   */
  readonly recoveryFrom: 'injection' | 'restore';
  /** Recovery also needs every read to be a cache hit (the cache is back in use). */
  readonly recoveryNeedsCacheHits: boolean;
  /**
   * Alarms (by name suffix, as RegionAlarms names them) that this scenario is expected to fire.
   * When the region-impaired alarm fires only because of these, the run goes on; any other
   * member in ALARM stops it.
   */
  readonly expectedAlarms: readonly string[];
  /**
   * Whether "time to detect" is scored in AWS. Not for a stopped task: StopTask deregisters its
   * target at once, so the load balancer stops routing to it before any health check could, and
   * the first poll would time the deregistration, not the hypothesis.
   */
  readonly detectionScored: boolean;
  /** The event each figure of the report times, stated in the report. */
  readonly measures: ScenarioMeasures;
}

/** What each figure of a scenario's report times, in words. */
export interface ScenarioMeasures {
  /** "time to detect", or why it is not scored. */
  readonly detect: string;
  /** "time to recover". */
  readonly recover: string;
  /** "success rate". */
  readonly successRate: string;
}

const USERS_ERRORS =
  "users' errors: the share of client reads through the endpoint users reach that succeeded, " +
  'over every poll after the injection';
const NOT_EJECTED_BY_HEALTH_CHECK =
  'not scored: StopTask deregisters the target at once, so the load balancer stops routing to it ' +
  'before any health check fails and the first poll already sees it gone (the moment is kept in ' +
  'the timeline as the deregistration); zero-length-responder times a health-check ejection';

export const SCENARIO_RUNS: Readonly<Record<ScenarioName, ScenarioRun>> = {
  'task-loss': {
    inject: 'stop-tasks',
    detection: 'target',
    recoveryFrom: 'injection',
    recoveryNeedsCacheHits: false,
    expectedAlarms: [],
    detectionScored: false,
    measures: {
      detect: NOT_EJECTED_BY_HEALTH_CHECK,
      recover:
        'time to full capacity: injection to the first poll with as many healthy targets as ' +
        'before, none initial or unhealthy (the replacement passed its health checks), and every ' +
        'client read ok',
      successRate: USERS_ERRORS,
    },
  },
  'az-outage': {
    inject: 'az-outage',
    detection: 'target',
    recoveryFrom: 'restore',
    recoveryNeedsCacheHits: false,
    expectedAlarms: [],
    detectionScored: false,
    measures: {
      detect: NOT_EJECTED_BY_HEALTH_CHECK,
      recover:
        'time to full capacity after the restore: restore to the first poll with as many healthy ' +
        "targets as before (the AZ's replacements passed their health checks), none initial or " +
        'unhealthy, and every client read ok',
      successRate: USERS_ERRORS,
    },
  },
  'zero-length-responder': {
    inject: 'empty-responses',
    detection: 'target',
    recoveryFrom: 'restore',
    recoveryNeedsCacheHits: false,
    expectedAlarms: ['zero-length-responses'],
    detectionScored: true,
    measures: {
      detect:
        "time to eject: injection to the first poll where the load balancer's health check has " +
        'taken the bad task out (its target unhealthy, or fewer healthy targets)',
      recover: 'restore to the first poll with every target healthy again and every client read ok',
      successRate: USERS_ERRORS,
    },
  },
  'region-evacuation': {
    inject: 'region-outage',
    detection: 'region',
    recoveryFrom: 'restore',
    recoveryNeedsCacheHits: false,
    expectedAlarms: [],
    detectionScored: true,
    measures: {
      detect:
        'time to fail over: injection to the first poll where every read of the global name is ' +
        'answered by another region (Route 53 took this one out)',
      recover: 'restore to the first poll where the global name answers from this region again',
      successRate: USERS_ERRORS.replace('the endpoint users reach', 'the global name'),
    },
  },
  'cache-outage': {
    inject: 'cache-outage',
    detection: 'none',
    recoveryFrom: 'restore',
    recoveryNeedsCacheHits: true,
    expectedAlarms: [],
    detectionScored: true,
    measures: {
      detect: 'not scored: no ejection is expected (one would be reported as unexpected)',
      recover: 'restore to the first poll where every client read is ok and a cache HIT',
      successRate: USERS_ERRORS,
    },
  },
  latency: {
    inject: 'latency',
    detection: 'none',
    recoveryFrom: 'restore',
    recoveryNeedsCacheHits: false,
    expectedAlarms: ['p99-latency'],
    detectionScored: true,
    measures: {
      detect: 'not scored: no ejection is expected (one would be reported as unexpected)',
      recover: 'restore to the first poll with every target healthy and every client read ok',
      successRate: USERS_ERRORS,
    },
  },
};

/** The latency the `latency` scenario adds to the responses of one task. */
export const INJECTED_LATENCY_MS = 800;

/** The item every client read asks for: it always exists (the service's readiness reads it). */
export const PROBE_ITEM_ID = '_health-sentinel';

/** How long each phase of a run may last, in seconds. */
export interface RunLimits {
  /** Injection until the restore starts, whatever happens. */
  readonly faultPhaseSeconds: number;
  /** Restore until the run gives up waiting for recovery. */
  readonly recoveryPhaseSeconds: number;
  /** How long the fault is held once the move of traffic was seen. */
  readonly holdSeconds: number;
}

/**
 * The phases' limits: twice the budget (a run that needs longer fails its check anyway, and the
 * report then shows by how much), plus the hold. Scenarios that expect no ejection hold their
 * fault for two holds, watching that nothing is ejected and requests still succeed.
 */
export function runLimits(name: ScenarioName, budget: Budget, holdSeconds: number): RunLimits {
  const run = SCENARIO_RUNS[name];
  const recoveryPhaseSeconds = Math.max(2 * budget.recoverSeconds, budget.recoverSeconds + 60);
  let faultPhaseSeconds: number;
  if (run.recoveryFrom === 'injection') {
    faultPhaseSeconds = recoveryPhaseSeconds;
  } else if (budget.detectSeconds !== undefined) {
    faultPhaseSeconds = 2 * budget.detectSeconds + holdSeconds;
  } else {
    faultPhaseSeconds = 2 * holdSeconds;
  }
  return { faultPhaseSeconds, recoveryPhaseSeconds, holdSeconds };
}

/**
 * The budget an AWS run is scored against: the scenario's, without "time to detect" where the
 * scenario does not score it (see `detectionScored`). The phase limits keep the whole budget.
 */
export function scoredBudget(name: ScenarioName, budget: Budget): Budget {
  if (SCENARIO_RUNS[name].detectionScored || budget.detectSeconds === undefined) return budget;
  const { detectSeconds, ...rest } = budget;
  return {
    ...rest,
    derivation: `${budget.derivation} (the ${detectSeconds} s detect budget is not scored in AWS: StopTask deregisters the target at once)`,
  };
}

/** Minutes a fault lasts before it expires by itself: the fault phase plus a margin, capped. */
export function faultDurationMinutes(limits: RunLimits, maxFaultDurationMinutes: number): number {
  return Math.min(maxFaultDurationMinutes, Math.ceil(limits.faultPhaseSeconds / 60) + 5);
}

/** The execution input the CLI sends (and the preflight validates). */
export interface GameDayInput {
  readonly scenario: ScenarioName;
  readonly experimentId: string;
  readonly dryRun: boolean;
  /** az-outage only: the AZ to take out. */
  readonly availabilityZone?: string;
}

/** The event a scenario sends to its chaos function (see docs/chaos.md). */
export function injectEvent(
  input: GameDayInput,
  availabilityZone: string | undefined,
  durationMinutes: number,
): Record<string, unknown> {
  const base = { experimentId: input.experimentId, dryRun: input.dryRun, durationMinutes };
  switch (input.scenario) {
    case 'task-loss':
      return { ...base, count: 1 };
    case 'az-outage':
      return { ...base, availabilityZone };
    case 'zero-length-responder':
      return { ...base, count: 1, ratio: 1 };
    case 'region-evacuation':
      return base;
    case 'cache-outage':
      return { ...base, count: 1, ratio: 1 };
    case 'latency':
      return { ...base, count: 1, ratio: 1, latencyMs: INJECTED_LATENCY_MS };
  }
}

/** Target states as the load balancer reports them, counted. */
export interface TargetCounts {
  readonly healthy: number;
  readonly unhealthy: number;
  readonly initial: number;
  readonly draining: number;
  /** unused, unavailable, anything else. */
  readonly other: number;
  readonly total: number;
}

/** Everything a run decided before injecting: carried to every later state. */
export interface RunPlan {
  readonly scenario: ScenarioName;
  readonly experimentId: string;
  readonly dryRun: boolean;
  readonly region: string;
  readonly inject: InjectFunctionName;
  readonly injectEvent: Record<string, unknown>;
  readonly budget: Budget;
  readonly limits: RunLimits;
  /** Where client reads go: this region's endpoint, or the global name for region-evacuation. */
  readonly clientEndpoint: string;
  /** When the preflight ran (ms since the epoch). */
  readonly startedAt: number;
}

export interface PreflightResult {
  readonly ok: boolean;
  /** Why the steady state does not hold, one line each; empty when ok. */
  readonly problems: readonly string[];
  /** Absent when the execution input itself was invalid. */
  readonly run?: RunPlan;
  readonly baseline?: TargetCounts;
}

/** Why an observation phase ended. */
export type ObservationEnd =
  'recovered' | 'held' | 'timeout' | 'stop-condition' | 'not-injected' | 'restore-failed';

/** One poll, kept compact for the report's series. */
export interface PollPoint {
  /** Seconds since injection. */
  readonly t: number;
  readonly healthy: number;
  readonly ok: number;
  readonly total: number;
}

export interface Observation {
  readonly phase: 'fault' | 'recovery';
  /** When this phase started (ms since the epoch). */
  readonly phaseStartedAt: number;
  /** Polls in all phases. */
  readonly polls: number;
  readonly done: boolean;
  readonly reason?: ObservationEnd;
  /** In the recovery phase: why the fault phase ended. */
  readonly faultPhaseEnd?: ObservationEnd;
  readonly timeline: Partial<Timeline>;
  /** Client reads over the whole run. */
  readonly requests: { readonly total: number; readonly succeeded: number };
  /** The last poll. */
  readonly latest?: {
    readonly at: number;
    readonly targets: TargetCounts;
    readonly requests: { readonly total: number; readonly succeeded: number };
    /** Responses that carried `x-fault-injected`. */
    readonly faulted: number;
    readonly cacheMisses: number;
    readonly slowestMs: number;
    /** Regions that answered the global name (region-evacuation only). */
    readonly answeredBy?: readonly string[];
  };
  readonly lowestHealthy: number;
  /** Alarm name -> when it was first seen in ALARM (ms since the epoch). */
  readonly alarmsFired: Readonly<Record<string, number>>;
  readonly series: readonly PollPoint[];
}

/** A caught error, as Step Functions records it under a Catch's ResultPath. */
export interface TaskFailure {
  readonly Error?: string;
  readonly Cause?: string;
}

/** What a guarded chaos function answers (see lambda/shared/handler.ts). */
export type ChaosResponse =
  | { readonly ok: true; readonly result: Record<string, unknown> }
  | {
      readonly ok: false;
      readonly error: {
        readonly code: string;
        readonly message: string;
        readonly problems?: readonly string[];
      };
    };

/**
 * The state the state machine carries. The execution input's fields sit at the top; each state
 * writes under its own key, so that a failure anywhere leaves what came before intact.
 */
export interface GameDayState {
  readonly targetHealth?: unknown;
  readonly canary?: unknown;
  readonly canaryFailure?: TaskFailure;
  readonly preflight?: PreflightResult;
  readonly inject?: ChaosResponse;
  readonly injectedAt?: { readonly at: string };
  readonly observation?: Observation;
  readonly restore?: ChaosResponse;
  readonly restoredAt?: { readonly at: string };
  /** The last failure caught after preflight (an inject, observe or verify that threw). */
  readonly failure?: TaskFailure;
  readonly restoreFailure?: TaskFailure;
  /** az-outage's zonal shift (lambda/zonal-shift), when the orchestrator has a load balancer. */
  readonly mitigation?: ShiftObservation;
  /** Why the zonal shift did not start or could not be observed. */
  readonly mitigationFailure?: TaskFailure;
}

/** Whether the fault may be in place: applied, or unknown because the inject itself failed. */
export function faultMayBeApplied(state: GameDayState): boolean {
  if (state.preflight?.run?.dryRun) return false;
  if (state.inject) return state.inject.ok;
  // The inject threw or timed out: it may have acted before it failed.
  return state.failure !== undefined && state.preflight?.ok === true;
}

/** The timeline `scoreRun` sees: the restore counts only when the fault was held until it. */
export function scoredTimeline(
  scenario: ScenarioName,
  timeline: Partial<Timeline>,
): Timeline | undefined {
  if (timeline.injectedAt === undefined) return undefined;
  const { restoredAt, ...rest } = timeline;
  const injectedAt = timeline.injectedAt;
  return SCENARIO_RUNS[scenario].recoveryFrom === 'restore'
    ? { ...rest, injectedAt, restoredAt }
    : { ...rest, injectedAt };
}

export const scenarioTitle = (name: ScenarioName): string => SCENARIOS[name].title;
