/**
 * DynamoDB's item operations without `@aws-sdk/client-dynamodb` (and the SDK runtime under it):
 * its JSON protocol through `AwsJsonApi`, for the state table (`state-table.ts`, `state-items.ts`)
 * and the idempotency records (`idempotency-store.ts`). Items are converted with the SDK's own
 * `@aws-sdk/util-dynamodb`, as the document client converts them (numbers as JavaScript numbers,
 * undefined attributes left out).
 *
 * PutItem, DeleteItem and UpdateItem are writes: a lost answer is an OutcomeUnknownError unless
 * the caller passes `{ idempotent: true }` for a write that asking again cannot change.
 */
import type {
  AttributeValue,
  DeleteItemInput,
  DeleteItemOutput,
  GetItemInput,
  GetItemOutput,
  PutItemInput,
  PutItemOutput,
  UpdateItemInput,
  UpdateItemOutput,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';

import { AwsApiError, AwsJsonApi } from './aws-json-api';
import type { SignedClientOptions } from './signed-http';
import type { ReadItem } from './state-items';

export interface DynamoDbOperations {
  GetItem: [GetItemInput, GetItemOutput];
  PutItem: [PutItemInput, PutItemOutput];
  DeleteItem: [DeleteItemInput, DeleteItemOutput];
  UpdateItem: [UpdateItemInput, UpdateItemOutput];
}

/** The item calls the functions make: what tests give in place of the signed client. */
export type DynamoDbCalls = Pick<AwsJsonApi<DynamoDbOperations>, 'call'>;

export class DynamoDbApi extends AwsJsonApi<DynamoDbOperations> {
  constructor(options: SignedClientOptions) {
    super(
      {
        signingName: 'dynamodb',
        targetPrefix: 'DynamoDB_20120810',
        version: '1.0',
        mutating: new Set(['PutItem', 'DeleteItem', 'UpdateItem']),
        throttling: new Set([
          'ProvisionedThroughputExceededException',
          'ThrottlingException',
          'RequestLimitExceeded',
        ]),
      },
      options,
    );
  }

  /** Strongly consistent reads of one table's items by key. */
  reads(tableName: string): ReadItem {
    return itemReads(this, tableName);
  }
}

/** An item as DynamoDB's JSON carries it. */
export type WireItem = Record<string, AttributeValue>;

/** A plain object as an item (undefined attributes left out). */
export const toItem = (value: Record<string, unknown>): WireItem =>
  marshall(value, { removeUndefinedValues: true });

/** An item as a plain object. */
export const fromItem = (item: unknown): Record<string, unknown> => unmarshall(item as WireItem);

/** Strongly consistent reads of `tableName`'s items by key, through `api`. */
export function itemReads(api: DynamoDbCalls, tableName: string): ReadItem {
  return async (key) => {
    const out = await api.call('GetItem', {
      TableName: tableName,
      Key: toItem(key),
      ConsistentRead: true,
    });
    return out.Item ? fromItem(out.Item) : undefined;
  };
}

/** Whether a write failed its ConditionExpression. */
export const conditionFailed = (error: unknown): boolean =>
  error instanceof AwsApiError && error.type === 'ConditionalCheckFailedException';
