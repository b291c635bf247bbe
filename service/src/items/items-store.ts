import { randomBytes } from 'node:crypto';

import {
  GetCommand,
  ScanCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';

import type { AwsCaller } from '../aws/clients';
import { BadRequestError, PreconditionFailedError } from '../errors';

/**
 * One table, partition key `pk` only, TTL on `expiresAt` (epoch seconds). Items and idempotency
 * records share it, told apart by key prefix:
 *   item#<id>        a catalog item
 *   idem#<sha-256>   an idempotency record (expires by TTL)
 */
export const ITEM_PREFIX = 'item#';
export const IDEMPOTENCY_PREFIX = 'idem#';

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
  /** The idempotency record of the write that produced this version, if it had one. */
  readonly writeKey?: string;
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
  writeKey?: string;
}

const MAX_SCANS_PER_PAGE = 5;
const CURSOR_KEY = /^(item#[A-Za-z0-9_-]{1,64}|idem#[0-9a-f]{64})$/;

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
  return { item, etag: record.etag, writeKey: record.writeKey };
}

/** Catalog items in DynamoDB. Writes are single conditional UpdateItem calls, so races are safe. */
export class ItemsStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly caller: AwsCaller,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async get(id: string, options: { consistent?: boolean } = {}): Promise<StoredItem | undefined> {
    const output = await this.caller.call('GetItem', (abortSignal) =>
      this.client.send(
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
        this.client.send(
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
   * Creates or replaces an item in one conditional write: the version goes up by one and the ETag
   * is new. `ifMatch` makes it conditional (412 when the item changed). `writeKey` is stored on
   * the item so a retried idempotent request can tell whether this write happened.
   */
  async put(
    id: string,
    input: ItemInput,
    options: { ifMatch?: IfMatch; writeKey?: string } = {},
  ): Promise<{ stored: StoredItem; created: boolean }> {
    const names: Record<string, string> = {
      '#id': 'id',
      '#name': 'name',
      '#price': 'price',
      '#version': 'version',
      '#updatedAt': 'updatedAt',
      '#etag': 'etag',
      '#tags': 'tags',
      '#writeKey': 'writeKey',
    };
    const values: Record<string, unknown> = {
      ':id': id,
      ':name': input.name,
      ':price': input.price,
      ':zero': 0,
      ':one': 1,
      ':now': this.now().toISOString(),
      ':etag': randomBytes(12).toString('base64url'),
    };
    const set = [
      '#id = :id',
      '#name = :name',
      '#price = :price',
      '#version = if_not_exists(#version, :zero) + :one',
      '#updatedAt = :now',
      '#etag = :etag',
    ];
    const remove: string[] = [];
    if (input.tags && input.tags.length > 0) {
      set.push('#tags = :tags');
      values[':tags'] = [...input.tags];
    } else {
      remove.push('#tags');
    }
    if (options.writeKey) {
      set.push('#writeKey = :writeKey');
      values[':writeKey'] = options.writeKey;
    } else {
      remove.push('#writeKey');
    }
    let condition: string | undefined;
    if (options.ifMatch?.kind === 'any') {
      condition = 'attribute_exists(pk)';
    } else if (options.ifMatch?.kind === 'etag') {
      condition = '#etag = :expected';
      values[':expected'] = options.ifMatch.etag;
    }
    const update = `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`;
    try {
      const output = await this.caller.call(
        'UpdateItem',
        (abortSignal) =>
          this.client.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: { pk: ITEM_PREFIX + id },
              UpdateExpression: update,
              ConditionExpression: condition,
              ExpressionAttributeNames: names,
              ExpressionAttributeValues: values,
              ReturnValues: 'ALL_NEW',
            }),
            { abortSignal },
          ),
        isConditionalCheckFailed,
      );
      const stored = toStored(output.Attributes as ItemRecord);
      return { stored, created: stored.item.version === 1 };
    } catch (error) {
      if (isConditionalCheckFailed(error)) {
        throw new PreconditionFailedError(
          options.ifMatch?.kind === 'any'
            ? `item '${id}' does not exist`
            : `item '${id}' has changed; GET it for the current ETag`,
        );
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
          this.client.send(
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
