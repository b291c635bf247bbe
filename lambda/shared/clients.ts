/**
 * Each SDK client is created once per function instance, on first use.
 * The `@__PURE__` marks let esbuild drop the clients a function never refers to (ElastiCache from
 * every function but cache-outage, ELBv2 from those that never count target health), which keeps
 * bundles and cold starts small.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ECSClient } from '@aws-sdk/client-ecs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

import { createElastiCacheClient } from './cache-nodes';
import { clientConfig, createEcsClient } from './ecs-client';
import { createElbv2Client } from './target-health';

function once<T>(create: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= create());
}

export const ecsClient = /* @__PURE__ */ once((): ECSClient => createEcsClient());
export const ssmClient = /* @__PURE__ */ once(() => new SSMClient(clientConfig()));
export const cloudWatchClient = /* @__PURE__ */ once(() => new CloudWatchClient(clientConfig()));
export const dynamoDbClient = /* @__PURE__ */ once(() => new DynamoDBClient(clientConfig()));
export const documentClient = /* @__PURE__ */ once(() =>
  DynamoDBDocumentClient.from(dynamoDbClient(), {
    marshallOptions: { removeUndefinedValues: true },
  }),
);
export const elastiCacheClient = /* @__PURE__ */ once(() => createElastiCacheClient());
export const elbv2Client = /* @__PURE__ */ once(() => createElbv2Client());
