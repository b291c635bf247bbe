import { randomBytes, randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  PutCommand,
  ScanCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';

import type { AwsCaller } from '../aws/clients';
import { DependencyError } from '../dependencies/outcome';
import {
  BadRequestError,
  HttpError,
  PreconditionFailedError,
  WriteOutcomeUnknownError,
} from '../errors';

import {
  DEFAULT_KEY_TTL_SECONDS,
  DEFAULT_MAX_ENTRIES,
  findApplied,
  keyToken,
  PLAIN_TOKEN_TTL_SECONDS,
  withApplied,
  type AppliedWrite,
  type AppliedWrites,
  type IdempotencyOptions,
} from './applied-writes';

/**
 * One table, partition key `pk` only (TTL on `expiresAt`, epoch seconds, for records that expire).
 * Items live under `item#<id>`; each carries the writes it remembers (applied-writes.ts), so
 * idempotency needs no records of its own.
 */
export const ITEM_PREFIX = 'item#';

/** Ids are path-safe; ids starting with `_` are reserved for the service (the health sentinel). */
export const ITEM_ID_PATTERN = '^[A-Za-z0-9_-]{1,64}$';
export const RESERVED_ID_PREFIX = '_';
export const SENTINEL_ID = '_health-sentinel';

export interface ItemInput {
  readonly name: string;
  readonly price: number;
  readonly tags?: readonly string[];
}

/** An item as clients see it. */
export interface Item extends ItemInput {
  readonly id: string;
  readonly version: number;
  readonly updatedAt: string;
}

export interface StoredItem {
  readonly item: Item;
  /** Strong validator, new on every write (without quotes). */
  readonly etag: string;
}

/** The DynamoDB clients: reads retry in the SDK; conditional writes must not (see `put`). */
export interface DynamoDbClients {
  readonly reads: DynamoDBDocumentClient;
  readonly writes: DynamoDBDocumentClient;
}

export interface ItemsStoreOptions extends IdempotencyOptions {
  /**
   * Attempts of one write that failed without an answer or before sending, each after reading the
   * item back.
   * @default 3
   */
  readonly writeAttempts?: number;
}

export interface PutOptions {
  /** `If-Match`: the write applies only to this version (412 otherwise). */
  readonly ifMatch?: IfMatch;
  /** An Idempotency-Key (hashed) and what makes a request with it the same request. */
  readonly idempotency?: { readonly keyHash: string; readonly fingerprint: string };
}

/** What a write did: the version it produced, and whether that was an earlier request's. */
export interface WriteResult {
  readonly stored: StoredItem;
  /** True when an earlier request with the same Idempotency-Key had written it. */
  readonly replayed: boolean;
}

export interface ItemPage {
  readonly items: StoredItem[];
  readonly nextCursor?: string;
}

/** `If-Match`: `*` (the item must exist) or one strong ETag. */
export type IfMatch = { readonly kind: 'any' } | { readonly kind: 'etag'; readonly etag: string };

interface ItemRecord {
  pk: string;
  id: string;
  name: string;
  price: number;
  tags?: string[];
  version: number;
  updatedAt: string;
  etag: string;
  writes?: AppliedWrites;
}

const MAX_SCANS_PER_PAGE = 5;
const CURSOR_KEY = /^item#[A-Za-z0-9_-]{1,64}$/;
/** Condition failures (other writers) one write goes through before giving up. */
const MAX_CONTENTION_ROUNDS = 8;

export function isConditionalCheckFailed(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

function toStored(record: ItemRecord): StoredItem {
  const item: Item = {
    id: record.id,
    name: record.name,
    price: record.price,
    ...(record.tags ? { tags: record.tags } : {}),
    version: record.version,
    updatedAt: record.updatedAt,
  };
  return { item, etag: record.etag };
}

/** The item a write produced, rebuilt from the request and its applied-write entry. */
function appliedItem(id: string, input: ItemInput, applied: AppliedWrite): StoredItem {
  return toStored({
    pk: ITEM_PREFIX + id,
    id,
    name: input.name,
    price: input.price,
    ...(input.tags && input.tags.length > 0 ? { tags: [...input.tags] } : {}),
    version: applied.v,
    updatedAt: applied.u,
    etag: applied.e,
  });
}

/**
 * This request's entry in the item DynamoDB returns with a failed condition
 * (ReturnValuesOnConditionCheckFailure: ALL_OLD), read from the raw attribute values. When it is
 * there, the item need not be read again.
 */
function appliedInFailedCondition(error: unknown, token: string): AppliedWrite | undefined {
  const item = (error as { Item?: Record<string, AttributeValue> }).Item;
  const entry = item?.writes?.M?.[token]?.M;
  if (!entry?.v?.N || !entry.e?.S || !entry.u?.S || !entry.x?.N) return undefined;
  return {
    v: Number(entry.v.N),
    e: entry.e.S,
    u: entry.u.S,
    x: Number(entry.x.N),
    ...(entry.f?.S ? { f: entry.f.S } : {}),
  };
}

/** Full-jitter backoff before another attempt: up to 50, 100, 200 ... ms. */
async function backoff(failures: number): Promise<void> {
  await sleep(randomInt(1, 50 * 2 ** Math.min(failures - 1, 4) + 1));
}

/** DynamoDB's number range (38 digits of precision; JavaScript numbers have 17 at most). */
const DYNAMODB_MIN_MAGNITUDE = 1e-130;
const DYNAMODB_MAX_MAGNITUDE_EXCLUSIVE = 1e126;

/**
 * Why DynamoDB would refuse this number, or undefined if it can store it: a client's number
 * outside this range is a 400 naming the field, not a 5xx from the write.
 */
export function unstorableNumber(field: string, value: number): string | undefined {
  const magnitude = Math.abs(value);
  if (
    Number.isFinite(value) &&
    (magnitude === 0 ||
      (magnitude >= DYNAMODB_MIN_MAGNITUDE && magnitude < DYNAMODB_MAX_MAGNITUDE_EXCLUSIVE))
  ) {
    return undefined;
  }
  return `${field} must be 0 or between 1e-130 and 9.99e125 in magnitude (what DynamoDB stores), got ${value}`;
}

/** Catalog items in DynamoDB. Every write is one conditional single-item write. */
export class ItemsStore {
  private readonly writeAttempts: number;
  private readonly idempotencyTtlSeconds: number;
  private readonly maxAppliedWrites: number;

  constructor(
    private readonly clients: DynamoDbClients,
    private readonly tableName: string,
    private readonly caller: AwsCaller,
    options: ItemsStoreOptions = {},
    private readonly now: () => Date = () => new Date(),
  ) {
    this.writeAttempts = options.writeAttempts ?? 3;
    this.idempotencyTtlSeconds = options.ttlSeconds ?? DEFAULT_KEY_TTL_SECONDS;
    this.maxAppliedWrites = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  }

  async get(id: string, options: { consistent?: boolean } = {}): Promise<StoredItem | undefined> {
    const output = await this.caller.call('GetItem', (abortSignal) =>
      this.clients.reads.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { pk: ITEM_PREFIX + id },
          ConsistentRead: options.consistent ?? false,
        }),
        { abortSignal },
      ),
    );
    return output.Item ? toStored(output.Item as ItemRecord) : undefined;
  }

  /**
   * A page of items in table order. The table has no sort key, so this scans and filters out
   * idempotency records and reserved items; the cursor is the key of the last item returned.
   */
  async list(limit: number, cursor?: string): Promise<ItemPage> {
    let startKey = cursor === undefined ? undefined : { pk: decodeCursor(cursor) };
    const items: StoredItem[] = [];
    for (let scan = 0; scan < MAX_SCANS_PER_PAGE; scan += 1) {
      const output = await this.caller.call('Scan', (abortSignal) =>
        this.clients.reads.send(
          new ScanCommand({
            TableName: this.tableName,
            Limit: Math.max(2 * (limit - items.length), 10),
            ExclusiveStartKey: startKey,
            FilterExpression: 'begins_with(pk, :items) AND NOT begins_with(pk, :reserved)',
            ExpressionAttributeValues: {
              ':items': ITEM_PREFIX,
              ':reserved': ITEM_PREFIX + RESERVED_ID_PREFIX,
            },
          }),
          { abortSignal },
        ),
      );
      for (const record of (output.Items ?? []) as ItemRecord[]) {
        items.push(toStored(record));
        if (items.length === limit) {
          // Resume after the last item returned, even if the scan read further.
          return { items, nextCursor: encodeCursor(record.pk) };
        }
      }
      if (!output.LastEvaluatedKey) return { items };
      startKey = output.LastEvaluatedKey as { pk: string };
    }
    return { items, nextCursor: encodeCursor(startKey?.pk ?? '') };
  }

  /**
   * Creates or replaces an item. Each attempt reads the item (strongly consistent) and writes the
   * whole new version with one conditional PutItem, conditioned on the ETag it read, so an attempt
   * only ever applies on top of the version it saw. The new version records this request's write
   * token (see applied-writes.ts) in the same write, which makes the outcome knowable:
   * - the answer is lost (timeout, reset, 5xx): the item is read back; if it holds the token, the
   *   write landed and its answer is rebuilt; if not, the next attempt writes. An earlier attempt
   *   still on its way is conditioned on the same ETag or an older one, so at most one of them
   *   applies, and the token tells which;
   * - the condition fails: the item changed since it was read; if it holds the token, it is this
   *   request's own earlier attempt (never a 412 for one's own write), else the attempt is redone
   *   on the new version, or answered 412 if `ifMatch` no longer matches;
   * - an Idempotency-Key's token is already there: the first answer is given again.
   * The SDK does not retry these writes (a blind retry of a conditional write that landed fails
   * its own condition); this loop does, after reading back.
   */
  async put(id: string, input: ItemInput, options: PutOptions = {}): Promise<WriteResult> {
    const nowMs = this.now().getTime();
    const nowSeconds = Math.floor(nowMs / 1000);
    const idempotency = options.idempotency;
    const token = idempotency
      ? keyToken(idempotency.keyHash)
      : `t:${randomBytes(12).toString('base64url')}`;
    const request = {
      etag: randomBytes(12).toString('base64url'),
      updatedAt: new Date(nowMs).toISOString(),
      expiresAt: nowSeconds + (idempotency ? this.idempotencyTtlSeconds : PLAIN_TOKEN_TTL_SECONDS),
    };
    let sentWithoutAnswer = false;
    let failures = 0;
    let contention = 0;
    let current = await this.readForWrite(id, false);
    for (;;) {
      const applied = findApplied(current?.writes, token, nowSeconds);
      if (applied) {
        if (idempotency && applied.f !== idempotency.fingerprint) {
          throw new HttpError(
            422,
            'idempotency_key_reused',
            'this Idempotency-Key was already used with a different request',
          );
        }
        // Written by this request (an attempt whose answer was lost) or by the first request
        // with this Idempotency-Key (a replay).
        return {
          stored: appliedItem(id, input, applied),
          replayed: applied.e !== request.etag,
        };
      }
      const expected = options.ifMatch;
      if (expected?.kind === 'any' && !current) {
        throw new PreconditionFailedError(`item '${id}' does not exist`);
      }
      if (expected?.kind === 'etag' && current?.etag !== expected.etag) {
        throw new PreconditionFailedError(`item '${id}' has changed; GET it for the current ETag`);
      }
      if (contention > MAX_CONTENTION_ROUNDS) {
        // The item moved past every ETag an attempt was conditioned on: none can still apply.
        throw new HttpError(
          503,
          'write_contention',
          `item '${id}' is being written by many clients at once; the write was not applied, retry`,
          { 'retry-after': '1' },
        );
      }
      const version = (current?.version ?? 0) + 1;
      const entry: AppliedWrite = {
        v: version,
        e: request.etag,
        u: request.updatedAt,
        x: request.expiresAt,
        ...(idempotency ? { f: idempotency.fingerprint } : {}),
      };
      const record: ItemRecord = {
        pk: ITEM_PREFIX + id,
        id,
        name: input.name,
        price: input.price,
        ...(input.tags && input.tags.length > 0 ? { tags: [...input.tags] } : {}),
        version,
        updatedAt: request.updatedAt,
        etag: request.etag,
        writes: withApplied(current?.writes, token, entry, nowSeconds, this.maxAppliedWrites),
      };
      try {
        await this.caller.call(
          'PutItem',
          (abortSignal) =>
            this.clients.writes.send(
              new PutCommand({
                TableName: this.tableName,
                Item: record,
                ConditionExpression: current ? '#etag = :seen' : 'attribute_not_exists(pk)',
                ExpressionAttributeNames: current ? { '#etag': 'etag' } : undefined,
                ExpressionAttributeValues: current ? { ':seen': current.etag } : undefined,
                // DynamoDB returns the item that failed the condition (dynalite ignores this and
                // the item is read instead).
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              }),
              { abortSignal },
            ),
          isConditionalCheckFailed,
        );
        return { stored: appliedItem(id, input, entry), replayed: false };
      } catch (error) {
        if (isConditionalCheckFailed(error)) {
          contention += 1;
          const mine = appliedInFailedCondition(error, token);
          current = mine
            ? { ...record, writes: { [token]: mine } }
            : await this.readForWrite(id, sentWithoutAnswer);
          continue;
        }
        if (!(error instanceof DependencyError)) throw error;
        failures += 1;
        if (error.outcome !== 'failed-before-send' && error.outcome !== 'fatal') {
          sentWithoutAnswer = true;
        }
        if (error.outcome === 'fatal' || failures >= this.writeAttempts) {
          if (!sentWithoutAnswer) throw error;
          // The last word on whether it landed: read it back once more.
          current = await this.readForWrite(id, true);
          const landed = findApplied(current?.writes, token, nowSeconds);
          if (landed) {
            return { stored: appliedItem(id, input, landed), replayed: landed.e !== request.etag };
          }
          throw new WriteOutcomeUnknownError(id);
        }
        await backoff(failures);
        current = await this.readForWrite(id, sentWithoutAnswer);
      }
    }
  }

  /**
   * The item as a write sees it (strongly consistent, with its applied writes). If a write of this
   * request may have landed and the read fails, the outcome is unknown.
   */
  private async readForWrite(
    id: string,
    sentWithoutAnswer: boolean,
  ): Promise<ItemRecord | undefined> {
    try {
      const output = await this.caller.call('GetItem', (abortSignal) =>
        this.clients.reads.send(
          new GetCommand({
            TableName: this.tableName,
            Key: { pk: ITEM_PREFIX + id },
            ConsistentRead: true,
          }),
          { abortSignal },
        ),
      );
      return output.Item as ItemRecord | undefined;
    } catch (error) {
      if (sentWithoutAnswer && error instanceof DependencyError) {
        throw new WriteOutcomeUnknownError(id);
      }
      throw error;
    }
  }

  /** Creates an item only if it does not exist (the health sentinel, sample data). */
  async ensure(id: string, input: ItemInput): Promise<void> {
    try {
      await this.caller.call(
        'UpdateItem',
        (abortSignal) =>
          this.clients.reads.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: { pk: ITEM_PREFIX + id },
              UpdateExpression:
                'SET #id = :id, #name = :name, #price = :price, #version = :one, #updatedAt = :now, #etag = :etag',
              ConditionExpression: 'attribute_not_exists(pk)',
              ExpressionAttributeNames: {
                '#id': 'id',
                '#name': 'name',
                '#price': 'price',
                '#version': 'version',
                '#updatedAt': 'updatedAt',
                '#etag': 'etag',
              },
              ExpressionAttributeValues: {
                ':id': id,
                ':name': input.name,
                ':price': input.price,
                ':one': 1,
                ':now': this.now().toISOString(),
                ':etag': randomBytes(12).toString('base64url'),
              },
            }),
            { abortSignal },
          ),
        isConditionalCheckFailed,
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }
}

export function encodeCursor(pk: string): string {
  return Buffer.from(pk, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): string {
  const pk = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!CURSOR_KEY.test(pk) || encodeCursor(pk) !== cursor) {
    throw new BadRequestError('cursor is not one this service issued');
  }
  return pk;
}
