import { Duration, RemovalPolicy, Stack, Tags, Token, Validations } from 'aws-cdk-lib';
import { IVpc, SubnetType } from 'aws-cdk-lib/aws-ec2';
import {
  AlarmBehavior,
  AvailabilityZoneRebalancing,
  Cluster,
  ContainerImage,
  ContainerInsights,
  CpuArchitecture,
  FargatePlatformVersion,
  FargateService,
  FargateTaskDefinition,
  LogDrivers,
  OperatingSystemFamily,
  PidMode,
  PropagatedTagSource,
} from 'aws-cdk-lib/aws-ecs';
import {
  ApplicationListener,
  ApplicationProtocol,
  ApplicationTargetGroup,
  TargetGroupLoadBalancingAlgorithmType,
} from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { IStringParameter } from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';

export const CONTAINER_PORT = 8080;
export const CHAOS_TAG = { key: 'chaos-enabled', value: 'true' } as const;

export interface CatalogServiceProps {
  readonly vpc: IVpc;
  /** The container image built from `service/`. */
  readonly image: ContainerImage;
  /** The load balancer listener that forwards to the tasks. */
  readonly listener: ApplicationListener;
  /** The DynamoDB table (this region's replica) the tasks read and write. */
  readonly tableName: string;
  /**
   * `host:port` of the ElastiCache memcached configuration endpoint: the tasks read the node list
   * from it (Auto Discovery) at start and every minute.
   */
  readonly memcachedConfigEndpoint: string;
  /**
   * Speak TLS to memcached (ElastiCache in-transit encryption).
   * @default false
   */
  readonly memcachedTls?: boolean;
  /** The SSM parameter holding the fault document, which the tasks poll. */
  readonly faultParameter: IStringParameter;
  /** The text readiness bodies contain; the container health check searches for it. */
  readonly healthToken: string;
  /**
   * Fargate CPU units per task.
   * @default 512
   */
  readonly cpu?: number;
  /**
   * Memory per task in MiB.
   * @default 1024
   */
  readonly memoryLimitMiB?: number;
  /**
   * Tasks in steady state.
   * @default 3
   */
  readonly desiredCount?: number;
  /**
   * Fewest tasks autoscaling leaves.
   * @default - desiredCount
   */
  readonly minCount?: number;
  /**
   * Most tasks autoscaling runs.
   * @default - 4 × desiredCount
   */
  readonly maxCount?: number;
  /**
   * Seconds between target health checks (5-300).
   * @default 5
   */
  readonly healthCheckIntervalSeconds?: number;
  /**
   * Seconds a health check waits (2-120, below the interval).
   * @default 4
   */
  readonly healthCheckTimeoutSeconds?: number;
  /**
   * Passing checks before a target takes traffic (2-10).
   * @default 2
   */
  readonly healthyThresholdCount?: number;
  /**
   * Failing checks before a target is ejected (2-10).
   * @default 3
   */
  readonly unhealthyThresholdCount?: number;
  /**
   * How long in-flight requests may finish when a task stops: the target group's deregistration
   * delay and the service's own drain after SIGTERM (at most 30 s).
   * @default Duration.seconds(20)
   */
  readonly drainTime?: Duration;
  /**
   * Names of alarms that roll a deployment back when they fire during it.
   * @default - none: only the deployment circuit breaker rolls back
   */
  readonly deploymentAlarmNames?: readonly string[];
  /**
   * Tag the service `chaos-enabled=true`, the tag chaos functions and FIS look for, and opt the
   * task definition in to ECS fault injection (`enableFaultInjection`, `pidMode: task`, platform
   * version 1.4.0: the prerequisites of FIS's ECS network actions, docs/chaos.md).
   * @default false
   */
  readonly chaosEnabled?: boolean;
  /**
   * CloudWatch namespace of the service's own metrics (EMF).
   * @default 'Blueprint/Service'
   */
  readonly metricsNamespace?: string;
  /**
   * How long container logs are kept.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
}

/**
 * The catalog service on Fargate (ARM64): tasks spread and rebalanced over the AZs, behind the
 * load balancer with a body-aware readiness check, rolled back by circuit breaker and alarms,
 * scaled on CPU and on requests per target, and allowed only its table and fault parameter.
 */
export class CatalogService extends Construct {
  public readonly cluster: Cluster;
  public readonly service: FargateService;
  public readonly targetGroup: ApplicationTargetGroup;
  public readonly taskDefinition: FargateTaskDefinition;

