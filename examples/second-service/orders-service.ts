/**
 * A second service behind the same load balancer: a worked example for docs/fork.md. Copy it to
 * lib/constructs/orders/orders-service.ts in your fork, rename it, and wire it into RegionalStack
 * as the guide shows. test/docs/second-service.test.ts builds it into the real blueprint.
 */
import { Duration, RemovalPolicy, Token, Validations } from 'aws-cdk-lib';
import { SubnetType } from 'aws-cdk-lib/aws-ec2';
import {
  AvailabilityZoneRebalancing,
  ContainerImage,
  CpuArchitecture,
  FargateService,
  FargateTaskDefinition,
  ICluster,
  LogDrivers,
  OperatingSystemFamily,
} from 'aws-cdk-lib/aws-ecs';
import {
  ApplicationListener,
  ApplicationProtocol,
  ApplicationTargetGroup,
  ListenerCondition,
  TargetGroupLoadBalancingAlgorithmType,
} from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** The port every service of the blueprint listens on (service/README.md: `PORT`). */
const CONTAINER_PORT = 8080;

export interface OrdersServiceProps {
  /** The cluster to run in: the catalog's (`this.catalog.cluster`), with Container Insights on. */
  readonly cluster: ICluster;
  /** The region's listener (`edge.listener`); the catalog stays its default action. */
  readonly listener: ApplicationListener;
  /** The image, e.g. `ContainerImage.fromAsset(...)` of your app's folder, built for ARM64. */
  readonly image: ContainerImage;
  /** The listener rule's priority, 1-50000; lower numbers are evaluated first. */
  readonly priority: number;
  /** The text this service's readiness body contains (service/README.md: `HEALTH_TOKEN`). */
  readonly healthToken: string;
  /**
   * Paths this service answers, e.g. `['/orders', '/orders/*']`.
   * @default - none; then `hostHeaders` must be set
   */
  readonly pathPatterns?: readonly string[];
  /**
   * Host names this service answers, e.g. `['orders.example.com']`.
   * @default - any host
   */
  readonly hostHeaders?: readonly string[];
  /**
   * Fargate CPU units per task.
   * @default 256
   */
  readonly cpu?: number;
  /**
   * Memory per task in MiB.
   * @default 512
   */
  readonly memoryLimitMiB?: number;
  /**
   * Tasks in steady state; also the fewest autoscaling leaves.
   * @default 2
   */
  readonly desiredCount?: number;
  /**
   * Most tasks autoscaling runs.
   * @default - 3 × desiredCount
   */
  readonly maxCount?: number;
  /**
   * More environment for the container, besides `PORT` and `HEALTH_TOKEN`.
   * @default - none
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * How long in-flight requests may finish when a task stops (0-30 s).
   * @default Duration.seconds(20)
   */
  readonly drainTime?: Duration;
  /**
   * Seconds between the ALB's health checks of a target (5-300); pass the config's
   * `healthCheck.albIntervalSeconds`, as the catalog does.
   * @default 5
   */
  readonly healthCheckIntervalSeconds?: number;
  /**
   * Seconds an ALB health check waits (2-120, below the interval): `healthCheck.albTimeoutSeconds`.
   * @default 4
   */
  readonly healthCheckTimeoutSeconds?: number;
  /**
   * Passing checks before a target takes traffic (2-10): `healthCheck.albHealthyThreshold`.
   * @default 2
   */
  readonly healthyThresholdCount?: number;
  /**
   * Failing checks before a target is ejected (2-10): `healthCheck.albUnhealthyThreshold`.
   * @default 3
   */
  readonly unhealthyThresholdCount?: number;
  /**
   * The container health check: it must pass only on a 200 from `/health/ready` whose body holds
   * the token, since the ALB checks the status code alone (service/README.md).
   * @default ['CMD', 'node', '/app/healthcheck.js'] - the script the catalog's image and the
   * orders starter app (examples/second-service/orders/) ship
   */
  readonly healthCheckCommand?: readonly string[];
}

/**
 * A Fargate service (ARM64) behind a listener rule of the region's load balancer, keeping the
 * service contract: `/health/ready` with the token (checked in the body by the container health
 * check, and by the ALB at the config's timings), SIGTERM drain, a read-only root filesystem.
 */
export class OrdersService extends Construct {
  public readonly service: FargateService;
  public readonly targetGroup: ApplicationTargetGroup;

