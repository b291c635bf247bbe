/**
 * restore: undo an experiment back to the exact prior state, idempotently.
 *
 * - `{"experimentId": "..."}` restores that experiment now, whether or not its faults expired.
 * - `{"sweep": true}` (scheduled every minute) restores the current experiment once its faults
 *   have expired, so that changes with no built-in expiry (az-outage's subnets) end on time even
 *   if nobody calls restore.
 *
 * Restore never waits on the region-impaired alarm: putting things back is always allowed.
 */
import type { ChaosEnv } from '../shared/env';
import { experimentIdField, ownRegionField } from '../shared/events';
import { ChaosDeps, RestoreOutcomes, restoreExperiment } from '../shared/experiment';
import { acquireLease, readState, releaseLease } from '../shared/state-table';
import { boolean, exactly, optional, parseObject } from '../shared/validation';

/** How long restore holds the lease while it works; far longer than the function's timeout. */
const RESTORE_LEASE_MS = 5 * 60_000;

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
    'restored' | 'dry-run' | 'nothing-to-restore' | 'already-restored' | 'not-expired';
  readonly experimentId?: string;
  readonly detail: string;
  readonly outcomes?: RestoreOutcomes;
}

export async function restore(event: RestoreEvent, deps: ChaosDeps): Promise<RestoreResult> {
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
  if (event.sweep && new Date(state.faultExpiresAt) > now) {
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

  // The experiment's own id re-enters its lease; the sweep takes it only once it has expired.
  const holder = event.sweep ? `sweep:${state.experimentId}` : state.experimentId;
  await acquireLease(deps.table, target, holder, new Date(now.getTime() + RESTORE_LEASE_MS), now);
  const outcomes = await restoreExperiment(state, deps, event.sweep ? 'sweep' : 'restore');
  await releaseLease(deps.table, target, holder);
  return {
    status: 'restored',
    experimentId: state.experimentId,
    detail: `undid: ${state.plan.summary}`,
    outcomes,
  };
}
