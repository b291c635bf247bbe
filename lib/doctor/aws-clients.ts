import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { Route53Client } from '@aws-sdk/client-route-53';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';

/** The AWS clients the doctor uses, one per region; tests mock them with aws-sdk-client-mock. */
export interface AwsClients {
  sts(region: string): STSClient;
  cloudFormation(region: string): CloudFormationClient;
  ssm(region: string): SSMClient;
  serviceQuotas(region: string): ServiceQuotasClient;
  ec2(region: string): EC2Client;
  dynamoDb(region: string): DynamoDBClient;
  elastiCache(region: string): ElastiCacheClient;
  /** Route 53 is global. */
  route53(): Route53Client;
  /** Closes every client made so far (their sockets would keep the process alive). */
  close(): void;
}

/**
 * Short timeouts and a single retry: an offline machine or an unreachable region costs seconds,
 * not the SDK's default minutes of retries.
 */
export const DOCTOR_CLIENT_CONFIG = {
  maxAttempts: 2,
  requestHandler: { connectionTimeout: 3_000, requestTimeout: 8_000 },
} as const;

/** Real clients with the user's credentials (the SDK's default provider chain). */
export function createAwsClients(): AwsClients {
  const cache = new Map<string, { destroy(): void }>();
  const once = <T extends { destroy(): void }>(key: string, make: () => T): T => {
    if (!cache.has(key)) cache.set(key, make());
    return cache.get(key) as T;
  };
  return {
    sts: (region) =>
      once(`sts:${region}`, () => new STSClient({ region, ...DOCTOR_CLIENT_CONFIG })),
    cloudFormation: (region) =>
      once(`cfn:${region}`, () => new CloudFormationClient({ region, ...DOCTOR_CLIENT_CONFIG })),
    ssm: (region) =>
      once(`ssm:${region}`, () => new SSMClient({ region, ...DOCTOR_CLIENT_CONFIG })),
    serviceQuotas: (region) =>
      once(`sq:${region}`, () => new ServiceQuotasClient({ region, ...DOCTOR_CLIENT_CONFIG })),
    ec2: (region) =>
      once(`ec2:${region}`, () => new EC2Client({ region, ...DOCTOR_CLIENT_CONFIG })),
    dynamoDb: (region) =>
      once(`ddb:${region}`, () => new DynamoDBClient({ region, ...DOCTOR_CLIENT_CONFIG })),
    elastiCache: (region) =>
      once(`ec:${region}`, () => new ElastiCacheClient({ region, ...DOCTOR_CLIENT_CONFIG })),
    route53: () =>
      once('route53', () => new Route53Client({ region: 'us-east-1', ...DOCTOR_CLIENT_CONFIG })),
    close: () => {
      for (const client of cache.values()) client.destroy();
      cache.clear();
    },
  };
}
