/**
 * The observe function's three actions, with their dependencies passed in:
 * - `preflight`: check the steady state and plan the run;
 * - `observe`: one poll while the fault stands;
 * - `verify`: one poll after the restore, until the system is back.
 */

import {
  GameDayState,
  Observation,
  PreflightResult,
  SCENARIO_RUNS,
  faultMayBeApplied,
} from '../gameday-shared/run';
import type { CloudWatchApi } from '../shared/cloudwatch-api';
import { EventValidationError } from '../shared/errors';
import type { Field } from '../shared/validation';
import { oneOf, optional, parseObject, string } from '../shared/validation';

import { HttpGet, readItems, readWhoami } from './client-reads';
import { Signals, countTargets, finishedObservation, nextObservation } from './observe';
import { PreflightDeps, preflight } from './preflight';

/** Whoami reads of the global name per poll, for region-evacuation. */
const WHOAMI_READS = 3;
/** Client reads in flight at once. */
const CONCURRENCY = 5;

export interface ObserveDeps extends PreflightDeps {
  readonly get: HttpGet;
  /** Monotonic milliseconds, for read latencies. */
  readonly clock: () => number;
}

const anyObject: Field<Record<string, unknown>> = {
  optional: false,
  expects: 'a JSON object',
  parse(value, name, problems) {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
    problems.push(`${name} must be a JSON object`);
    return undefined;
  },
};

export function parseObserveEvent(raw: unknown) {
  return parseObject(
    {
      action: oneOf(['preflight', 'observe', 'verify'] as const),
      state: anyObject,
      input: optional(anyObject),
      /** The execution's name, which must be the experiment id (preflight only). */
      execution: optional(
        string({ pattern: /^[\s\S]{1,80}$/, expects: 'the execution name (1-80 characters)' }),
      ),
    },
    raw,
    {
      refine: (event, problems) => {
        if (event.action === 'preflight' && event.input === undefined) {
          problems.push('input (the execution input) is required with action preflight');
        }
      },
    },
  );
}
export type ObserveEvent = ReturnType<typeof parseObserveEvent>;

const instant = (iso: string | undefined): number | undefined => {
  if (iso === undefined) return undefined;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms;
};

async function gather(
  state: GameDayState,
  deps: ObserveDeps,
  clientEndpoint: string,
  readsWhoami: boolean,
): Promise<Signals> {
  const { env } = deps;
  const at = deps.now();
  const targets = countTargets(state.targetHealth);
  const options = {
    get: deps.get,
    timeoutMs: env.requestTimeoutMs,
    concurrency: CONCURRENCY,
    clock: deps.clock,
  };
  const [alarms, reads, whoami] = await Promise.all([
    deps.alarmStates(env.watchedAlarms),
    readItems(clientEndpoint, env.requestsPerPoll, options),
    readsWhoami && env.globalEndpoint
      ? readWhoami(env.globalEndpoint, WHOAMI_READS, options)
      : Promise.resolve(undefined),
  ]);
  return { at, targets, alarms, reads, ...(whoami ? { whoami } : {}) };
}

export async function observeFunction(
  event: ObserveEvent,
  deps: ObserveDeps,
): Promise<PreflightResult | Observation> {
  const state = event.state as GameDayState;
  if (event.action === 'preflight') return preflight(event.input, state, deps, event.execution);

  const { run, baseline } = state.preflight ?? {};
  if (!run || !baseline) {
    throw new EventValidationError([
      `state.preflight must hold run and baseline before ${event.action}`,
    ]);
  }
  const phase = event.action === 'observe' ? 'fault' : 'recovery';
  const previous = state.observation;
  const now = deps.now();
  if (phase === 'fault' && (run.dryRun || state.inject?.ok !== true)) {
    return finishedObservation(phase, 'not-injected', now, previous, baseline);
  }
  if (phase === 'recovery') {
    if (!faultMayBeApplied(state)) {
      return finishedObservation(phase, 'not-injected', now, previous, baseline);
    }
    if (state.restoreFailure || state.restore?.ok === false) {
      return finishedObservation(phase, 'restore-failed', now, previous, baseline);
    }
  }
  const signals = await gather(
    state,
    deps,
    run.clientEndpoint,
    SCENARIO_RUNS[run.scenario].detection === 'region',
  );
  return nextObservation(
    {
      run,
      phase,
      baseline,
      previous,
      injectedAt: instant(state.injectedAt?.at),
      restoredAt: instant(state.restoredAt?.at),
      region: deps.env.region,
      regionImpairedAlarm: deps.env.regionImpairedAlarm,
    },
    signals,
  );
}

/** Alarm states by name (metric and composite alarms); `MISSING` when an alarm does not exist. */
export async function describeAlarmStates(
  cloudWatch: CloudWatchApi,
  names: readonly string[],
): Promise<Record<string, string>> {
  const states: Record<string, string> = Object.fromEntries(names.map((n) => [n, 'MISSING']));
  const { metric, composite } = await cloudWatch.alarms(names, ['MetricAlarm', 'CompositeAlarm']);
  for (const alarm of [...metric, ...composite]) {
    if (alarm.AlarmName && alarm.StateValue) states[alarm.AlarmName] = alarm.StateValue;
  }
  return states;
}
