/**
 * The state table (partition key `pk`, TTL attribute `expiresAt` in epoch seconds) holds three
 * kinds of item:
 * - `lease#<service>`: which experiment may act on the service, and until when;
 * - `state#<service>`: what the current experiment changed and what to put back (for `restore`),
 *   and where it is in its life; each transition is one conditional write (`experiment-states.ts`);
 * - Powertools idempotency records (their own key prefix), so a retried invocation acts once.
 *
 * A lease is taken with a conditional write that succeeds only when there is no lease, the lease
 * has expired, or the caller already holds it. DynamoDB's TTL deletes expired items lazily, so the
 * condition compares `expiresAt` itself: an expired lease frees itself the moment it expires.
 *
 * A lost answer to a conditional write: every write here is asked again as the same question,
 * because its condition admits its own earlier landing. A lease's condition admits its holder; a
 * state's write carries a token (`writeId`, new for each write) and its condition admits an item
 * that carries the same token. So a write that landed and whose answer was lost succeeds when asked
 * again, instead of failing its condition against itself and reading as a lost race.
 */
import { randomUUID } from 'node:crypto';

import { conditionFailed, fromItem, itemReads, toItem, type DynamoDbCalls } from './dynamodb-api';
import { LeaseHeldError } from './errors';
import type { ApplyOutcomes, ExperimentPlan } from './experiment';
import { ExperimentStatus, TRANSITIONS, isAllowedTransition } from './experiment-states';
import { leaseKey, readLeaseWith, readStateWith, stateKey } from './state-items';

export const EXPERIMENT_KINDS = [
  'stop-tasks',
  'az-outage',
  'empty-responses',
  'region-outage',
  'cache-outage',
  'latency',
] as const;
export type ExperimentKind = (typeof EXPERIMENT_KINDS)[number];

export interface StateTable {
  /** DynamoDB's item calls (`dynamodb-api.ts`). */
  readonly api: DynamoDbCalls;
  readonly tableName: string;
}

export const epochSeconds = (date: Date): number => Math.ceil(date.getTime() / 1000);

export interface Lease {
  readonly holder: string;
  readonly expiresAt: Date;
}

/**
 * Takes the lease on `target` for `holder` until `until`. Re-entrant for the same holder (a retried
 * invocation keeps its lease). Returns the lease it replaced, if any, so the caller can tidy up
 * after an expired holder. Throws LeaseHeldError when someone else holds a live lease.
 */
export async function acquireLease(
  table: StateTable,
  target: string,
  holder: string,
  until: Date,
  now: Date,
): Promise<{ readonly replaced?: Lease }> {
  try {
    const out = await table.api.call(
      'PutItem',
      {
        TableName: table.tableName,
        Item: toItem({
          pk: leaseKey(target),
          holder,
          expiresAt: epochSeconds(until),
          acquiredAt: now.toISOString(),
        }),
        ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now OR holder = :holder',
        ExpressionAttributeValues: toItem({
          ':now': Math.floor(now.getTime() / 1000),
          ':holder': holder,
        }),
        ReturnValues: 'ALL_OLD',
      },
      // Asked again after a lost answer, the holder's own lease satisfies the condition.
      { idempotent: true },
    );
    const old = out.Attributes ? fromItem(out.Attributes) : undefined;
    return old && typeof old.holder === 'string' && typeof old.expiresAt === 'number'
      ? { replaced: { holder: old.holder, expiresAt: new Date(old.expiresAt * 1000) } }
      : {};
  } catch (error) {
    if (!conditionFailed(error)) throw error;
    const current = await readLease(table, target);
    throw new LeaseHeldError(target, current?.holder, current?.expiresAt);
  }
}

export async function readLease(table: StateTable, target: string): Promise<Lease | undefined> {
  return readLeaseWith(itemReads(table.api, table.tableName), target);
}

/**
 * Releases the lease if `holder` still holds it. Returns false when another holder has it; true
 * when `holder`'s lease is gone (released now, or already: asked again after a lost answer, the
 * delete finds no lease and succeeds).
 */
export async function releaseLease(
  table: StateTable,
  target: string,
  holder: string,
): Promise<boolean> {
  try {
    await table.api.call(
      'DeleteItem',
      {
        TableName: table.tableName,
        Key: toItem({ pk: leaseKey(target) }),
        ConditionExpression: 'attribute_not_exists(pk) OR holder = :holder',
        ExpressionAttributeValues: toItem({ ':holder': holder }),
      },
      { idempotent: true },
    );
    return true;
  } catch (error) {
    if (conditionFailed(error)) return false;
    throw error;
  }
}

/**
 * What an experiment plans to change and where it is in its life (see `experiment-states.ts`),
 * written before it changes anything, so `restore` can undo it.
 */
