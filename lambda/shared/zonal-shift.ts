/**
 * A game day's zonal shift, found again by its comment, so that a lost answer never starts a
 * second one and a restore that knows only the experiment id can end it:
 *
 * - `startExperimentShift`: lists the resource's ACTIVE shifts first. Ours (by comment) is taken as
 *   is; anyone else's (an operator's, an autoshift, a practice run) refuses, as ARC allows one
 *   customer shift per resource. A start whose outcome is UNKNOWN (timeout, reset, 5xx, unreadable
 *   answer) or that ARC refuses as a conflict is followed by a list, which finds ours if it landed,
 *   before any second start.
 * - `endExperimentShifts`: cancels every ACTIVE shift of ours on the resource, taking "already
 *   ended" answers as done, then lists again and reports whether any is still active.
 *
 * The shift's own `expiresIn` is the backstop: it ends by itself even if every caller died.
 */
import { OutcomeUnknownError } from './errors';
import type { ZonalShift, ZonalShiftClient } from './zonal-shift-client';
import { ZonalShiftApiError } from './zonal-shift-client';

/** How ARC's API is used here; the client satisfies it, tests may wrap it. */
export type ZonalShiftApi = Pick<
  ZonalShiftClient,
  'startZonalShift' | 'cancelZonalShift' | 'listZonalShifts'
>;

/** The comment that marks a shift as this experiment's (ARC keeps up to 128 characters). */
export const shiftComment = (experimentId: string): string => `game day ${experimentId}`;

const isOurs = (shift: ZonalShift, experimentId: string) =>
  shift.comment === shiftComment(experimentId);

/** ARC takes `<n>m`, `<n>h` or `<n>d`, from 1 minute to 3 days. */
export function expiresInFor(minutes: number): string {
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > 3 * 24 * 60) {
    throw new RangeError(`a zonal shift lasts 1 to 4320 minutes, got ${minutes}`);
  }
  return `${minutes}m`;
}

export class ZonalShiftRefusal extends Error {
  public override readonly name = 'ZonalShiftRefusal';
}

export interface StartShiftInput {
  readonly experimentId: string;
  readonly resourceIdentifier: string;
  /** The AZ ID to shift away from, e.g. `euw1-az3` (not the account-specific AZ name). */
  readonly awayFrom: string;
  readonly expiresInMinutes: number;
}

export interface StartShiftResult {
  readonly shift: ZonalShift;
  /** `started` by this call, `found` (ours, already active), or `recovered` after an UNKNOWN start. */
  readonly how: 'started' | 'found' | 'recovered';
  /** Start calls made (more than one only after a start that surely did not happen). */
  readonly startCalls: number;
}

export async function startExperimentShift(
  api: ZonalShiftApi,
  input: StartShiftInput,
  maxStarts = 3,
): Promise<StartShiftResult> {
  const expiresIn = expiresInFor(input.expiresInMinutes);
  let startCalls = 0;
  let unknown = false;
  for (;;) {
    const active = await api.listZonalShifts({
      resourceIdentifier: input.resourceIdentifier,
      status: 'ACTIVE',
    });
    const ours = active.find((s) => isOurs(s, input.experimentId));
    if (ours) {
      if (ours.awayFrom !== input.awayFrom) {
        throw new ZonalShiftRefusal(
          `experiment ${input.experimentId} already shifts ${input.resourceIdentifier} away from ${ours.awayFrom}, not ${input.awayFrom}`,
        );
      }
      return { shift: ours, how: unknown || startCalls > 0 ? 'recovered' : 'found', startCalls };
    }
    const other = active[0];
    if (other) {
      throw new ZonalShiftRefusal(
        `${input.resourceIdentifier} already has an active zonal shift ${other.zonalShiftId} away from ${other.awayFrom} ` +
          `("${other.comment}"); ARC allows one at a time, and a game day does not override it`,
      );
    }
    if (startCalls >= maxStarts) {
      throw new OutcomeUnknownError(
        'StartZonalShift',
        `${startCalls} start(s) made and none is listed active`,
      );
    }
    startCalls++;
    try {
      const shift = await api.startZonalShift({
        resourceIdentifier: input.resourceIdentifier,
        awayFrom: input.awayFrom,
        expiresIn,
        comment: shiftComment(input.experimentId),
      });
      return { shift, how: 'started', startCalls };
    } catch (error) {
      if (error instanceof OutcomeUnknownError) {
        unknown = true;
        continue; // list: it may have landed
      }
      if (error instanceof ZonalShiftApiError && error.type === 'ConflictException') {
        continue; // list: ours may have landed from an earlier attempt, or another's did
      }
      throw error;
    }
  }
}

export interface EndShiftsResult {
  /** Ours that this call cancelled (or found already ended while cancelling). */
  readonly cancelled: readonly string[];
  /** Ours still ACTIVE after the cancels, by a fresh list: empty when the shift is verified gone. */
  readonly stillActive: readonly string[];
}

/** Already ended: cancelled by someone, or expired, between our list and our cancel. */
const alreadyEnded = (error: unknown) =>
  error instanceof ZonalShiftApiError &&
  (error.type === 'ResourceNotFoundException' ||
    (error.type === 'ConflictException' && error.reason === 'ZonalShiftStatusNotActive'));

export async function endExperimentShifts(
  api: ZonalShiftApi,
  input: { readonly experimentId: string; readonly resourceIdentifier: string },
  maxCancels = 3,
): Promise<EndShiftsResult> {
  const activeOurs = async () =>
    (await api.listZonalShifts({ resourceIdentifier: input.resourceIdentifier, status: 'ACTIVE' }))
      .filter((s) => isOurs(s, input.experimentId))
      .map((s) => s.zonalShiftId);
  const cancelled: string[] = [];
  for (const id of await activeOurs()) {
    for (let attempt = 1; ; attempt++) {
      try {
        await api.cancelZonalShift(id);
        break;
      } catch (error) {
        if (alreadyEnded(error)) break;
        // Cancelling twice is harmless: retry an UNKNOWN outcome.
        if (error instanceof OutcomeUnknownError && attempt < maxCancels) continue;
        throw error;
      }
    }
    cancelled.push(id);
  }
  return { cancelled, stillActive: await activeOurs() };
}
