/**
 * The steady state a game day starts from: the execution input is valid, the region-impaired
 * alarm is OK, the canary is green everywhere, no experiment holds the service's lease, and every
 * target is healthy. Every problem is reported, not only the first; nothing is changed.
 */
import { SCENARIO_NAMES, SCENARIOS } from '../../lib/gameday/scenarios';
import type { ObserveEnv } from '../gameday-shared/env';
import {
  GameDayInput,
  GameDayState,
  PreflightResult,
  RunPlan,
  SCENARIO_RUNS,
  TargetCounts,
  faultDurationMinutes,
  injectEvent,
  runLimits,
  scoredBudget,
} from '../gameday-shared/run';
import { EventValidationError } from '../shared/errors';
import { experimentIdField } from '../shared/events';
import type { Lease } from '../shared/state-table';
import { boolean, oneOf, optional, parseObject } from '../shared/validation';

import { countTargets } from './observe';

export interface PreflightDeps {
  readonly env: ObserveEnv;
  /** Alarm name -> state value, `MISSING` for an alarm that does not exist. */
  readonly alarmStates: (names: readonly string[]) => Promise<Record<string, string>>;
  /** The lease on the service, if any (expired or not). */
  readonly lease: () => Promise<Lease | undefined>;
  readonly now: () => number;
}

/** Validates the execution input; throws EventValidationError naming every problem. */
export function parseGameDayInput(raw: unknown, env: ObserveEnv): GameDayInput {
  return parseObject(
    {
      scenario: oneOf(SCENARIO_NAMES),
      experimentId: experimentIdField(),
      // Acting is an explicit opt-in: an input without dryRun changes nothing.
      dryRun: optional(boolean(), true),
      availabilityZone: optional(oneOf(env.availabilityZones, ` (the AZs of ${env.region})`)),
    },
    raw,
    {
      refine: (input, problems) => {
        if (input.availabilityZone !== undefined && input.scenario !== 'az-outage') {
          problems.push(
            `availabilityZone applies to az-outage only, got it with ${input.scenario}`,
          );
        }
      },
    },
  );
}

/** The AZ an az-outage takes out when none is named: the last one (the first often holds the NAT). */
export const defaultOutageZone = (env: ObserveEnv): string =>
  env.availabilityZones[env.availabilityZones.length - 1];

export function planRun(input: GameDayInput, env: ObserveEnv, now: number): RunPlan {
  const fullBudget = SCENARIOS[input.scenario].budget(env.settings);
  const limits = runLimits(input.scenario, fullBudget, env.holdSeconds);
  // Scored only on what the scenario's hypothesis says (no "time to detect" for a stopped task).
  const budget = scoredBudget(input.scenario, fullBudget);
  const run = SCENARIO_RUNS[input.scenario];
  const zone =
    input.scenario === 'az-outage' ? (input.availabilityZone ?? defaultOutageZone(env)) : undefined;
  return {
    scenario: input.scenario,
    experimentId: input.experimentId,
    dryRun: input.dryRun,
    region: env.region,
    inject: run.inject,
    injectEvent: injectEvent(
      input,
      zone,
      faultDurationMinutes(limits, env.maxFaultDurationMinutes),
    ),
    budget,
    limits,
    clientEndpoint:
      run.detection === 'region' && env.globalEndpoint ? env.globalEndpoint : env.regionEndpoint,
    startedAt: now,
  };
}

interface CanaryProbe {
  readonly name?: unknown;
  readonly ok?: unknown;
  readonly failure?: unknown;
}
interface CanaryAnswer {
  readonly ok?: unknown;
  readonly results?: unknown;
}

function canaryProblems(state: GameDayState): string[] {
  if (state.canaryFailure) {
    return [
      `the canary could not run (${state.canaryFailure.Error ?? 'error'}): ${state.canaryFailure.Cause ?? 'no cause given'}`,
    ];
  }
  const canary = state.canary as CanaryAnswer | undefined;
  if (!canary || typeof canary.ok !== 'boolean' || !Array.isArray(canary.results)) {
    return ['the canary gave no result'];
  }
  if (canary.ok) return [];
  const failed = (canary.results as readonly CanaryProbe[])
    .filter((r) => r.ok !== true)
    .map((r) => `${String(r.name)} (${typeof r.failure === 'string' ? r.failure : 'failed'})`);
  return [`the canary is not green: ${failed.join(', ')}`];
}

function targetProblems(targets: TargetCounts): string[] {
  if (targets.healthy > 0 && targets.healthy === targets.total) return [];
  return [
    `the target group is not steady: ${targets.healthy} of ${targets.total} target(s) healthy ` +
      `(${targets.unhealthy} unhealthy, ${targets.initial} initial, ${targets.draining} draining); ` +
      'wait until every target is healthy',
  ];
}

export async function preflight(
  rawInput: unknown,
  state: GameDayState,
  deps: PreflightDeps,
  /** The execution's name; when given, the experiment id must equal it. */
  executionName?: string,
): Promise<PreflightResult> {
  const { env } = deps;
  const now = deps.now();
  const problems: string[] = [];
  let run: RunPlan | undefined;
  try {
    run = planRun(parseGameDayInput(rawInput, env), env, now);
  } catch (error) {
    if (!(error instanceof EventValidationError)) throw error;
    problems.push(...error.problems.map((p) => `input: ${p}`));
  }
  if (run && executionName !== undefined && run.experimentId !== executionName) {
    // The restore that follows an aborted, timed-out or failed execution knows only its name.
    problems.push(
      `input: experimentId must equal the execution name, got ${JSON.stringify(run.experimentId)} ` +
        `in an execution named ${JSON.stringify(executionName)}; start the execution with ` +
        'name = experimentId (npm run gameday does)',
    );
  }
  if (run) {
    // The fault must outlast its observation, or it would expire while being observed.
    const needed = Math.ceil((run.limits.faultPhaseSeconds + 60) / 60);
    if (needed > env.maxFaultDurationMinutes) {
      problems.push(
        `chaos.maxFaultDurationMinutes ${env.maxFaultDurationMinutes} is shorter than ${run.scenario}'s ` +
          `observation of ${run.limits.faultPhaseSeconds} s plus a minute to restore; raise it to at least ${needed}`,
      );
    }
  }
  if (run?.scenario === 'region-evacuation' && !env.globalEndpoint) {
    problems.push(
      'region-evacuation needs the global name, which exists only with a domain in the config; ' +
        'without one, other regions are unknown here and region-outage refuses',
    );
  }

  const [alarms, lease] = await Promise.all([
    deps.alarmStates([env.regionImpairedAlarm]),
    deps.lease(),
  ]);
  const alarm = alarms[env.regionImpairedAlarm] ?? 'MISSING';
  if (alarm !== 'OK') {
    problems.push(
      alarm === 'MISSING'
        ? `alarm ${env.regionImpairedAlarm} was not found, so the region's health is unknown`
        : `alarm ${env.regionImpairedAlarm} is ${alarm}, not OK`,
    );
  }
  problems.push(...canaryProblems(state));
  if (lease && lease.expiresAt.getTime() > now) {
    problems.push(
      `experiment ${lease.holder} holds the service's lease until ${lease.expiresAt.toISOString()}; ` +
        `wait for it, or restore it with {"experimentId": "${lease.holder}"}`,
    );
  }
  const baseline = countTargets(state.targetHealth);
  problems.push(...targetProblems(baseline));

  return {
    ok: problems.length === 0,
    problems,
    ...(run ? { run } : {}),
    baseline,
  };
}
