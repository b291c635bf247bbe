import { Annotations, Duration, RemovalPolicy, Stack, Tags, Token, Validations } from 'aws-cdk-lib';
import { IVpc, SubnetType } from 'aws-cdk-lib/aws-ec2';
import {
  AlarmBehavior,
  AlternateTarget,
  AvailabilityZoneRebalancing,
  Cluster,
  ContainerImage,
  ContainerInsights,
  CpuArchitecture,
  DeploymentStrategy,
  FargatePlatformVersion,
  FargateService,
  FargateTaskDefinition,
  IDeploymentLifecycleHookTarget,
  ListenerRuleConfiguration,
  LogDrivers,
  OperatingSystemFamily,
  PidMode,
  PropagatedTagSource,
} from 'aws-cdk-lib/aws-ecs';
import {
  ApplicationListener,
  ApplicationListenerRule,
  ApplicationProtocol,
  ApplicationTargetGroup,
  ListenerAction,
  ListenerCondition,
  TargetGroupLoadBalancingAlgorithmType,
  TargetType,
} from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { ManagedPolicy, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { IStringParameter } from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';

export const CONTAINER_PORT = 8080;
export const CHAOS_TAG = { key: 'chaos-enabled', value: 'true' } as const;
/**
 * The priority of the catalog's catch-all `/*` rules: the last an ALB allows, so that every other
 * service's rule on the same listener (docs/fork.md §10, e.g. `/orders/*` at 10) is matched first.
 */
export const CATALOG_RULE_PRIORITY = 50_000;

/** The service's container in the task definition. */
export const CONTAINER_NAME = 'App';

/** How ECS shifts production traffic to a new revision once the gate has passed it. */
export enum TrafficShift {
  /** `trafficStepPercent` of the traffic for `stepBakeTime`, then the rest at once. */
  CANARY = 'canary',
  /** `trafficStepPercent` more of the traffic every `stepBakeTime` until all of it. */
  LINEAR = 'linear',
}

export interface CatalogServiceProps {
  readonly vpc: IVpc;
  /** The container image built from `service/`. */
  readonly image: ContainerImage;
  /** The load balancer listener that forwards to the tasks. */
  readonly listener: ApplicationListener;
  /**
   * The listener on which a deployment's new revision answers before it gets production traffic
   * (on the same load balancer as `listener`).
   */
  readonly testListener: ApplicationListener;
  /**
   * The lifecycle hook that checks a new revision on the test listener before production traffic
   * shifts to it (the `DeploymentGate`'s `hook`).
   * @default - none: a new revision gets production traffic once its targets pass the ALB check
   */
  readonly deploymentGate?: IDeploymentLifecycleHookTarget;
  /**
   * How production traffic shifts to a new revision.
   * @default TrafficShift.CANARY
   */
  readonly trafficShift?: TrafficShift;
  /**
   * Share of production traffic per shift step, in percent (multiples of 0.1; canary 0.1-100,
   * linear 3-100).
   * @default 10
   */
  readonly trafficStepPercent?: number;
  /**
   * How long each traffic step runs, watched by the deployment alarms, before the next (0-1440 min).
   * @default Duration.minutes(5)
   */
  readonly stepBakeTime?: Duration;
  /**
   * How long the old revision is kept, and the alarms watched, after all traffic has shifted: an
   * alarm in that time shifts traffic straight back (0-1440 min).
   * @default Duration.minutes(10)
   */
  readonly bakeTime?: Duration;
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
   * Names of alarms that roll a deployment back when they fire during its traffic steps or bake
   * time.
   * @default - none: only the deployment gate stops a bad revision
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
 * load balancer with a body-aware readiness check, deployed by ECS canary (or linear) traffic
 * shifting: a new revision first answers on the test listener alone, where the deployment gate
 * checks it, then takes production traffic step by step, rolled back by alarms until the bake time
 * ends. Scaled on CPU and on requests per target, and allowed only its table and fault parameter.
 */
export class CatalogService extends Construct {
  public readonly cluster: Cluster;
  public readonly service: FargateService;
  /**
   * The target group the service starts in. ECS moves each new revision into the other group
   * (`alternateTargetGroup`), so after a deployment production traffic may be in either.
   */
  public readonly targetGroup: ApplicationTargetGroup;
  /** The target group a new revision starts in when the service runs in `targetGroup`, and back. */
  public readonly alternateTargetGroup: ApplicationTargetGroup;
  /** Both target groups: metrics, alarms and target-health reads must look at both. */
  public readonly targetGroups: readonly ApplicationTargetGroup[];
  /** The role ECS uses to register targets and move listener rules during a deployment. */
  public readonly deploymentRole: Role;
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
    const shift = props.trafficShift ?? TrafficShift.CANARY;
    const stepPercent = props.trafficStepPercent ?? 10;
    const stepBake = props.stepBakeTime ?? Duration.minutes(5);
    const bake = props.bakeTime ?? Duration.minutes(10);
    validate({
      shift,
      stepPercent,
      stepBakeMinutes: stepBake.toMinutes({ integral: false }),
      bakeMinutes: bake.toMinutes({ integral: false }),
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
    this.taskDefinition.addContainer(CONTAINER_NAME, {
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

    const trafficStep = { stepPercent, stepBakeTime: stepBake };
    this.service = new FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: desired,
      // pidMode on Fargate needs 1.4.0; pinned so that the prerequisite shows in the template.
      ...(props.chaosEnabled ? { platformVersion: FargatePlatformVersion.VERSION1_4 } : {}),
      vpcSubnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS },
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      // No circuit breaker: ECS applies it to rolling updates only. In its place: the gate refuses
      // a revision before any production traffic, the alarms roll back during the traffic steps
      // and the bake time, and the old revision keeps running until the bake time ends.
      deploymentStrategy:
        shift === TrafficShift.CANARY ? DeploymentStrategy.CANARY : DeploymentStrategy.LINEAR,
      canaryConfiguration: shift === TrafficShift.CANARY ? trafficStep : undefined,
      linearConfiguration: shift === TrafficShift.LINEAR ? trafficStep : undefined,
      bakeTime: bake,
      deploymentAlarms: props.deploymentAlarmNames?.length
        ? { alarmNames: [...props.deploymentAlarmNames], behavior: AlarmBehavior.ROLLBACK_ON_ALARM }
        : undefined,
      // The service is ready within seconds; this covers image pull and the first checks.
      healthCheckGracePeriod: Duration.seconds(30),
      availabilityZoneRebalancing: AvailabilityZoneRebalancing.ENABLED,
      enableECSManagedTags: true,
      propagateTags: PropagatedTagSource.SERVICE,
    });
    Annotations.of(this.service).acknowledgeWarning(
      '@aws-cdk/aws-ecs:shouldUseCircuitBreaker',
      'The circuit breaker applies to rolling updates only; canary deployments are stopped by the ' +
        'deployment gate, the deployment alarms and the bake time instead',
    );
    if (props.chaosEnabled) Tags.of(this.service).add(CHAOS_TAG.key, CHAOS_TAG.value);
    if (props.deploymentGate) this.service.addLifecycleHook(props.deploymentGate);

    const targetGroupProps = {
      vpc: props.vpc,
      port: CONTAINER_PORT,
      protocol: ApplicationProtocol.HTTP,
      targetType: TargetType.IP,
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
    };
    // Two groups with the same readiness check: a new revision registers in the one not serving.
    this.targetGroup = new ApplicationTargetGroup(this, 'TargetGroup', targetGroupProps);
    this.alternateTargetGroup = new ApplicationTargetGroup(
      this,
      'AlternateTargetGroup',
      targetGroupProps,
    );
    this.targetGroups = [this.targetGroup, this.alternateTargetGroup];

    // ECS moves the weights of these rules: production shifts in steps, test traffic all at once.
    const everything = [ListenerCondition.pathPatterns(['/*'])];
    const bothGroups = () =>
      ListenerAction.weightedForward([
        { targetGroup: this.targetGroup, weight: 100 },
        { targetGroup: this.alternateTargetGroup, weight: 0 },
      ]);
    const productionRule = new ApplicationListenerRule(this, 'ProductionRule', {
      listener: props.listener,
      priority: CATALOG_RULE_PRIORITY,
      conditions: everything,
      action: bothGroups(),
    });
    const testRule = new ApplicationListenerRule(this, 'TestRule', {
      listener: props.testListener,
      priority: CATALOG_RULE_PRIORITY,
      conditions: everything,
      action: bothGroups(),
    });

    this.deploymentRole = new Role(this, 'DeploymentRole', {
      assumedBy: new ServicePrincipal('ecs.amazonaws.com'),
      description: 'ECS registers targets and moves listener rule weights during deployments',
      managedPolicies: [
        ManagedPolicy.fromAwsManagedPolicyName('AmazonECSInfrastructureRolePolicyForLoadBalancers'),
      ],
    });
    Validations.of(this.deploymentRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers]',
      reason:
        "ECS's documented policy for blue/green, linear and canary deployments (describe listeners, " +
        'rules, target groups and health; register/deregister targets; modify listeners and rules). ' +
        'AWS revises it as the deployment controller changes; a hand-copied subset would break ' +
        'deployments silently. The role is assumable by ECS only and used by this service only.',
    });
    this.targetGroup.addTarget(
      this.service.loadBalancerTarget({
        containerName: CONTAINER_NAME,
        containerPort: CONTAINER_PORT,
        alternateTarget: new AlternateTarget('AlternateTarget', {
          alternateTargetGroup: this.alternateTargetGroup,
          productionListener: ListenerRuleConfiguration.applicationListenerRule(productionRule),
          testListener: ListenerRuleConfiguration.applicationListenerRule(testRule),
          role: this.deploymentRole,
        }),
      }),
    );
    this.service.node.addDependency(productionRule, testRule);

    const scaling = this.service.autoScaleTaskCount({ minCapacity: min, maxCapacity: max });
    scaling.scaleOnCpuUtilization('Cpu', { targetUtilizationPercent: 60 });
    // One policy per target group: the one serving drives it; the idle one has no data, and target
    // tracking never scales in on missing data.
    scaling.scaleOnRequestCount('Requests', {
      requestsPerTarget: 1000,
      targetGroup: this.targetGroup,
    });
    scaling.scaleOnRequestCount('AlternateRequests', {
      requestsPerTarget: 1000,
      targetGroup: this.alternateTargetGroup,
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
  shift: TrafficShift;
  stepPercent: number;
  stepBakeMinutes: number;
  bakeMinutes: number;
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
  if (known(v.stepPercent)) {
    const min = v.shift === TrafficShift.CANARY ? 0.1 : 3;
    const tenths = v.stepPercent * 10;
    if (
      v.stepPercent < min ||
      v.stepPercent > 100 ||
      Math.abs(tenths - Math.round(tenths)) > 1e-9
    ) {
      problems.push(
        `trafficStepPercent must be a multiple of 0.1 from ${min} to 100 for ${v.shift} shifts, got ${v.stepPercent}`,
      );
    }
  }
  for (const [name, minutes] of [
    ['stepBakeTime', v.stepBakeMinutes],
    ['bakeTime', v.bakeMinutes],
  ] as const) {
    if (!Number.isInteger(minutes) || minutes < 0 || minutes > 1440) {
      problems.push(`${name} must be whole minutes from 0 to 1440, got ${minutes} minutes`);
    }
  }
  if (v.drainSeconds < 0 || v.drainSeconds > 30) {
    problems.push(`drainTime must be 0-30 seconds, got ${v.drainSeconds}`);
  }
  if (problems.length > 0) throw new Error(`CatalogService: ${problems.join('; ')}`);
}