  constructor(scope: Construct, id: string, props: OrdersServiceProps) {
    super(scope, id);
    const desired = props.desiredCount ?? 2;
    const max = props.maxCount ?? desired * 3;
    const drain = props.drainTime ?? Duration.seconds(20);
    const checks: HealthCheckTimings = {
      interval: props.healthCheckIntervalSeconds ?? 5,
      timeout: props.healthCheckTimeoutSeconds ?? 4,
      healthy: props.healthyThresholdCount ?? 2,
      unhealthy: props.unhealthyThresholdCount ?? 3,
    };
    validate(props, desired, max, drain, checks);

    const taskDefinition = new FargateTaskDefinition(this, 'TaskDef', {
      cpu: props.cpu ?? 256,
      memoryLimitMiB: props.memoryLimitMiB ?? 512,
      runtimePlatform: {
        cpuArchitecture: CpuArchitecture.ARM64,
        operatingSystemFamily: OperatingSystemFamily.LINUX,
      },
    });
    const logGroup = new LogGroup(this, 'Logs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const container = taskDefinition.addContainer('App', {
      image: props.image,
      portMappings: [{ containerPort: CONTAINER_PORT }],
      readonlyRootFilesystem: true,
      stopTimeout: drain.plus(Duration.seconds(10)),
      logging: LogDrivers.awsLogs({ logGroup, streamPrefix: 'orders' }),
      environment: {
        ...props.environment,
        PORT: String(CONTAINER_PORT),
        HEALTH_TOKEN: props.healthToken,
        SHUTDOWN_DRAIN_SECONDS: String(drain.toSeconds()),
      },
      // The body check the ALB cannot do; as patient as the catalog's (see CatalogService).
      healthCheck: {
        command: [...(props.healthCheckCommand ?? ['CMD', 'node', '/app/healthcheck.js'])],
        interval: Duration.seconds(10),
        timeout: Duration.seconds(5),
        retries: 5,
        startPeriod: Duration.seconds(30),
      },
    });
    taskDefinition.addVolume({ name: 'tmp' });
    container.addMountPoints({ sourceVolume: 'tmp', containerPath: '/tmp', readOnly: false });
    Validations.of(taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason: 'The environment holds only the port, the health token and settings; no secrets.',
    });
    if (taskDefinition.executionRole) {
      Validations.of(taskDefinition.executionRole).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'ecr:GetAuthorizationToken has no resource-level permissions; AWS requires "*".',
      });
    }

    this.service = new FargateService(this, 'Service', {
      cluster: props.cluster,
      taskDefinition,
      desiredCount: desired,
      vpcSubnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS },
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      healthCheckGracePeriod: Duration.seconds(30),
      availabilityZoneRebalancing: AvailabilityZoneRebalancing.ENABLED,
    });

    const conditions = [
      ...(props.pathPatterns ? [ListenerCondition.pathPatterns([...props.pathPatterns])] : []),
      ...(props.hostHeaders ? [ListenerCondition.hostHeaders([...props.hostHeaders])] : []),
    ];
    this.targetGroup = props.listener.addTargets(id, {
      priority: props.priority,
      conditions,
      port: CONTAINER_PORT,
      protocol: ApplicationProtocol.HTTP,
      targets: [this.service],
      deregistrationDelay: drain,
      loadBalancingAlgorithmType: TargetGroupLoadBalancingAlgorithmType.ROUND_ROBIN,
      healthCheck: {
        path: '/health/ready',
        interval: Duration.seconds(checks.interval),
        timeout: Duration.seconds(checks.timeout),
        healthyThresholdCount: checks.healthy,
        unhealthyThresholdCount: checks.unhealthy,
        healthyHttpCodes: '200',
      },
    });

    this.service
      .autoScaleTaskCount({ minCapacity: desired, maxCapacity: max })
      .scaleOnCpuUtilization('Cpu', { targetUtilizationPercent: 60 });
  }
}

interface HealthCheckTimings {
  readonly interval: number;
  readonly timeout: number;
  readonly healthy: number;
  readonly unhealthy: number;
}

function validate(
  props: OrdersServiceProps,
  desired: number,
  max: number,
  drain: Duration,
  checks: HealthCheckTimings,
): void {
  const problems: string[] = [];
  const known = (n: number) => !Token.isUnresolved(n);
  const { interval, timeout } = checks;
  if (known(interval) && !(Number.isInteger(interval) && interval >= 5 && interval <= 300)) {
    problems.push(`healthCheckIntervalSeconds must be an integer from 5 to 300, got ${interval}`);
  }
  if (
    known(timeout) &&
    known(interval) &&
    !(Number.isInteger(timeout) && timeout >= 2 && timeout <= 120 && timeout < interval)
  ) {
    problems.push(
      `healthCheckTimeoutSeconds must be an integer from 2 to 120 below the interval ${interval}, got ${timeout}`,
    );
  }
  for (const [name, count] of [
    ['healthyThresholdCount', checks.healthy],
    ['unhealthyThresholdCount', checks.unhealthy],
  ] as const) {
    if (known(count) && !(Number.isInteger(count) && count >= 2 && count <= 10)) {
      problems.push(`${name} must be an integer from 2 to 10, got ${count}`);
    }
  }
  if (props.healthCheckCommand !== undefined && props.healthCheckCommand.length < 2) {
    problems.push(
      `healthCheckCommand must be a command such as ['CMD', 'node', '/app/healthcheck.js'], got ${JSON.stringify(props.healthCheckCommand)}`,
    );
  }
  if (
    known(props.priority) &&
    !(Number.isInteger(props.priority) && props.priority >= 1 && props.priority <= 50000)
  ) {
    problems.push(`priority must be an integer from 1 to 50000, got ${props.priority}`);
  }
  const values = (props.pathPatterns?.length ?? 0) + (props.hostHeaders?.length ?? 0);
  if (values === 0) {
    problems.push('pathPatterns or hostHeaders must name what this service answers, got neither');
  } else if (values > 5) {
    problems.push(
      `pathPatterns and hostHeaders may hold 5 values together (an ALB rule's limit), got ${values}`,
    );
  }
  if (known(desired) && known(max) && desired > max) {
    problems.push(`desiredCount must not exceed maxCount, got ${desired} > ${max}`);
  }
  if (drain.toSeconds() > 30) {
    problems.push(`drainTime must be 0-30 seconds, got ${drain.toSeconds()}`);
  }
  if (problems.length > 0) {
    throw new Error(
      `OrdersService has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
  }
}
