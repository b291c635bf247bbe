/**
 * The state table (partition key `pk`, TTL attribute `expiresAt` in epoch seconds) holds three
 * kinds of item:
 * - `lease#<service>`: which experiment may act on the service, and until when;
 * - `state#<service>`: what the current experiment changed and what to put back (for `restore`);
 * - Powertools idempotency records (their own key prefix), so a retried invocation acts once.
 *
 * A lease is taken with a conditional write that succeeds only when there is no lease, the lease
 * has expired, or the caller already holds it. DynamoDB's TTL deletes expired items lazily, so the
 * condition compares `expiresAt` itself: an expired lease frees itself the moment it expires.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
} from '@aws-sdk/lib-dynamodb';

import { LeaseHeldError } from './errors';
import type { ApplyOutcomes, ExperimentPlan } from './experiment';

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
  readonly ddb: DynamoDBDocumentClient;
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
    const out = await table.ddb.send(
      new PutCommand({
        TableName: table.tableName,
        Item: {
          pk: leaseKey(target),
          holder,
          expiresAt: epochSeconds(until),
          acquiredAt: now.toISOString(),
        },
        ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now OR holder = :holder',
        ExpressionAttributeValues: { ':now': Math.floor(now.getTime() / 1000), ':holder': holder },
        ReturnValues: 'ALL_OLD',
      }),
    );
    const old = out.Attributes;
    return old && typeof old.holder === 'string' && typeof old.expiresAt === 'number'
      ? { replaced: { holder: old.holder, expiresAt: new Date(old.expiresAt * 1000) } }
      : {};
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    const current = await readLease(table, target);
    throw new LeaseHeldError(target, current?.holder, current?.expiresAt);
  }
}

export async function readLease(table: StateTable, target: string): Promise<Lease | undefined> {
  const out = await table.ddb.send(
    new GetCommand({
      TableName: table.tableName,
      Key: { pk: leaseKey(target) },
      ConsistentRead: true,
    }),
  );
  const item = out.Item;
  return item && typeof item.holder === 'string' && typeof item.expiresAt === 'number'
    ? { holder: item.holder, expiresAt: new Date(item.expiresAt * 1000) }
    : undefined;
}

/** Releases the lease if `holder` still holds it. Returns whether it did. */
export async function releaseLease(
  table: StateTable,
  target: string,
  holder: string,
): Promise<boolean> {
  try {
    await table.ddb.send(
      new DeleteCommand({
        TableName: table.tableName,
        Key: { pk: leaseKey(target) },
        ConditionExpression: 'holder = :holder',
        ExpressionAttributeValues: { ':holder': holder },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/** What an experiment plans to change, written before it changes anything, so `restore` can undo it. */
export interface ExperimentState {
  readonly experimentId: string;
  readonly kind: ExperimentKind;
  readonly status: 'active' | 'restored';
  readonly startedAt: string;
  /** When the experiment's faults expire by themselves (and its lease with them). */
  readonly faultExpiresAt: string;
  /** What it does: the exact faults it adds, the original network configuration, ... */
  readonly plan: ExperimentPlan;
  readonly appliedAt?: string;
  readonly outcomes?: ApplyOutcomes;
  readonly restoredAt?: string;
  readonly restoredBy?: string;
}

/** Remembered state is kept a week after the fault expires, then TTL removes it. */
const STATE_RETENTION_SECONDS = 7 * 24 * 3600;

export async function readState(
  table: StateTable,
  target: string,
): Promise<ExperimentState | undefined> {
  const out = await table.ddb.send(
    new GetCommand({
      TableName: table.tableName,
      Key: { pk: stateKey(target) },
      ConsistentRead: true,
    }),
  );
  if (!out.Item) return undefined;
  const state: Record<string, unknown> = { ...out.Item };
  delete state.pk;
  delete state.expiresAt;
  return state as unknown as ExperimentState;
}

/** Writes the remembered state. Call only while holding the target's lease. */
export async function writeState(
  table: StateTable,
  target: string,
  state: ExperimentState,
): Promise<void> {
  await table.ddb.send(
    new PutCommand({
      TableName: table.tableName,
      Item: {
        ...state,
        pk: stateKey(target),
        expiresAt: epochSeconds(new Date(state.faultExpiresAt)) + STATE_RETENTION_SECONDS,
      },
    }),
  );
}

export const leaseKey = (target: string): string => `lease#${target}`;
export const stateKey = (target: string): string => `state#${target}`;
