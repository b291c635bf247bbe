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
}

/**
 * A Fargate service (ARM64) behind a listener rule of the region's load balancer, keeping the
 * service contract: `/health/ready` with the token, SIGTERM drain, a read-only root filesystem.
 */
export class OrdersService extends Construct {
  public readonly service: FargateService;
  public readonly targetGroup: ApplicationTargetGroup;

  constructor(scope: Construct, id: string, props: OrdersServiceProps) {
    super(scope, id);
    const desired = props.desiredCount ?? 2;
    const max = props.maxCount ?? desired * 3;
    const drain = props.drainTime ?? Duration.seconds(20);
    validate(props, desired, max, drain);

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
        interval: Duration.seconds(5),
        timeout: Duration.seconds(4),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
        healthyHttpCodes: '200',
      },
    });

    this.service
      .autoScaleTaskCount({ minCapacity: desired, maxCapacity: max })
      .scaleOnCpuUtilization('Cpu', { targetUtilizationPercent: 60 });
  }
}

function validate(props: OrdersServiceProps, desired: number, max: number, drain: Duration): void {
  const problems: string[] = [];
  const known = (n: number) => !Token.isUnresolved(n);
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
