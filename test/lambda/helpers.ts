/** Shared fixtures for the chaos function tests: env, a fake Lambda Context, an audit recorder. */
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  StopTaskCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import {
  DescribeCacheClustersCommand,
  ElastiCacheClient,
  RebootCacheClusterCommand,
} from '@aws-sdk/client-elasticache';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { Context } from 'aws-lambda';

import type { Audit, AuditEntry } from '../../lambda/shared/audit';
import { elastiCacheNodes } from '../../lambda/shared/cache-nodes';
import type { CloudWatchCalls, CloudWatchOperations } from '../../lambda/shared/cloudwatch-api';
import type { EcsCalls, EcsOperations } from '../../lambda/shared/ecs-api';
import type { ElastiCacheCalls } from '../../lambda/shared/elasticache-api';
import type { ChaosEnv } from '../../lambda/shared/env';
import type { ChaosDeps } from '../../lambda/shared/experiment';
import type { ProbeResult } from '../../lambda/shared/probe';
import type { SsmCalls, SsmOperations } from '../../lambda/shared/ssm-api';
import type { StateTable } from '../../lambda/shared/state-table';
import { sdkBacked } from '../support/sdk-backed';

export const REGION = 'us-east-1';
export const ACCOUNT = '123456789012';
export const CLUSTER_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/chaos-cluster`;
export const SERVICE_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:service/chaos-cluster/api`;
export const FAULTS_PARAMETER = '/blueprint/us-east-1/faults';
export const ALARM_NAME = 'blueprint-us-east-1-region-impaired';

/** The environment the construct gives a guarded function, as a typed object. */
export function testEnv(overrides: Partial<ChaosEnv> = {}): ChaosEnv {
  return {
    region: REGION,
    clusterArn: CLUSTER_ARN,
    service: SERVICE_ARN,
    faultsParameter: FAULTS_PARAMETER,
    regionImpairedAlarm: ALARM_NAME,
    stateTable: 'chaos-state',
    maxTaskShare: 0.5,
    maxFaultDurationMinutes: 30,
    cacheClusterId: 'blueprint-cache',
    subnetAvailabilityZones: {
      'subnet-a': 'us-east-1a',
      'subnet-b': 'us-east-1b',
      'subnet-c': 'us-east-1c',
    },
    ...overrides,
  };
}

/** The same environment as process.env variables, for handler tests. */
export function testProcessEnv(env: ChaosEnv = testEnv()): Record<string, string> {
  return {
    AWS_REGION: env.region,
    CLUSTER_ARN: env.clusterArn,
    SERVICE_ARN: env.service,
    FAULTS_PARAMETER: env.faultsParameter,
    REGION_IMPAIRED_ALARM: env.regionImpairedAlarm,
    STATE_TABLE: env.stateTable,
    MAX_TASK_SHARE: String(env.maxTaskShare),
    MAX_FAULT_DURATION_MINUTES: String(env.maxFaultDurationMinutes),
    POWERTOOLS_SERVICE_NAME: 'chaos-test',
    POWERTOOLS_METRICS_NAMESPACE: 'ChaosTest',
  };
}

/** A fake Lambda Context with a fixed request id and plenty of time left. */
export function fakeContext(overrides: Partial<Context> = {}): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'chaos-test-function',
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:chaos-test-function`,
    memoryLimitInMB: '256',
    awsRequestId: 'c0ffee00-0000-4000-8000-000000000001',
    logGroupName: '/aws/lambda/chaos-test-function',
    logStreamName: '2026/01/01/[$LATEST]0000',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
    ...overrides,
  };
}

/** An Audit that keeps entries, so tests can assert the audit trail. */
export function recordingAudit(): Audit & { readonly entries: AuditEntry[] } {
  const entries: AuditEntry[] = [];
  return { entries, record: (entry) => entries.push(entry) };
}

export interface TestDeps extends ChaosDeps {
  readonly audit: Audit & { readonly entries: AuditEntry[] };
  /** Moves the clock. */
  setNow(date: Date): void;
}

/** ECS calls answered by an SDK client: its aws-sdk-client-mock set-ups answer them. */
export const ecsCallsOf = (client: ECSClient): EcsCalls =>
  sdkBacked<EcsOperations>(client, {
    DescribeServices: DescribeServicesCommand,
    DescribeTaskDefinition: DescribeTaskDefinitionCommand,
    RegisterTaskDefinition: RegisterTaskDefinitionCommand,
    DeregisterTaskDefinition: DeregisterTaskDefinitionCommand,
    UpdateService: UpdateServiceCommand,
    ListTasks: ListTasksCommand,
    DescribeTasks: DescribeTasksCommand,
    StopTask: StopTaskCommand,
  });

/** SSM calls answered by an SDK client (see `ecsCallsOf`). */
export const ssmCallsOf = (client: SSMClient): SsmCalls =>
  sdkBacked<SsmOperations>(client, {
    GetParameter: GetParameterCommand,
    PutParameter: PutParameterCommand,
  });

/** CloudWatch calls answered by an SDK client (see `ecsCallsOf`). */
export const cloudWatchCallsOf = (client: CloudWatchClient): CloudWatchCalls =>
  sdkBacked<CloudWatchOperations>(client, { DescribeAlarms: DescribeAlarmsCommand });

/** ElastiCache calls answered by an SDK client (see `ecsCallsOf`). */
export const elastiCacheCallsOf = (client: ElastiCacheClient): ElastiCacheCalls => ({
  cacheNodes: async (clusterId) => {
    const out = await client.send(
      new DescribeCacheClustersCommand({ CacheClusterId: clusterId, ShowCacheNodeInfo: true }),
    );
    return out.CacheClusters?.[0]?.CacheNodes ?? [];
  },
  rebootCacheCluster: async (clusterId, nodeIds) => {
    await client.send(
      new RebootCacheClusterCommand({
        CacheClusterId: clusterId,
        CacheNodeIdsToReboot: [...nodeIds],
      }),
    );
  },
});

/** Deps with fresh (mockable) clients, the given table, a fixed clock and a fixed random. */
export function testDeps(
  table: StateTable,
  options: {
    env?: Partial<ChaosEnv>;
    now?: Date;
    /** @default - calls answered by a new ECSClient: the test's mockClient(ECSClient) answers */
    ecs?: EcsCalls;
    probes?: readonly ProbeResult[];
  } = {},
): TestDeps {
  let now = options.now ?? new Date('2026-03-01T12:00:00.000Z');
  const elastiCache = new ElastiCacheClient({ region: REGION });
  return {
    env: testEnv(options.env),
    ecs: options.ecs ?? ecsCallsOf(new ECSClient({ region: REGION })),
    ssm: ssmCallsOf(new SSMClient({ region: REGION })),
    cloudWatch: cloudWatchCallsOf(new CloudWatchClient({ region: REGION })),
    table,
    cacheNodes: () => elastiCacheNodes(elastiCacheCallsOf(elastiCache)),
    probeOtherRegions: () => Promise.resolve(options.probes ?? []),
    audit: recordingAudit(),
    now: () => now,
    random: () => 0.999999, // an identity shuffle: tasks are picked in listing order
    setNow(date: Date) {
      now = date;
    },
  };
}

export const taskArn = (n: number): string =>
  `arn:aws:ecs:${REGION}:${ACCOUNT}:task/chaos-cluster/${n.toString(16).padStart(32, '0')}`;
export const taskId = (n: number): string => n.toString(16).padStart(32, '0');
