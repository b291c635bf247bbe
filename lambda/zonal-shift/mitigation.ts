/**
 * The az-outage game day's mitigation: a zonal shift away from the impaired AZ, and how long it
 * takes to work. One poll at a time, as a pure function (the state machine calls it every poll
 * interval until `done`):
 *
 * - `appliedAt`: the first poll at which ARC reports the AZ's traffic weight at 0 for the load
 *   balancer (GetManagedResource `appliedWeights`);
 * - `shiftedAt`: the first poll, at or after `appliedAt`, at which every client read through the
 *   endpoint users reach succeeded: users stopped seeing errors. Time to shift = shiftedAt - startedAt;
 * - user errors during the shift: failed reads from the start until `shiftedAt` (or the end).
 *
 * It is done once `holdPolls` polls in a row after `shiftedAt` were clean (the shift held), or at
 * the deadline.
 */
import type { ReadResult } from '../gameday-observe/client-reads';

export interface ShiftObservation {
  readonly experimentId: string;
  readonly zonalShiftId: string;
  /** The AZ name the game day took out, and its AZ ID, which ARC shifts away from. */
  readonly availabilityZone: string;
  readonly awayFrom: string;
  /** When the start call returned (ms since the epoch). */
  readonly startedAt: number;
  readonly polls: number;
  readonly reads: number;
  /** Failed reads from the start until users stopped seeing errors (or the end). */
  readonly errorsDuringShift: number;
  /** Failed reads after `shiftedAt` (the shift should keep them at 0). */
  readonly errorsAfterShift: number;
  readonly appliedAt?: number;
  readonly shiftedAt?: number;
  /** Clean polls in a row since `shiftedAt`. */
  readonly cleanPolls: number;
  readonly done: boolean;
  readonly reason?: 'held' | 'timeout';
  readonly timeToShiftSeconds?: number;
}

export interface ShiftSignals {
  readonly at: number;
  /** ARC's weight for the AZ (0 once shifted); undefined when ARC did not say. */
  readonly appliedWeight: number | undefined;
  readonly reads: readonly ReadResult[];
}

export interface ShiftLimits {
  /** Clean polls in a row after `shiftedAt` before the mitigation counts as held. */
  readonly holdPolls: number;
  /** Seconds from the start after which the observation ends, shifted or not. */
  readonly timeoutSeconds: number;
}

export function startObservation(fields: {
  readonly experimentId: string;
  readonly zonalShiftId: string;
  readonly availabilityZone: string;
  readonly awayFrom: string;
  readonly startedAt: number;
}): ShiftObservation {
  return {
    ...fields,
    polls: 0,
    reads: 0,
    errorsDuringShift: 0,
    errorsAfterShift: 0,
    cleanPolls: 0,
    done: false,
  };
}

export function observeShift(
  previous: ShiftObservation,
  signals: ShiftSignals,
  limits: ShiftLimits,
): ShiftObservation {
  if (previous.done) return previous;
  const failed = signals.reads.filter((r) => !r.ok).length;
  const applied = previous.appliedAt ?? (signals.appliedWeight === 0 ? signals.at : undefined);
  const clean = signals.reads.length > 0 && failed === 0;
  const shiftedAt = previous.shiftedAt ?? (applied !== undefined && clean ? signals.at : undefined);
  const afterShift = previous.shiftedAt !== undefined;
  const cleanPolls = shiftedAt === undefined ? 0 : clean ? previous.cleanPolls + 1 : 0;
  const held = shiftedAt !== undefined && cleanPolls > limits.holdPolls;
  const timedOut = signals.at - previous.startedAt >= limits.timeoutSeconds * 1000;
  const done = held || timedOut;
  return {
    ...previous,
    polls: previous.polls + 1,
    reads: previous.reads + signals.reads.length,
    errorsDuringShift: previous.errorsDuringShift + (afterShift ? 0 : failed),
    errorsAfterShift: previous.errorsAfterShift + (afterShift ? failed : 0),
    ...(applied !== undefined ? { appliedAt: applied } : {}),
    ...(shiftedAt !== undefined
      ? {
          shiftedAt,
          timeToShiftSeconds: Math.max(0, Math.round((shiftedAt - previous.startedAt) / 100) / 10),
        }
      : {}),
    cleanPolls,
    done,
    ...(done ? { reason: held ? ('held' as const) : ('timeout' as const) } : {}),
  };
}