  constructor(scope: Construct, id: string, props: CatalogServiceProps) {
    super(scope, id);
    const desired = props.desiredCount ?? 3;
    const min = props.minCount ?? desired;
    const max = props.maxCount ?? desired * 4;
    const interval = props.healthCheckIntervalSeconds ?? 5;
    const timeout = props.healthCheckTimeoutSeconds ?? 4;
    const healthy = props.healthyThresholdCount ?? 2;
    const unhealthy = props.unhealthyThresholdCount ?? 3;
    const drain = props.drainTime ?? Duration.seconds(20);
    validate({
      desired,
      min,
      max,
      interval,
      timeout,
      healthy,
      unhealthy,
      drainSeconds: drain.toSeconds(),
    });

    this.cluster = new Cluster(this, 'Cluster', {
      vpc: props.vpc,
      containerInsightsV2: ContainerInsights.ENHANCED,
    });

    this.taskDefinition = new FargateTaskDefinition(this, 'TaskDef', {
      cpu: props.cpu ?? 512,
      memoryLimitMiB: props.memoryLimitMiB ?? 1024,
      runtimePlatform: {
        cpuArchitecture: CpuArchitecture.ARM64,
        operatingSystemFamily: OperatingSystemFamily.LINUX,
      },
      // FIS's aws:ecs:task-network-* actions on Fargate need both (docs/chaos.md, prerequisites).
      ...(props.chaosEnabled ? { enableFaultInjection: true, pidMode: PidMode.TASK } : {}),
    });
    const logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.taskDefinition.addContainer('App', {
      image: props.image,
      portMappings: [{ containerPort: CONTAINER_PORT }],
      readonlyRootFilesystem: true,
      // ECS sends SIGTERM after the load balancer has drained the target, then waits this long
      // for the service's own drain before SIGKILL.
      stopTimeout: drain.plus(Duration.seconds(10)),
      logging: LogDrivers.awsLogs({ logGroup, streamPrefix: 'catalog' }),
      environment: {
        PORT: String(CONTAINER_PORT),
        TABLE_NAME: props.tableName,
        MEMCACHED_CONFIG_ENDPOINT: props.memcachedConfigEndpoint,
        MEMCACHED_TLS: String(props.memcachedTls ?? false),
        FAULTS_PARAMETER: props.faultParameter.parameterName,
        HEALTH_TOKEN: props.healthToken,
        METRICS_NAMESPACE: props.metricsNamespace ?? 'Blueprint/Service',
        SHUTDOWN_DRAIN_SECONDS: String(drain.toSeconds()),
      },
      healthCheck: {
        // Liveness, not readiness: the image's health script only asks whether the process
        // answers /health/live. The deep check (/health/ready, dependencies included) is the
        // ALB's: it stops routing to a task that cannot serve, while ECS replaces only a process
        // that no longer answers, so a dependency outage does not replace every task in the region.
        command: ['CMD', 'node', '/app/healthcheck.js'],
        interval: Duration.seconds(10),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(30),
      },
    });
    // The service writes no files, so nothing is writable. (A bind-mount volume at /tmp would not
    // help: Fargate creates it owned by root, mode 0755, so the image's non-root user cannot
    // write it, and Fargate takes no tmpfs mounts.)
    Validations.of(this.taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason:
        'The environment holds only names and settings (table, endpoints, parameter name, token); there are no secrets.',
    });
    const executionRole = this.taskDefinition.executionRole;
    if (executionRole) {
      Validations.of(executionRole).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'ecr:GetAuthorizationToken has no resource-level permissions; AWS requires Resource "*" for it. Image pulls themselves are scoped to the repository.',
      });
    }
    this.grantData(props);

    this.service = new FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: desired,
      // pidMode on Fargate needs 1.4.0; pinned so that the prerequisite shows in the template.
      ...(props.chaosEnabled ? { platformVersion: FargatePlatformVersion.VERSION1_4 } : {}),
      vpcSubnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS },
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      deploymentAlarms: props.deploymentAlarmNames?.length
        ? { alarmNames: [...props.deploymentAlarmNames], behavior: AlarmBehavior.ROLLBACK_ON_ALARM }
        : undefined,
      // The service is ready within seconds; this covers image pull and the first checks.
      healthCheckGracePeriod: Duration.seconds(30),
      availabilityZoneRebalancing: AvailabilityZoneRebalancing.ENABLED,
      enableECSManagedTags: true,
      propagateTags: PropagatedTagSource.SERVICE,
    });
    if (props.chaosEnabled) Tags.of(this.service).add(CHAOS_TAG.key, CHAOS_TAG.value);

    this.targetGroup = props.listener.addTargets('Service', {
      port: CONTAINER_PORT,
      protocol: ApplicationProtocol.HTTP,
      targets: [this.service],
      deregistrationDelay: drain,
      // Round robin, not least outstanding requests: a target that answers fast with empty bodies
      // finishes requests quickest, so least-outstanding would send it ever more traffic.
      loadBalancingAlgorithmType: TargetGroupLoadBalancingAlgorithmType.ROUND_ROBIN,
      healthCheck: {
        path: '/health/ready',
        interval: Duration.seconds(interval),
        timeout: Duration.seconds(timeout),
        healthyThresholdCount: healthy,
        unhealthyThresholdCount: unhealthy,
        healthyHttpCodes: '200',
      },
    });

    const scaling = this.service.autoScaleTaskCount({ minCapacity: min, maxCapacity: max });
    scaling.scaleOnCpuUtilization('Cpu', { targetUtilizationPercent: 60 });
    scaling.scaleOnRequestCount('Requests', {
      requestsPerTarget: 1000,
      targetGroup: this.targetGroup,
    });
  }

  /** Read and write on this region's table replica only; read the fault parameter only. */
  private grantData(props: CatalogServiceProps): void {
    const tableArn = Stack.of(this).formatArn({
      service: 'dynamodb',
      resource: 'table',
      resourceName: props.tableName,
    });
    this.taskDefinition.taskRole.addToPrincipalPolicy(
      new PolicyStatement({
        actions: [
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
          'dynamodb:Query',
          'dynamodb:Scan',
          'dynamodb:ConditionCheckItem',
        ],
        resources: [tableArn],
      }),
    );
    props.faultParameter.grantRead(this.taskDefinition.taskRole);
  }
}

