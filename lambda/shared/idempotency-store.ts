/**
 * Powertools idempotency records in the state table, through the small DynamoDB client
 * (`dynamodb-api.ts`) instead of Powertools' DynamoDBPersistenceLayer, which takes an SDK client
 * (and so loads `@aws-sdk/client-dynamodb` with the SDK runtime). The items are the ones
 * DynamoDBPersistenceLayer writes, with the same attribute names and the same conditions, so that
 * records written before an update are read after it.
 *
 * One difference, for a lost answer: the IN_PROGRESS record carries a token (`writeId`, new for
 * each put) that its condition admits while the record is still IN_PROGRESS, so a put whose answer
 * was lost is asked again as the same question and succeeds. With the SDK client, the retried put
 * failed its condition against the record it had just written, and the invocation was refused as
 * "already in progress" by itself. Completing the record removes the token, so a late copy of the
 * put can never turn a COMPLETED record back into IN_PROGRESS.
 */
import { randomUUID } from 'node:crypto';

import {
  IdempotencyItemAlreadyExistsError,
  IdempotencyItemNotFoundError,
  IdempotencyRecordStatus,
} from '@aws-lambda-powertools/idempotency';
import {
  BasePersistenceLayer,
  IdempotencyRecord,
} from '@aws-lambda-powertools/idempotency/persistence';
import type { IdempotencyRecordStatusValue } from '@aws-lambda-powertools/idempotency/types';

import type { AwsApiError } from './aws-json-api';
import { conditionFailed, fromItem, toItem, type DynamoDbCalls } from './dynamodb-api';

/** The attributes of a record: the state table's key and TTL, and Powertools' own names. */
export const RECORD_ATTRIBUTES = {
  key: 'pk',
  expiry: 'expiresAt',
  status: 'status',
  inProgressExpiry: 'in_progress_expiration',
  data: 'data',
  validation: 'validation',
} as const;

const A = RECORD_ATTRIBUTES;

export class StateTableIdempotencyStore extends BasePersistenceLayer {
  constructor(
    private readonly api: DynamoDbCalls,
    private readonly tableName: string,
  ) {
    super();
  }

  protected async _getRecord(idempotencyKey: string): Promise<IdempotencyRecord> {
    const out = await this.api.call('GetItem', {
      TableName: this.tableName,
      Key: toItem({ [A.key]: idempotencyKey }),
      ConsistentRead: true,
    });
    if (!out.Item) throw new IdempotencyItemNotFoundError();
    return recordOf(out.Item);
  }

  /**
   * Puts the record when there is none, it has expired, or it is IN_PROGRESS past its in-progress
   * expiry (Powertools' condition), or when it is this very put landed earlier (`writeId`).
   */
  protected async _putRecord(record: IdempotencyRecord): Promise<void> {
    const writeId = randomUUID();
    const now = Date.now();
    try {
      await this.api.call(
        'PutItem',
        {
          TableName: this.tableName,
          Item: toItem({
            [A.key]: record.idempotencyKey,
            [A.expiry]: record.expiryTimestamp,
            [A.status]: record.getStatus(),
            [A.inProgressExpiry]: record.inProgressExpiryTimestamp,
            ...(this.isPayloadValidationEnabled() ? { [A.validation]: record.payloadHash } : {}),
            writeId,
          }),
          ConditionExpression:
            'attribute_not_exists(#id) OR #expiry < :now OR ' +
            '(#status = :inprogress AND attribute_exists(#in_progress_expiry) AND ' +
            '#in_progress_expiry < :now_in_millis) OR ' +
            '(writeId = :writeId AND #status = :inprogress)',
          ExpressionAttributeNames: {
            '#id': A.key,
            '#expiry': A.expiry,
            '#in_progress_expiry': A.inProgressExpiry,
            '#status': A.status,
          },
          ExpressionAttributeValues: toItem({
            ':now': now / 1000,
            ':now_in_millis': now,
            ':inprogress': IdempotencyRecordStatus.INPROGRESS,
            ':writeId': writeId,
          }),
          // The record that is there comes back with the failure, as Powertools asks for it.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
        { idempotent: true },
      );
    } catch (error) {
      if (conditionFailed(error)) {
        // Powertools answers from the record that is there (and reads it itself without one).
        const old = ((error as AwsApiError).body as { Item?: unknown } | undefined)?.Item;
        throw new IdempotencyItemAlreadyExistsError(
          `Failed to put record for already existing idempotency key: ${record.idempotencyKey}`,
          old === undefined ? undefined : recordOf(old),
        );
      }
      throw error;
    }
  }

  /**
   * Completes the record (status, expiry, the response) and removes the put's token: setting the
   * same values again is a repeat.
   */
  protected async _updateRecord(record: IdempotencyRecord): Promise<void> {
    const set: Record<string, unknown> = {
      ':expiry': record.expiryTimestamp,
      ':status': record.getStatus(),
    };
    const names: Record<string, string> = { '#expiry': A.expiry, '#status': A.status };
    const fields = ['#expiry = :expiry', '#status = :status'];
    if (record.responseData !== undefined) {
      fields.push('#response_data = :response_data');
      names['#response_data'] = A.data;
      set[':response_data'] = record.responseData;
    }
    if (this.isPayloadValidationEnabled()) {
      fields.push('#validation_key = :validation_key');
      names['#validation_key'] = A.validation;
      set[':validation_key'] = record.payloadHash;
    }
    await this.api.call(
      'UpdateItem',
      {
        TableName: this.tableName,
        Key: toItem({ [A.key]: record.idempotencyKey }),
        UpdateExpression: `SET ${fields.join(', ')} REMOVE writeId`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: toItem(set),
      },
      { idempotent: true },
    );
  }

  /** Deletes the record of a failed invocation, so that a retry runs again (as Powertools does). */
  protected async _deleteRecord(record: IdempotencyRecord): Promise<void> {
    await this.api.call(
      'DeleteItem',
      { TableName: this.tableName, Key: toItem({ [A.key]: record.idempotencyKey }) },
      { idempotent: true },
    );
  }
}

/** A record as the state table holds it (the items DynamoDBPersistenceLayer writes). */
function recordOf(wire: unknown): IdempotencyRecord {
  const item = fromItem(wire);
  return new IdempotencyRecord({
    idempotencyKey: item[A.key] as string,
    status: item[A.status] as IdempotencyRecordStatusValue,
    expiryTimestamp: item[A.expiry] as number | undefined,
    inProgressExpiryTimestamp: item[A.inProgressExpiry] as number | undefined,
    responseData: item[A.data] as IdempotencyRecord['responseData'],
    payloadHash: item[A.validation] as string | undefined,
  });
}
