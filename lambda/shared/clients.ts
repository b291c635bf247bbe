/**
 * Each SDK client is created once per function instance, on first use, and wrapped by the tracer.
 * Created lazily so that a function loads only the clients it calls.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ECSClient } from '@aws-sdk/client-ecs';
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

import { clientConfig, createEcsClient } from './ecs-client';
import { tracer } from './powertools';

function once<T>(create: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= create());
}

export const ecsClient = once((): ECSClient => tracer.captureAWSv3Client(createEcsClient()));
export const ssmClient = once(() => tracer.captureAWSv3Client(new SSMClient(clientConfig())));
export const cloudWatchClient = once(() =>
  tracer.captureAWSv3Client(new CloudWatchClient(clientConfig())),
);
export const dynamoDbClient = once(() =>
  tracer.captureAWSv3Client(new DynamoDBClient(clientConfig())),
);
export const documentClient = once(() =>
  DynamoDBDocumentClient.from(dynamoDbClient(), {
    marshallOptions: { removeUndefinedValues: true },
  }),
);
export const elastiCacheClient = once(() =>
  tracer.captureAWSv3Client(new ElastiCacheClient(clientConfig())),
);