function validate(v: {
  desired: number;
  min: number;
  max: number;
  interval: number;
  timeout: number;
  healthy: number;
  unhealthy: number;
  drainSeconds: number;
}): void {
  const problems: string[] = [];
  const known = (n: number) => !Token.isUnresolved(n);
  if (known(v.min) && known(v.desired) && v.min > v.desired) {
    problems.push(`minCount must not exceed desiredCount, got ${v.min} > ${v.desired}`);
  }
  if (known(v.max) && known(v.desired) && v.desired > v.max) {
    problems.push(`desiredCount must not exceed maxCount, got ${v.desired} > ${v.max}`);
  }
  if (known(v.interval) && (v.interval < 5 || v.interval > 300)) {
    problems.push(`healthCheckIntervalSeconds must be 5-300, got ${v.interval}`);
  }
  if (known(v.timeout) && (v.timeout < 2 || v.timeout > 120 || v.timeout >= v.interval)) {
    problems.push(
      `healthCheckTimeoutSeconds must be 2-120 and below the interval ${v.interval}, got ${v.timeout}`,
    );
  }
  for (const [name, n] of [
    ['healthyThresholdCount', v.healthy],
    ['unhealthyThresholdCount', v.unhealthy],
  ] as const) {
    if (known(n) && (n < 2 || n > 10)) problems.push(`${name} must be 2-10, got ${n}`);
  }
  if (v.drainSeconds < 0 || v.drainSeconds > 30) {
    problems.push(`drainTime must be 0-30 seconds, got ${v.drainSeconds}`);
  }
  if (problems.length > 0) throw new Error(`CatalogService: ${problems.join('; ')}`);
}
