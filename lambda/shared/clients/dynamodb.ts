import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

import { clientConfig } from '../aws-client-config';

import { once } from './once';

/** The function's DynamoDB client: the state table and the idempotency records. */
export const dynamoDbClient = /* @__PURE__ */ once(() => new DynamoDBClient(clientConfig()));

/** The document client over it, as the state table reads and writes. */
export const documentClient = /* @__PURE__ */ once(() =>
  DynamoDBDocumentClient.from(dynamoDbClient(), {
    marshallOptions: { removeUndefinedValues: true },
  }),
);
