import { DynamoDbApi } from '../dynamodb-api';
import { requireEnv } from '../env';

import { once } from './once';

/** The function's small DynamoDB client (`dynamodb-api.ts`): the state table and idempotency records. */
export const dynamoDbApi = /* @__PURE__ */ once(
  () => new DynamoDbApi({ region: requireEnv('AWS_REGION') }),
);
