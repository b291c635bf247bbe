/**
 * Undoing an experiment, driven by its state machine (`experiment-states.ts`):
 *
 *   claim (-> restoring, one conditional write) -> undo each change -> verify each is gone ->
 *   restored (and release the lease) | restore-failed (the lease is kept; the sweep retries).
 *
 * `restored` is claimed only when every change is verified gone AND no applier can still act: a
 * restore that claimed the experiment from an `applying` still in its window ends `restore-failed`
 * until that window has passed, since the applier may yet write (it undoes its own changes when
 * it finds the experiment claimed, and the sweep then verifies).
 */
import { describeService, sameNetwork, updateServiceNetwork, type WriteOutcome } from './ecs';
import { isErrorLike } from './errors';
import type { ChaosDeps } from './experiment';
import { IN_FLIGHT_WINDOW_MS } from './experiment-states';
import {
  isLive,
  readFaultDocument,
  sameFault,
  withFaultsRemoved,
  writeFaultDocument,
} from './fault-document';
import {
  ExperimentState,
  StateChangedError,
  readState,
  releaseLease,
  transition,
} from './state-table';

export interface RestoreOutcomes {
  readonly network?: WriteOutcome | 'already-original';
  readonly faultsRemoved: number;
}

export interface RestoreAttempt {
  /** `in-progress`: another restore holds `restoring` and may still be acting. */
  readonly status: 'restored' | 'restore-failed' | 'in-progress';
  /** The state as this attempt left it. */
  readonly state: ExperimentState;
  readonly outcomes?: RestoreOutcomes;
  /** What is (or may be) still there, for `restore-failed`. */
  readonly detail: string;
}

/** How often a restore re-reads and retries after losing a race for the state. */
const MAX_CLAIM_ATTEMPTS = 5;

const inFlight = (until: string | undefined, now: Date): boolean =>
  until !== undefined && Date.parse(until) > now.getTime();

/**
 * Restores `state` (as read) through the state machine. Safe to repeat and to race: each claim is
 * a conditional write, and a loser re-reads and decides again.
 */
export async function restoreExperiment(
  state: ExperimentState,
  deps: ChaosDeps,
  restoredBy: string,
): Promise<RestoreAttempt> {
  const target = deps.env.service;
  let current: ExperimentState | undefined = state;
  for (let attempt = 0; attempt < MAX_CLAIM_ATTEMPTS; attempt++) {
    if (!current || current.experimentId !== state.experimentId) {
      // Replaced: a new experiment replaces only a `restored` one.
      return { status: 'restored', state, detail: 'restored, and replaced by a later experiment' };
    }
    if (current.status === 'restored') {
      return {
        status: 'restored',
        state: current,
        detail: `restored at ${current.restoredAt} by ${current.restoredBy}`,
      };
    }
    const now = deps.now();
    if (current.status === 'restoring' && inFlight(current.inFlightUntil, now)) {
      return {
        status: 'in-progress',
        state: current,
        detail: `another restore is at work until ${current.inFlightUntil}`,
      };
    }
    try {
      return await claimAndRestore(current, deps, restoredBy);
    } catch (error) {
      if (!(error instanceof StateChangedError)) throw error;
      current = await readState(deps.table, target);
    }
  }
  throw new StateChangedError(state.experimentId, state.status, 'restoring');
}

