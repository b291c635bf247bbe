import { createHash } from 'node:crypto';

import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';

import type { AwsCaller } from '../aws/clients';

import { IDEMPOTENCY_PREFIX, isConditionalCheckFailed } from './items-store';

/** The response a completed idempotent request gave; a retry gets it again. */
export interface StoredResponse {
  readonly statusCode: number;
  readonly etag: string;
  readonly body: string;
}

/**
 * What claiming an idempotency key found:
 * - `claimed`: first time; this request does the write;
 * - `taken-over`: an earlier attempt stopped without an answer (its write may have happened); this
 *   request checks the item before writing;
 * - `completed`: replay the stored response;
 * - `in-progress`: another attempt holds the key now;
 * - `mismatch`: the key was used for a different request.
 */
export type Claim =
  | { readonly kind: 'claimed' | 'taken-over' | 'in-progress' | 'mismatch' }
  | { readonly kind: 'completed'; readonly response: StoredResponse };

interface IdempotencyRecord {
  pk: string;
  state: 'pending' | 'completed';
  fingerprint: string;
  lockExpiresAtMs: number;
  /** Epoch seconds; the table's TTL attribute deletes the record after it. */
  expiresAt: number;
  response?: StoredResponse;
}

export interface IdempotencyOptions {
  /**
   * How long a claim is held before another attempt may take it over.
   * @default 10000
   */
  readonly lockMs?: number;
  /**
   * How long a key is remembered.
   * @default 86400
   */
  readonly ttlSeconds?: number;
}

export function hashKey(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/**
 * Idempotency records for `PUT` with an `Idempotency-Key`, in the items table under
 * `idem#<sha-256 of the key>`. The claim is a conditional put, so of two concurrent attempts one
 * writes and the other is told the key is in progress.
 */
export class IdempotencyStore {
  private readonly lockMs: number;
  private readonly ttlSeconds: number;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly caller: AwsCaller,
    options: IdempotencyOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.lockMs = options.lockMs ?? 10_000;
    this.ttlSeconds = options.ttlSeconds ?? 86_400;
  }

  async claim(keyHash: string, fingerprint: string): Promise<Claim> {
    const pk = IDEMPOTENCY_PREFIX + keyHash;
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const now = this.now();
      try {
        await this.caller.call(
          'PutItem',
          (abortSignal) =>
            this.client.send(
              new PutCommand({
                TableName: this.tableName,
                Item: {
                  pk,
                  state: 'pending',
                  fingerprint,
                  lockExpiresAtMs: now + this.lockMs,
                  expiresAt: Math.floor(now / 1000) + this.ttlSeconds,
                } satisfies IdempotencyRecord,
                // TTL deletes within days, not at once: an expired record counts as absent.
                ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :nowSeconds',
                ExpressionAttributeValues: { ':nowSeconds': Math.floor(now / 1000) },
              }),
              { abortSignal },
            ),
          isConditionalCheckFailed,
        );
        return { kind: 'claimed' };
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
      }
      const record = await this.read(pk);
      if (!record) continue;
      if (record.fingerprint !== fingerprint) return { kind: 'mismatch' };
      if (record.state === 'completed' && record.response) {
        return { kind: 'completed', response: record.response };
      }
      if (record.lockExpiresAtMs > now) return { kind: 'in-progress' };
      return (await this.takeOver(pk, record.lockExpiresAtMs))
        ? { kind: 'taken-over' }
        : { kind: 'in-progress' };
    }
    return { kind: 'in-progress' };
  }

  /** Stores the response so retries get it. */
  async complete(keyHash: string, response: StoredResponse): Promise<void> {
    await this.caller.call('UpdateItem', (abortSignal) =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: IDEMPOTENCY_PREFIX + keyHash },
          UpdateExpression: 'SET #state = :completed, #response = :response',
          ExpressionAttributeNames: { '#state': 'state', '#response': 'response' },
          ExpressionAttributeValues: { ':completed': 'completed', ':response': response },
        }),
        { abortSignal },
      ),
    );
  }

  /** The write may have happened: let the next attempt take over at once and check the item. */
  async release(keyHash: string): Promise<void> {
    await this.caller.call('UpdateItem', (abortSignal) =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: IDEMPOTENCY_PREFIX + keyHash },
          UpdateExpression: 'SET lockExpiresAtMs = :zero',
          ConditionExpression: '#state = :pending',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':zero': 0, ':pending': 'pending' },
        }),
        { abortSignal },
      ),
    );
  }

  /** Nothing was written: forget the key, so a retry runs as new. */
  async discard(keyHash: string): Promise<void> {
    await this.caller.call('DeleteItem', (abortSignal) =>
      this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk: IDEMPOTENCY_PREFIX + keyHash },
          ConditionExpression: '#state = :pending',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':pending': 'pending' },
        }),
        { abortSignal },
      ),
    );
  }

  private async read(pk: string): Promise<IdempotencyRecord | undefined> {
    const output = await this.caller.call('GetItem', (abortSignal) =>
      this.client.send(
        new GetCommand({ TableName: this.tableName, Key: { pk }, ConsistentRead: true }),
        { abortSignal },
      ),
    );
    const record = output.Item as IdempotencyRecord | undefined;
    if (!record || record.expiresAt < Math.floor(this.now() / 1000)) return undefined;
    return record;
  }

  private async takeOver(pk: string, seenLockExpiresAtMs: number): Promise<boolean> {
    try {
      await this.caller.call(
        'UpdateItem',
        (abortSignal) =>
          this.client.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: { pk },
              UpdateExpression: 'SET lockExpiresAtMs = :lock',
              ConditionExpression: '#state = :pending AND lockExpiresAtMs = :seen',
              ExpressionAttributeNames: { '#state': 'state' },
              ExpressionAttributeValues: {
                ':lock': this.now() + this.lockMs,
                ':pending': 'pending',
                ':seen': seenLockExpiresAtMs,
              },
            }),
            { abortSignal },
          ),
        isConditionalCheckFailed,
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }
}