export interface ExperimentState {
  readonly experimentId: string;
  readonly kind: ExperimentKind;
  readonly status: ExperimentStatus;
  /** The fencing token: incremented by every transition, which is conditional on it. */
  readonly version: number;
  readonly startedAt: string;
  /** When the experiment's faults expire by themselves (its lease lasts CLOCK_SKEW_MARGIN longer). */
  readonly faultExpiresAt: string;
  /** What it does: the exact faults it adds, the original network configuration, ... */
  readonly plan: ExperimentPlan;
  /** In `applying` and `restoring`: until when the invocation that claimed it may still act. */
  readonly inFlightUntil?: string;
  readonly appliedAt?: string;
  readonly outcomes?: ApplyOutcomes;
  readonly restoredAt?: string;
  readonly restoredBy?: string;
  /**
   * Set when a restore claimed the experiment from an `applying` that may still be in flight: until
   * then the applier may still write, so the restore may not claim `restored` before it.
   */
  readonly applierMayActUntil?: string;
  /** In `restore-failed`: what is (or may be) still there. */
  readonly restoreFailure?: string;
}

/** A state as written by `transition`: what changes, besides status and version. */
export type StateChange = Partial<Omit<ExperimentState, 'version' | 'status' | 'experimentId'>>;

/** Remembered state is kept a week after the fault expires, then TTL removes it. */
const STATE_RETENTION_SECONDS = 7 * 24 * 3600;

export async function readState(
  table: StateTable,
  target: string,
): Promise<ExperimentState | undefined> {
  return readStateWith(itemReads(table.api, table.tableName), target);
}

/**
 * Creates the `planned` state of a new experiment, replacing `previous` (which must be the state
 * as read: absent, or `restored`). One conditional write; throws StateChangedError if the item
 * is no longer what was read.
 */
export async function createState(
  table: StateTable,
  target: string,
  state: Omit<ExperimentState, 'status' | 'version'>,
  previous: ExperimentState | undefined,
): Promise<ExperimentState> {
  if (previous && previous.status !== 'restored') {
    throw new Error(
      `cannot replace experiment ${previous.experimentId} in state ${previous.status}`,
    );
  }
  const created: ExperimentState = {
    ...state,
    status: 'planned',
    version: (previous?.version ?? 0) + 1,
  };
  await conditionalPut(table, target, created, previous);
  return created;
}

/**
 * Moves `from` (the state as read) to `to`, with `change` applied. One conditional write on the
 * version and status read; throws StateChangedError when another invocation moved it first, and
 * refuses a transition that `TRANSITIONS` does not allow.
 */
export async function transition(
  table: StateTable,
  target: string,
  from: ExperimentState,
  to: ExperimentStatus,
  change: StateChange = {},
): Promise<ExperimentState> {
  if (!isAllowedTransition(from.status, to)) {
    throw new Error(
      `experiment ${from.experimentId} cannot go from ${from.status} to ${to}; allowed: ` +
        (TRANSITIONS[from.status].join(', ') || 'none'),
    );
  }
  const next: ExperimentState = { ...from, ...change, status: to, version: from.version + 1 };
  if (to !== 'applying' && to !== 'restoring')
    delete (next as { inFlightUntil?: string }).inFlightUntil;
  if (to !== 'restore-failed') delete (next as { restoreFailure?: string }).restoreFailure;
  await conditionalPut(table, target, next, from);
  return next;
}

async function conditionalPut(
  table: StateTable,
  target: string,
  next: ExperimentState,
  expected: ExperimentState | undefined,
): Promise<void> {
  // This write's token: asked again after a lost answer, an item that carries it is this write.
  const writeId = randomUUID();
  const expectation = expected
    ? '(#status = :status AND experimentId = :id AND ' +
      (expected.version === 0 ? 'attribute_not_exists(#version))' : '#version = :version)')
    : 'attribute_not_exists(pk)';
  try {
    await table.api.call(
      'PutItem',
      {
        TableName: table.tableName,
        Item: toItem({
          ...next,
          pk: stateKey(target),
          expiresAt: epochSeconds(new Date(next.faultExpiresAt)) + STATE_RETENTION_SECONDS,
          writeId,
        }),
        ConditionExpression: `${expectation} OR writeId = :writeId`,
        ExpressionAttributeNames: expected
          ? { '#status': 'status', '#version': 'version' }
          : undefined,
        ExpressionAttributeValues: toItem({
          ':writeId': writeId,
          ...(expected
            ? {
                ':status': expected.status,
                ':id': expected.experimentId,
                ...(expected.version === 0 ? {} : { ':version': expected.version }),
              }
            : {}),
        }),
      },
      { idempotent: true },
    );
  } catch (error) {
    if (conditionFailed(error)) {
      throw new StateChangedError(next.experimentId, expected?.status, next.status);
    }
    throw error;
  }
}

/** Another invocation changed the experiment's state between our read and our write. */
export class StateChangedError extends Error {
  public override readonly name = 'StateChangedError';

  constructor(
    public readonly experimentId: string,
    public readonly from: ExperimentStatus | undefined,
    public readonly to: ExperimentStatus,
  ) {
    super(
      `the state of experiment ${experimentId} changed while it went from ${from ?? '(none)'} to ${to}`,
    );
  }
}

export { leaseKey, stateKey } from './state-items';
