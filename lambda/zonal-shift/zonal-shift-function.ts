/**
 * zonal-shift: the az-outage game day's mitigation step, called by the orchestrator.
 *
 * - `{"action": "start", "experimentId", "availabilityZone"}` starts a zonal shift of the load
 *   balancer away from that AZ (by its AZ ID), only while the experiment is the service's current
 *   one and not being restored; it expires by itself when the experiment's faults do. A shift that
 *   landed after a restore claimed the experiment is ended again before answering.
 * - `{"action": "observe", "shift": {...}}` is one poll: ARC's applied weight for the AZ and client
 *   reads through the endpoint users reach (see `mitigation.ts`).
 *
 * Ending the shift is restore's job (lambda/restore), on every exit of the game day.
 */
import type { ReadResult } from '../gameday-observe/client-reads';
import { EventValidationError, GuardrailRefusal } from '../shared/errors';
import { experimentIdField } from '../shared/events';
import type { ExperimentState } from '../shared/state-table';
import type { Field } from '../shared/validation';
import { boolean, exactly, integer, parseObject, string } from '../shared/validation';
import {
  ZonalShiftRefusal,
  endExperimentShifts,
  startExperimentShift,
} from '../shared/zonal-shift';
import type { ZonalShiftApi } from '../shared/zonal-shift';
import type { ZonalShiftClient } from '../shared/zonal-shift-client';

import { ShiftLimits, ShiftObservation, observeShift, startObservation } from './mitigation';

export interface ZonalShiftDeps {
  readonly api: ZonalShiftApi & Pick<ZonalShiftClient, 'getManagedResource'>;
  /** The load balancer's ARN. */
  readonly resourceIdentifier: string;
  /** The AZ ID of an AZ name of this account (AZ names map to different AZs per account). */
  readonly azIdOf: (availabilityZone: string) => Promise<string>;
  /** The service's current experiment state. */
  readonly state: () => Promise<ExperimentState | undefined>;
  readonly reads: () => Promise<readonly ReadResult[]>;
  readonly limits: ShiftLimits;
  /** The longest a shift may last, as the chaos guardrails cap faults. */
  readonly maxFaultDurationMinutes: number;
  readonly now: () => number;
}

const AZ_NAME = /^[a-z]{2}(-[a-z]+)+-\d[a-z]$/;
const AZ_ID = /^[a-z]{2,5}\d-az\d{1,2}$/;

/** The previous poll's observation, as this function returned it; its counters are checked. */
const observation: Field<ShiftObservation> = {
  optional: false,
  expects: 'the observation the previous start or observe returned',
  parse(value, name, problems) {
    try {
      return parseObject(
        {
          experimentId: experimentIdField(),
          zonalShiftId: string({ pattern: /^[\w-]{1,64}$/, expects: 'a zonal shift id' }),
          availabilityZone: string({ pattern: AZ_NAME, expects: 'an AZ name such as eu-west-1a' }),
          awayFrom: string({ pattern: AZ_ID, expects: 'an AZ ID such as euw1-az1' }),
          startedAt: integer(0, Number.MAX_SAFE_INTEGER, ' (ms since the epoch)'),
          polls: integer(0, 100_000),
          reads: integer(0, 10_000_000),
          errorsDuringShift: integer(0, 10_000_000),
          errorsAfterShift: integer(0, 10_000_000),
          cleanPolls: integer(0, 100_000),
          done: boolean(),
        },
        value,
        { allowUnknown: true },
      );
    } catch (error) {
      if (!(error instanceof EventValidationError)) throw error;
      problems.push(...error.problems.map((p) => `${name}: ${p}`));
      return undefined;
    }
  },
};

export function parseZonalShiftEvent(raw: unknown) {
  const action = (raw as { action?: unknown } | null)?.action;
  if (action === 'observe') {
    return parseObject({ action: exactly('observe'), shift: observation }, raw);
  }
  return parseObject(
    {
      action: exactly('start'),
      experimentId: experimentIdField(),
      availabilityZone: string({ pattern: AZ_NAME, expects: 'an AZ name such as eu-west-1a' }),
    },
    raw,
  );
}
export type ZonalShiftEvent = ReturnType<typeof parseZonalShiftEvent>;

/** The experiment may be mitigated only while its fault stands. */
const MITIGABLE = new Set(['applying', 'active']);

async function start(
  event: Extract<ZonalShiftEvent, { action: 'start' }>,
  deps: ZonalShiftDeps,
): Promise<ShiftObservation> {
  const state = await deps.state();
  if (!state || state.experimentId !== event.experimentId || !MITIGABLE.has(state.status)) {
    throw new GuardrailRefusal(
      'no-target',
      `experiment ${event.experimentId} is not the service's running experiment ` +
        `(${state ? `${state.experimentId} is ${state.status}` : 'none has run'}); no zonal shift started`,
    );
  }
  const now = deps.now();
  // The shift expires with the fault: the backstop holds even if every restore failed.
  const minutes = Math.min(
    deps.maxFaultDurationMinutes,
    Math.max(1, Math.ceil((Date.parse(state.faultExpiresAt) - now) / 60_000)),
  );
  const awayFrom = await deps.azIdOf(event.availabilityZone);
  let shift;
  try {
    shift = await startExperimentShift(deps.api, {
      experimentId: event.experimentId,
      resourceIdentifier: deps.resourceIdentifier,
      awayFrom,
      expiresInMinutes: minutes,
    });
  } catch (error) {
    if (error instanceof ZonalShiftRefusal) throw new GuardrailRefusal('no-target', error.message);
    throw error;
  }
  // A restore that claimed the experiment meanwhile may have listed before our shift existed.
  const after = await deps.state();
  if (!after || after.experimentId !== event.experimentId || !MITIGABLE.has(after.status)) {
    await endExperimentShifts(deps.api, {
      experimentId: event.experimentId,
      resourceIdentifier: deps.resourceIdentifier,
    });
    throw new GuardrailRefusal(
      'no-target',
      `experiment ${event.experimentId} was restored while the zonal shift started; the shift was ended`,
    );
  }
  return startObservation({
    experimentId: event.experimentId,
    zonalShiftId: shift.shift.zonalShiftId,
    availabilityZone: event.availabilityZone,
    awayFrom,
    startedAt: deps.now(),
  });
}

async function observe(
  previous: ShiftObservation,
  deps: ZonalShiftDeps,
): Promise<ShiftObservation> {
  const [resource, reads] = await Promise.all([
    deps.api.getManagedResource(deps.resourceIdentifier),
    deps.reads(),
  ]);
  return observeShift(
    previous,
    { at: deps.now(), appliedWeight: resource.appliedWeights?.[previous.awayFrom], reads },
    deps.limits,
  );
}

export function zonalShiftFunction(
  event: ZonalShiftEvent,
  deps: ZonalShiftDeps,
): Promise<ShiftObservation> {
  return event.action === 'start' ? start(event, deps) : observe(event.shift, deps);
}
