/**
 * Applies one alarm observation to the region's entry: read the ETag, read the entry, decide,
 * write conditionally; on an ETag race or an unknown outcome, start over (bounded, with capped
 * exponential backoff and full jitter).
 *
 * States of one attempt: READ -> (STALE | ALREADY | WRITE); WRITE -> (WRITTEN | CONFLICT |
 * UNKNOWN); CONFLICT and UNKNOWN -> READ. A lost answer to a write that landed shows up on the next
 * READ as ALREADY (the same value and time), so it is never written twice.
 */
import { isErrorLike } from '../shared/errors';

import type { HealthObservation, HealthStore, StoredEntry } from './health-store';

export type WriteOutcome =
  /** Written by this call. */
  | 'written'
  /** The entry already says this, from this same alarm state (e.g. a write whose answer was lost). */
  | 'already'
  /** The entry holds a newer state: an older, late event must not overwrite it. */
  | 'stale';

export interface WriteResult {
  readonly region: string;
  readonly outcome: WriteOutcome;
  /** Conditional writes tried (0 when none was needed). */
  readonly writes: number;
  /** Reads that found the ETag moved or the outcome unknown, and started over. */
  readonly retries: number;
}

export interface WriteOptions {
  /** @default 6 */
  readonly maxAttempts?: number;
  /** First backoff cap, doubled each retry. @default 100 */
  readonly baseDelayMs?: number;
  /** @default 2000 */
  readonly maxDelayMs?: number;
  /** @default - setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default Math.random */
  readonly random?: () => number;
}

/** The writer gave up: the entry may still be wrong; the next reconcile corrects it. */
export class HealthWriteError extends Error {
  public override readonly name = 'HealthWriteError';
}

/** The answer says the write did not happen because the store moved under us. */
function isConflict(error: unknown): boolean {
  if (!isErrorLike(error)) return false;
  const status = statusOf(error) ?? 0;
  return (
    error.name === 'ConflictException' ||
    (error as { type?: unknown }).type === 'ConflictException' ||
    status === 409 ||
    status === 412
  );
}

/**
 * No answer (reset, timeout, OutcomeUnknownError), an unreadable 2xx, throttling or a server-side
 * failure: the write may or may not have landed, and reading again is harmless.
 */
function isUnknownOutcome(error: unknown): boolean {
  // Not `instanceof Error`: a socket error of node's own realm is not one in a test's sandbox.
  if (!isErrorLike(error)) return false;
  const status = statusOf(error);
  return status === undefined || status < 300 || status === 429 || status >= 500;
}

/** The HTTP status of an error answer: an AwsApiError's `status`, or an SDK error's metadata. */
function statusOf(error: object): number | undefined {
  const status = (error as { status?: unknown }).status;
  if (typeof status === 'number') return status;
  const metadata = (error as { $metadata?: { httpStatusCode?: number } }).$metadata;
  return typeof metadata === 'object' && metadata !== null ? metadata.httpStatusCode : undefined;
}

/** What the stored entry means for this observation. */
export function decide(
  stored: StoredEntry,
  observation: HealthObservation,
): 'write' | 'already' | 'stale' {
  const storedAt = stored.changedAt === undefined ? Number.NaN : Date.parse(stored.changedAt);
  // No (or an unreadable) time: the seeded entry, older than any alarm state.
  if (Number.isNaN(storedAt)) return 'write';
  const observedAt = Date.parse(observation.observedAt);
  if (storedAt > observedAt) return 'stale';
  if (storedAt === observedAt && stored.value === observation.health) return 'already';
  return 'write';
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function writeHealth(
  store: HealthStore,
  observation: HealthObservation,
  options: WriteOptions = {},
): Promise<WriteResult> {
  const maxAttempts = options.maxAttempts ?? 6;
  const base = options.baseDelayMs ?? 100;
  const cap = options.maxDelayMs ?? 2000;
  const sleep = options.sleep ?? realSleep;
  const random = options.random ?? Math.random;
  let writes = 0;
  let lastProblem = '';
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (attempt > 1) await sleep(random() * Math.min(cap, base * 2 ** (attempt - 2)));
    let etag: string;
    let stored: StoredEntry;
    try {
      // The ETag first: if the entry changes after it was read, the write's ETag is stale.
      etag = await store.etag();
      stored = await store.read(observation.region);
    } catch (error) {
      if (!isUnknownOutcome(error)) throw error;
      lastProblem = `read failed: ${String(error)}`;
      continue;
    }
    const decision = decide(stored, observation);
    if (decision !== 'write') {
      return { region: observation.region, outcome: decision, writes, retries: attempt - 1 };
    }
    writes++;
    try {
      await store.write(etag, observation);
      return { region: observation.region, outcome: 'written', writes, retries: attempt - 1 };
    } catch (error) {
      if (isConflict(error)) {
        lastProblem = 'the store changed between read and write (ETag conflict)';
      } else if (isUnknownOutcome(error)) {
        lastProblem = `the write's outcome is unknown: ${String(error)}`;
      } else {
        throw error;
      }
    }
  }
  throw new HealthWriteError(
    `gave up writing ${observation.region}=${observation.health} (${observation.observedAt}) after ${maxAttempts} attempts; last: ${lastProblem}`,
  );
}
