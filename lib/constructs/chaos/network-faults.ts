import { Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import type { FargateTaskDefinition, ICluster } from 'aws-cdk-lib/aws-ecs';
import { PolicyStatement, type Role } from 'aws-cdk-lib/aws-iam';

import { ECS_TASK_ARN_TAG, faultInjectionProblems } from './ecs-fault-injection';
import { nagResource } from './nag-finding';

/** The settings of the ECS network fault templates (flat props of `ChaosExperimentTemplates`). */
export interface NetworkFaultProps {
  /**
   * How long each network fault lasts; whole minutes, at least 1 below `maxFaultDurationMinutes`
   * (the reservation outlives the fault by a minute).
   * @default - 5 minutes, or `maxFaultDurationMinutes` - 1 if that is less
   */
  readonly networkFaultDuration?: Duration;
  /**
   * The delay the latency template adds to the tasks' egress traffic.
   * @default Duration.millis(200)
   */
  readonly networkLatency?: Duration;
  /**
   * The jitter around that delay.
   * @default Duration.millis(10)
   */
  readonly networkJitter?: Duration;
  /**
   * Share of egress packets the packet-loss template drops, in percent (1-100).
   * @default 10
   */
  readonly packetLossPercent?: number;
  /**
   * What the latency and packet-loss templates impair: `ALL`, or comma-separated IPv4 addresses,
   * CIDR blocks, domain names, AZ names or ids, `DYNAMODB`, `S3` (FIS's `sources`).
   * @default 'ALL'
   */
  readonly networkFaultSources?: string;
  /**
   * The TCP port the black-hole template drops traffic on.
   * @default 8080 - the service's container port: with ingress, the load balancer cannot reach the task
   */
  readonly blackholePort?: number;
  /**
   * Which direction the black-hole template drops.
   * @default 'ingress'
   */
  readonly blackholeTrafficType?: 'ingress' | 'egress';
}

/** The `aws:ecs:task-network-*` actions, each with the SSM document it runs through the endpoints. */
export const NETWORK_FAULTS = {
  'network-latency': {
    id: 'NetworkLatency',
    actionId: 'aws:ecs:task-network-latency',
    document: 'AWSFIS-Run-Network-Latency-ECS',
  },
  'packet-loss': {
    id: 'PacketLoss',
    actionId: 'aws:ecs:task-network-packet-loss',
    document: 'AWSFIS-Run-Network-Packet-Loss-ECS',
  },
  'blackhole-port': {
    id: 'BlackholePort',
    actionId: 'aws:ecs:task-network-blackhole-port',
    document: 'AWSFIS-Run-Network-Blackhole-Port-ECS',
  },
} as const;
export type NetworkFaultName = keyof typeof NETWORK_FAULTS;

/** The network faults' settings, resolved and validated; undefined without a task definition. */
export interface NetworkSettings {
  durationMinutes: number;
  latencyMs: number;
  jitterMs: number;
  lossPercent: number;
  sources: string;
  port: number;
  trafficType: 'ingress' | 'egress';
}

export function networkSettings(
  props: NetworkFaultProps & {
    readonly taskDefinition?: FargateTaskDefinition;
    readonly maxFaultDurationMinutes: number;
  },
): NetworkSettings | undefined {
  if (!props.taskDefinition) return undefined;
  const problems = faultInjectionProblems(props.taskDefinition).map((p) => `taskDefinition ${p}`);
  const max = props.maxFaultDurationMinutes;
  const duration = props.networkFaultDuration ?? Duration.minutes(Math.min(5, max - 1));
  const known = (d: Duration | number) => !Token.isUnresolved(d);
  const settings: NetworkSettings = {
    durationMinutes: duration.toMinutes({ integral: false }),
    latencyMs: (props.networkLatency ?? Duration.millis(200)).toMilliseconds({ integral: false }),
    jitterMs: (props.networkJitter ?? Duration.millis(10)).toMilliseconds({ integral: false }),
    lossPercent: props.packetLossPercent ?? 10,
    sources: props.networkFaultSources ?? 'ALL',
    port: props.blackholePort ?? 8080,
    trafficType: props.blackholeTrafficType ?? 'ingress',
  };
  const d = settings.durationMinutes;
  if (known(duration) && !(Number.isInteger(d) && d >= 1 && d <= max - 1)) {
    problems.push(
      `networkFaultDuration must be whole minutes from 1 to maxFaultDurationMinutes - 1 (${max - 1}), so that the reservation outlives the fault; got ${d} min`,
    );
  }
  for (const [name, ms, limit] of [
    ['networkLatency', settings.latencyMs, 60_000],
    ['networkJitter', settings.jitterMs, 60_000],
  ] as const) {
    if (!(Number.isInteger(ms) && ms >= 0 && ms <= limit)) {
      problems.push(`${name} must be whole milliseconds from 0 to ${limit}, got ${ms} ms`);
    }
  }
  const loss = settings.lossPercent;
  if (known(loss) && !(Number.isInteger(loss) && loss >= 1 && loss <= 100)) {
    problems.push(`packetLossPercent must be a whole percentage from 1 to 100, got ${loss}`);
  }
  if (!Token.isUnresolved(settings.sources) && !/^[^\s,]+(,[^\s,]+)*$/.test(settings.sources)) {
    problems.push(
      `networkFaultSources must be ALL or comma-separated sources without spaces (IPv4, CIDR, domain, AZ, DYNAMODB, S3), got ${JSON.stringify(settings.sources)}`,
    );
  }
  const port = settings.port;
  if (known(port) && !(Number.isInteger(port) && port >= 1 && port <= 65535)) {
    problems.push(`blackholePort must be a TCP port from 1 to 65535, got ${port}`);
  }
  if (!['ingress', 'egress'].includes(settings.trafficType)) {
    problems.push(
      `blackholeTrafficType must be ingress or egress, got ${JSON.stringify(settings.trafficType)}`,
    );
  }
  if (problems.length > 0) {
    throw new Error(
      `ChaosExperimentTemplates: ${problems.length} invalid network fault setting(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
  }
  return settings;
}

/** Each template's action parameters, exactly those the FIS actions reference documents. */
export function networkFaultParameters(
  network: NetworkSettings,
): Record<NetworkFaultName, Record<string, string>> {
  const common = {
    duration: `PT${network.durationMinutes}M`,
    // Fargate: the network actions work only through the ECS fault injection endpoints.
    useEcsFaultInjectionEndpoints: 'true',
    installDependencies: 'true',
  };
  return {
    'network-latency': {
      ...common,
      delayMilliseconds: String(network.latencyMs),
      jitterMilliseconds: String(network.jitterMs),
      sources: network.sources,
    },
    'packet-loss': {
      ...common,
      lossPercent: String(network.lossPercent),
      sources: network.sources,
    },
    'blackhole-port': {
      ...common,
      port: String(network.port),
      protocol: 'tcp',
      trafficType: network.trafficType,
    },
  };
}

/** What each template does, for its description. */
export function networkFaultSummary(network: NetworkSettings): Record<NetworkFaultName, string> {
  return {
    'network-latency': `Add ${network.latencyMs} ms (jitter ${network.jitterMs} ms) to the egress of`,
    'packet-loss': `Drop ${network.lossPercent} % of the egress packets of`,
    'blackhole-port': `Drop ${network.trafficType} tcp/${network.port} of`,
  };
}

/**
 * What the FIS role needs for the network actions (the FIS actions reference lists them per
 * action), each held to this cluster where AWS allows a resource or condition.
 */
export function grantNetworkFaults(role: Role, cluster: ICluster, taskArns: string): void {
  const stack = Stack.of(role);
  const documents = Object.values(NETWORK_FAULTS).map((f) =>
    stack.formatArn({
      service: 'ssm',
      account: '',
      resource: 'document',
      resourceName: f.document,
    }),
  );
  const managedInstances = stack.formatArn({
    service: 'ssm',
    resource: 'managed-instance',
    resourceName: '*',
  });
  role.addToPrincipalPolicy(
    new PolicyStatement({ actions: ['ssm:SendCommand'], resources: documents }),
  );
  // Only the managed instances the sidecar registered for this cluster's tasks.
  role.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ['ssm:SendCommand'],
      resources: [managedInstances],
      conditions: { StringLike: { [`ssm:resourceTag/${ECS_TASK_ARN_TAG}`]: taskArns } },
    }),
  );
  role.addToPrincipalPolicy(
    new PolicyStatement({
      actions: [
        'ssm:ListCommands',
        'ssm:CancelCommand',
        'ec2:DescribeInstances',
        'ec2:DescribeSubnets',
        // FIS maps a task to its managed instance by the ECS_TASK_ARN tag; AWS's managed ECS
        // policy for FIS grants this read for target resolution by tags.
        'tag:GetResources',
      ],
      resources: ['*'],
    }),
  );
  const containerInstances = stack.formatArn({
    service: 'ecs',
    resource: 'container-instance',
    resourceName: `${cluster.clusterName}/*`,
  });
  role.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ['ecs:DescribeContainerInstances'],
      resources: [containerInstances],
      conditions: { ArnEquals: { 'ecs:cluster': cluster.clusterArn } },
    }),
  );
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${nagResource(stack.resolve(managedInstances))}]`,
    reason:
      'FIS sends its network documents to the managed instances the task sidecars register, whose ids are only known at run time; an ssm:resourceTag/ECS_TASK_ARN condition holds them to this cluster',
  });
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${nagResource(stack.resolve(containerInstances))}]`,
    reason:
      'The network actions may describe the container instances of this cluster (none on Fargate); their ids are only known at run time',
  });
}
