/** aws-sdk-client-mock set-ups for a service, its tasks, the alarm and the fault document. */
import {
  CloudWatchClientResolvedConfig,
  DescribeAlarmsCommand,
  ServiceInputTypes as CwIn,
  ServiceOutputTypes as CwOut,
} from '@aws-sdk/client-cloudwatch';
import {
  DescribeServicesCommand,
  DescribeTasksCommand,
  ECSClientResolvedConfig,
  ServiceInputTypes as EcsIn,
  ServiceOutputTypes as EcsOut,
  ListTasksCommand,
  StopTaskCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import {
  GetParameterCommand,
  PutParameterCommand,
  SSMClientResolvedConfig,
  ServiceInputTypes as SsmIn,
  ServiceOutputTypes as SsmOut,
} from '@aws-sdk/client-ssm';
import type { AwsStub } from 'aws-sdk-client-mock';

import { ALARM_NAME, CLUSTER_ARN, SERVICE_ARN, taskArn } from './helpers';

export type EcsStub = AwsStub<EcsIn, EcsOut, ECSClientResolvedConfig>;
export type CloudWatchStub = AwsStub<CwIn, CwOut, CloudWatchClientResolvedConfig>;
export type SsmStub = AwsStub<SsmIn, SsmOut, SSMClientResolvedConfig>;

export interface FleetTask {
  readonly n: number;
  readonly az: string;
  readonly lastStatus?: string;
}

export const ORIGINAL_NETWORK = {
  subnets: ['subnet-a', 'subnet-b', 'subnet-c'],
  securityGroups: ['sg-service'],
  assignPublicIp: 'DISABLED' as const,
};

/** Four running tasks: two in 1a, one in 1b, one in 1c. */
export const FOUR_TASKS: readonly FleetTask[] = [
  { n: 1, az: 'us-east-1a' },
  { n: 2, az: 'us-east-1b' },
  { n: 3, az: 'us-east-1c' },
  { n: 4, az: 'us-east-1a' },
];

type Network = {
  subnets: string[];
  securityGroups: string[];
  assignPublicIp: 'DISABLED' | 'ENABLED';
};

/**
 * A tagged service with the given tasks. The service's network configuration is stateful:
 * UpdateService changes what DescribeServices returns next, as ECS does. Returns a reader of it.
 */
export function mockFleet(
  ecs: EcsStub,
  options: {
    tasks?: readonly FleetTask[];
    tagged?: boolean;
    desiredCount?: number;
    network?: Network;
  } = {},
): () => Network {
  const tasks = options.tasks ?? FOUR_TASKS;
  let network: Network = structuredClone(options.network ?? ORIGINAL_NETWORK);
  ecs.on(DescribeServicesCommand).callsFake(() => ({
    services: [
      {
        serviceArn: SERVICE_ARN,
        serviceName: 'api',
        clusterArn: CLUSTER_ARN,
        status: 'ACTIVE',
        desiredCount: options.desiredCount ?? tasks.length,
        tags:
          options.tagged === false
            ? [{ key: 'team', value: 'web' }]
            : [{ key: 'chaos-enabled', value: 'true' }],
        networkConfiguration: { awsvpcConfiguration: structuredClone(network) },
      },
    ],
  }));
  ecs
    .on(UpdateServiceCommand)
    .callsFake((input: { networkConfiguration?: { awsvpcConfiguration?: Network } }) => {
      if (input.networkConfiguration?.awsvpcConfiguration) {
        network = structuredClone(input.networkConfiguration.awsvpcConfiguration);
      }
      return {};
    });
  ecs.on(ListTasksCommand).resolves({ taskArns: tasks.map((t) => taskArn(t.n)) });
  ecs.on(DescribeTasksCommand).resolves({
    tasks: tasks.map((t) => ({
      taskArn: taskArn(t.n),
      availabilityZone: t.az,
      lastStatus: t.lastStatus ?? 'RUNNING',
      desiredStatus: 'RUNNING',
      attachments: [
        {
          type: 'ElasticNetworkInterface',
          details: [{ name: 'subnetId', value: `subnet-${t.az.slice(-1)}` }],
        },
      ],
    })),
  });
  ecs.on(StopTaskCommand).resolves({});
  return () => network;
}

export function mockAlarm(
  cw: CloudWatchStub,
  state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA' | 'missing',
): void {
  cw.on(DescribeAlarmsCommand).resolves(
    state === 'missing'
      ? { MetricAlarms: [], CompositeAlarms: [] }
      : { MetricAlarms: [], CompositeAlarms: [{ AlarmName: ALARM_NAME, StateValue: state }] },
  );
}

/**
 * Makes the SSM mock behave like a parameter: GetParameter returns what the last PutParameter
 * wrote. Returns a function that reads the current document.
 */
export function mockFaultParameter(ssm: SsmStub, initial?: unknown): () => unknown {
  let value: string | undefined = initial === undefined ? undefined : JSON.stringify(initial);
  ssm.on(GetParameterCommand).callsFake(() => {
    if (value === undefined) {
      throw Object.assign(new Error('parameter not found'), { name: 'ParameterNotFound' });
    }
    return { Parameter: { Value: value, Version: 1 } };
  });
  ssm.on(PutParameterCommand).callsFake((input: { Value?: string }) => {
    value = input.Value;
    return { Version: 2 };
  });
  return () => (value === undefined ? undefined : (JSON.parse(value) as unknown));
}