async function claimAndRestore(
  from: ExperimentState,
  deps: ChaosDeps,
  restoredBy: string,
): Promise<RestoreAttempt> {
  const { table, env } = deps;
  const now = deps.now();
  const applierMayActUntil =
    from.status === 'applying' && inFlight(from.inFlightUntil, now)
      ? from.inFlightUntil
      : from.applierMayActUntil;
  const claimed = await transition(table, env.service, from, 'restoring', {
    inFlightUntil: new Date(now.getTime() + IN_FLIGHT_WINDOW_MS).toISOString(),
    ...(applierMayActUntil ? { applierMayActUntil } : {}),
  });

  let outcomes: RestoreOutcomes | undefined;
  let left: string[];
  try {
    outcomes = await undoChanges(claimed, deps);
    left = await changesLeft(claimed, outcomes, deps);
  } catch (error) {
    left = [
      `the restore failed: ${isErrorLike(error) ? `${error.name}: ${error.message}` : String(error)}`,
    ];
  }
  const after = deps.now();
  if (inFlight(claimed.applierMayActUntil, after)) {
    left.push(
      `an inject of this experiment may still be applying until ${claimed.applierMayActUntil}; ` +
        'the sweep verifies after that',
    );
  }
  const scope = { experimentId: claimed.experimentId, action: 'restore', target: env.service };
  const did = outcomes
    ? `network ${outcomes.network ?? 'untouched'}, ${outcomes.faultsRemoved} fault(s) removed`
    : 'nothing verified';

  if (left.length > 0) {
    const detail = left.join('; ');
    const failed = await transition(table, env.service, claimed, 'restore-failed', {
      restoreFailure: detail,
    });
    deps.audit.record({ ...scope, outcome: 'failed', detail: `${did}; still there: ${detail}` });
    return { status: 'restore-failed', state: failed, ...(outcomes ? { outcomes } : {}), detail };
  }
  const restored = await transition(table, env.service, claimed, 'restored', {
    restoredAt: after.toISOString(),
    restoredBy,
  });
  await releaseLease(table, env.service, claimed.experimentId);
  deps.audit.record({ ...scope, outcome: 'done', detail: `${did}, by ${restoredBy}` });
  return {
    status: 'restored',
    state: restored,
    ...(outcomes ? { outcomes } : {}),
    detail: `undid: ${claimed.plan.summary}`,
  };
}

/**
 * Puts back what `state`'s plan changed: the service's original awsvpc configuration, exactly,
 * and the removal of exactly the faults it added. Idempotent. Stopped tasks need nothing (ECS
 * replaces them); a cache reboot cannot be undone.
 */
export async function undoChanges(
  state: ExperimentState,
  deps: ChaosDeps,
): Promise<RestoreOutcomes> {
  const { env } = deps;
  const scope = { audit: deps.audit, experimentId: state.experimentId };
  let network: RestoreOutcomes['network'];
  if (state.plan.network) {
    const current = await describeService(deps.ecs, env.clusterArn, env.service);
    network = sameNetwork(current.awsvpcConfiguration, state.plan.network.original)
      ? 'already-original'
      : await updateServiceNetwork(
          deps.ecs,
          env.clusterArn,
          env.service,
          state.plan.network.original,
          scope,
        );
  }
  let faultsRemoved = 0;
  if (state.plan.addFaults.length > 0) {
    const doc = await readFaultDocument(deps.ssm, env.faultsParameter);
    const next = withFaultsRemoved(doc, state.plan.addFaults, deps.now());
    faultsRemoved = doc.faults.filter((f) =>
      state.plan.addFaults.some((a) => sameFault(a, f)),
    ).length;
    // Rewritten only when something changes; expired faults are dropped on the way.
    if (next.faults.length !== doc.faults.length) {
      await writeFaultDocument(deps.ssm, env.faultsParameter, next);
    }
  }
  return { ...(network ? { network } : {}), faultsRemoved };
}

/** What of `state`'s changes is still there (or may be), read back after the undo. */
async function changesLeft(
  state: ExperimentState,
  outcomes: RestoreOutcomes,
  deps: ChaosDeps,
): Promise<string[]> {
  const left: string[] = [];
  const network = outcomes.network;
  if (
    network &&
    network !== 'done' &&
    network !== 'verified-done' &&
    network !== 'already-original'
  ) {
    left.push(
      `the service's network is not verified back to the original (UpdateService ${network})`,
    );
  }
  if (state.plan.addFaults.length > 0) {
    const doc = await readFaultDocument(deps.ssm, deps.env.faultsParameter);
    const now = deps.now();
    const live = doc.faults.filter(
      (f) => isLive(f, now) && state.plan.addFaults.some((a) => sameFault(a, f)),
    );
    if (live.length > 0) left.push(`${live.length} fault(s) of the experiment are still live`);
  }
  return left;
}
