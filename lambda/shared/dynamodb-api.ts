/**
 * DynamoDB's GetItem without `@aws-sdk/client-dynamodb`: its JSON protocol through `AwsJsonApi`,
 * for the functions that only read the state table (`state-items.ts`). Items are converted with
 * the SDK's own `@aws-sdk/util-dynamodb`, as the document client converts them (numbers as
 * JavaScript numbers).
 */
import type { AttributeValue, GetItemInput, GetItemOutput } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';

import { AwsJsonApi } from './aws-json-api';
import type { SignedClientOptions } from './signed-http';
import type { ReadItem } from './state-items';

export interface DynamoDbOperations {
  GetItem: [GetItemInput, GetItemOutput];
}

export class DynamoDbApi extends AwsJsonApi<DynamoDbOperations> {
  constructor(options: SignedClientOptions) {
    super(
      {
        signingName: 'dynamodb',
        targetPrefix: 'DynamoDB_20120810',
        version: '1.0',
        mutating: new Set(),
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
    return async (key) => {
      const out = await this.call('GetItem', {
        TableName: tableName,
        Key: marshall(key),
        ConsistentRead: true,
      });
      return out.Item
        ? unmarshall(out.Item as unknown as Record<string, AttributeValue>)
        : undefined;
    };
  }
}
