/**
 * restore: undo an experiment back to the exact prior state, idempotently.
 *
 * - `{"experimentId": "..."}` restores that experiment now, whether or not its faults expired.
 * - `{"sweep": true}` (scheduled every minute) restores the current experiment once its faults
 *   have expired, so that changes with no built-in expiry (az-outage's subnets) end on time even
 *   if nobody calls restore; and it retries a `restore-failed` one every minute until it is.
 *
 * The answer is `restored` only when every change is verified gone; otherwise `restore-failed`,
 * and the experiment keeps its lease (see `shared/restore-experiment.ts`).
 *
 * Restore never waits on the region-impaired alarm: putting things back is always allowed.
 */
import type { ChaosEnv } from '../shared/env';
import { RestoreFailedError, RestoreInProgressError } from '../shared/errors';
import { experimentIdField, ownRegionField } from '../shared/events';
import type { ChaosDeps } from '../shared/experiment';
import type { GuardedFunction } from '../shared/handler';
import { RestoreOutcomes, restoreExperiment } from '../shared/restore-experiment';
import { readState } from '../shared/state-table';
import { boolean, exactly, optional, parseObject } from '../shared/validation';

export function parseRestoreEvent(raw: unknown, env: ChaosEnv) {
  return parseObject(
    {
      experimentId: optional(experimentIdField()),
      sweep: optional(exactly(true)),
      dryRun: optional(boolean(), false),
      region: optional(ownRegionField(env)),
    },
    raw,
    {
      refine: (event, problems) => {
        if ((event.sweep === true) === (event.experimentId !== undefined)) {
          problems.push(
            'give either experimentId (restore that experiment) or sweep: true, not both or neither',
          );
        }
      },
    },
  );
}
export type RestoreEvent = ReturnType<typeof parseRestoreEvent>;

export interface RestoreResult {
  readonly status:
    | 'restored'
    | 'restore-failed'
    | 'in-progress'
    | 'dry-run'
    | 'nothing-to-restore'
    | 'already-restored'
    | 'not-expired';
  readonly experimentId?: string;
  readonly detail: string;
  readonly outcomes?: RestoreOutcomes;
}

/**
 * Answers from the state as it is now, every time (never from a cache): restore is idempotent by
 * nature, through the experiment's state machine. Then it ends the experiment's zonal shift, if the
 * function has one to end (see `endZonalShift`).
 */
export async function restore(event: RestoreEvent, deps: ChaosDeps): Promise<RestoreResult> {
  const result = await restoreState(event, deps);
  return endZonalShift(event, result, deps);
}

/**
 * The az-outage game day's mitigation, an ARC zonal shift, ends on every exit: an explicit restore
 * (the state machine's, or the rule's for an execution that ended abnormally) ends the named
 * experiment's shift whatever the state says, and the sweep ends it once it restored the
 * experiment. Not on a dry run, nor while another restore is at work or the experiment has not
 * expired (the sweep leaves a running game day alone). A shift that is still active afterwards (or
 * may be) makes the restore a `restore-failed`, which the caller retries; the shift's own expiry
 * ends it regardless.
 */
async function endZonalShift(
  event: RestoreEvent,
  result: RestoreResult,
  deps: ChaosDeps,
): Promise<RestoreResult> {
  const experimentId = event.experimentId ?? result.experimentId;
  const ends =
    deps.zonalShifts !== undefined &&
    experimentId !== undefined &&
    !event.dryRun &&
    (event.experimentId !== undefined
      ? result.status !== 'in-progress'
      : result.status === 'restored');
  if (!ends || !deps.zonalShifts || experimentId === undefined) return result;
  let problem: string | undefined;
  try {
    const ended = await deps.zonalShifts.end(experimentId);
    if (ended.stillActive.length > 0) {
      problem = `zonal shift(s) ${ended.stillActive.join(', ')} still active after cancelling`;
    } else if (ended.cancelled.length > 0) {
      deps.audit.record({
        experimentId,
        action: 'restore',
        target: deps.env.service,
        outcome: 'done',
        detail: `ended zonal shift(s) ${ended.cancelled.join(', ')}`,
      });
      return {
        ...result,
        detail: `${result.detail}; ended zonal shift(s) ${ended.cancelled.join(', ')}`,
      };
    }
  } catch (error) {
    problem = `the zonal shift may still be active: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (problem === undefined) return result;
  return {
    ...result,
    status: 'restore-failed',
    experimentId,
    detail: `${result.detail}; ${problem}`,
  };
}

async function restoreState(event: RestoreEvent, deps: ChaosDeps): Promise<RestoreResult> {
  const target = deps.env.service;
  const now = deps.now();
  const state = await readState(deps.table, target);

  if (!state || (event.experimentId !== undefined && state.experimentId !== event.experimentId)) {
    return {
      status: 'nothing-to-restore',
      ...(event.experimentId ? { experimentId: event.experimentId } : {}),
      detail: state
        ? `the service's last experiment is ${state.experimentId}, not ${event.experimentId}`
        : 'no experiment has run on this service',
    };
  }
  if (state.status === 'restored') {
    return {
      status: event.sweep ? 'nothing-to-restore' : 'already-restored',
      experimentId: state.experimentId,
      detail: `restored at ${state.restoredAt} by ${state.restoredBy}`,
    };
  }
  // The sweep retries a failed or abandoned restore at once, and ends others once they expire.
  const retry = state.status === 'restore-failed' || state.status === 'restoring';
  if (event.sweep && !retry && new Date(state.faultExpiresAt) > now) {
    return {
      status: 'not-expired',
      experimentId: state.experimentId,
      detail: `its faults expire at ${state.faultExpiresAt}`,
    };
  }
  if (event.dryRun) {
    deps.audit.record({
      experimentId: state.experimentId,
      action: 'restore',
      target,
      outcome: 'would-do',
      detail: state.plan.summary,
    });
    return {
      status: 'dry-run',
      experimentId: state.experimentId,
      detail: `would undo: ${state.plan.summary}`,
    };
  }

  const attempt = await restoreExperiment(state, deps, event.sweep ? 'sweep' : 'restore');
  return {
    status: attempt.status,
    experimentId: state.experimentId,
    detail: attempt.detail,
    ...(attempt.outcomes ? { outcomes: attempt.outcomes } : {}),
  };
}

/** The guarded function `index.ts` deploys; exported so that tests run exactly this config. */
export const restoreFunction: GuardedFunction<RestoreEvent, RestoreResult> = {
  name: 'restore',
  parse: parseRestoreEvent,
  // A restore that could not verify is a failure to its caller (`RESTORE_FAILED`), and one that
  // found another restore at work is not done yet (`IN_PROGRESS`): neither is a success.
  run: async (event, deps) => {
    const result = await restore(event, deps);
    if (result.status === 'restore-failed') {
      throw new RestoreFailedError(result.experimentId ?? '(unknown)', result.detail);
    }
    if (result.status === 'in-progress') {
      throw new RestoreInProgressError(result.experimentId ?? '(unknown)', result.detail);
    }
    return result;
  },
  // Never answered from an idempotency record: a remembered answer can be stale (a restore
  // before the experiment existed would say nothing-to-restore for hours). Restore is idempotent
  // by nature and answers from the state as it is now.
  idempotencyKey: () => undefined,
};
