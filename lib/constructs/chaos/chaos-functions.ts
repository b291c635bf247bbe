import { ArnFormat, Duration, Fn, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  IAlarm,
  MathExpression,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import type { FargateTaskDefinition, ICluster, IBaseService } from 'aws-cdk-lib/aws-ecs';
import type { ITargetGroup } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IStringParameter } from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';

import { ProjectFunction } from '../lambda/project-function';

import { CHAOS_FUNCTION_NAMES, ChaosFunctionName, chaosEntry } from './bundling';
import { ChaosExperimentTemplates } from './fis-templates';
import { nagResource } from './nag-finding';

/** An endpoint the canary calls: a region's endpoint (named by its region code) or `global`. */
export interface CanaryTarget {
  /** `us-east-1`, `eu-west-1`, ... for a region's endpoint; `global` for the global name. */
  readonly name: string;
  /** The readiness URL, e.g. `https://api.example.com/health/ready`. */
  readonly url: string;
}

export interface ChaosFunctionsProps {
  /** The region's ECS cluster. */
  readonly cluster: ICluster;
  /**
   * The region's service. The functions act only while it is tagged `chaos-enabled=true`; the FIS
   * templates target its tasks by cluster and service name, through the stop-tasks guard.
   */
  readonly service: IBaseService;
  /**
   * The service's target groups: with canary deployments both of them (`CatalogService.targetGroups`),
   * since ECS moves each new revision into the other group. The blast-radius cap counts the targets
   * they find healthy (DescribeTargetHealth of each, a target in both counted once), not the tasks
   * ECS reports RUNNING. Passed to the functions as TARGET_GROUP_ARNS.
   */
  readonly targetGroups: readonly ITargetGroup[];
  /** The region's fault document (a String parameter the service reads). */
  readonly faultParameter: IStringParameter;
  /** The "region impaired" alarm: preflight of every fault, stop condition of every FIS experiment. */
  readonly regionImpairedAlarm: IAlarm;
  /** What the canary calls every minute: each region's endpoint and the global name. */
  readonly canaryTargets: readonly CanaryTarget[];
  /** The text a healthy readiness body contains. */
  readonly healthToken: string;
  /**
   * Largest share of the region's tasks (and cache nodes) one experiment may affect, 0 < share <= 1.
   * @default 0.5
   */
  readonly maxTaskShare?: number;
  /**
   * Longest a fault may last before it expires by itself, in minutes (1-720).
   * @default 30
   */
  readonly maxFaultDurationMinutes?: number;
  /**
   * The memcached cluster id, so that cache-outage can reboot some of its nodes.
   * @default - cache-outage only blackholes the cache; `rebootNodes` is refused
   */
  readonly cacheClusterId?: string;
  /**
   * Where the canary alarms notify (alarm and OK).
   * @default - the alarms have no actions
   */
  readonly alarmTopic?: ITopic;
  /**
   * Add a FIS template that stresses the tasks' CPU (`aws:ecs:task-cpu-stress`). Fargate supports it
   * only when the task definition runs the SSM agent sidecar FIS requires (see docs/chaos.md).
   * @default false - only the stop-tasks template
   */
  readonly taskCpuStress?: boolean;
  /**
   * The service's task definition, to add the ECS network fault FIS templates (latency, packet
   * loss, a black-holed port) and the SSM agent sidecar they need. It must opt in to fault
   * injection (`enableFaultInjection`, `pidMode: task`; see docs/chaos.md).
   * @default - no network fault templates
   */
  readonly taskDefinition?: FargateTaskDefinition;
  /**
   * How long the functions' logs are kept.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
  /**
   * CloudWatch namespace of the canary metrics and the `ChaosAction` audit metric.
   * @default 'Chaos'
   */
  readonly metricsNamespace?: string;
}

/** Memory and timeout of each function. The timeout stays under a minute, the shortest lease. */
const GUARDED_MEMORY_MIB = 256;
const GUARDED_TIMEOUT = Duration.seconds(50);
const CANARY_MEMORY_MIB = 128;
const CANARY_TIMEOUT = Duration.seconds(20);

const REGION_OR_GLOBAL = /^([a-z]{2}(-[a-z]+)+-\d|global)$/;

/**
 * One region's chaos tooling: the guarded fault functions and `restore` (with a sweep every minute
 * that ends expired changes), the canary (every minute, alarmed), the lease/state table, and FIS
 * experiment templates as the AWS-native alternative. IAM is scoped to the cluster, service,
 * parameter, alarm and table.
 */
export class ChaosFunctions extends Construct {
  /** Every function, by name (`stop-tasks`, ..., `restore`, `canary`). */
  public readonly functions: Readonly<Record<ChaosFunctionName, ProjectFunction>>;
  /** Leases, remembered state and idempotency records. */
  public readonly stateTable: Table;
  /** One alarm per canary target, on CanarySuccess dropping. */
  public readonly canaryAlarms: readonly Alarm[];
  /**
   * Restore has failed in each of the last 3 minutes (the sweep retries every minute): a fault
   * may still be in place and the tooling has not been able to take it away by itself.
   */
  public readonly restoreFailingAlarm: Alarm;
  public readonly experimentTemplates: ChaosExperimentTemplates;

  constructor(scope: Construct, id: string, props: ChaosFunctionsProps) {
    super(scope, id);
    validateProps(props);
    const stack = Stack.of(this);
    const maxTaskShare = props.maxTaskShare ?? 0.5;
    const maxFaultDurationMinutes = props.maxFaultDurationMinutes ?? 30;
    const namespace = props.metricsNamespace ?? 'Chaos';
    const { cluster, service } = props;

    this.stateTable = new Table(this, 'StateTable', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expiresAt',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Leases and remembered state are worthless once the stack is gone.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const taskArnPattern = stack.formatArn({
      service: 'ecs',
      resource: 'task',
      resourceName: `${cluster.clusterName}/*`,
    });
    const inCluster = { ArnEquals: { 'ecs:cluster': cluster.clusterArn } };
    const statements = {
      readAlarm: new PolicyStatement({
        actions: ['cloudwatch:DescribeAlarms'],
        resources: [props.regionImpairedAlarm.alarmArn],
      }),
      readService: new PolicyStatement({
        actions: ['ecs:DescribeServices', 'ecs:ListTagsForResource'],
        resources: [service.serviceArn],
      }),
      updateService: new PolicyStatement({
        actions: ['ecs:UpdateService'],
        resources: [service.serviceArn],
      }),
      // ListTasks has no resource-level permission; the condition keeps it to this cluster.
      listTasks: new PolicyStatement({
        actions: ['ecs:ListTasks'],
        resources: ['*'],
        conditions: inCluster,
      }),
      describeTasks: new PolicyStatement({
        actions: ['ecs:DescribeTasks'],
        resources: [taskArnPattern],
        conditions: inCluster,
      }),
      stopTasks: new PolicyStatement({
        actions: ['ecs:StopTask'],
        resources: [taskArnPattern],
        conditions: inCluster,
      }),
      // DescribeTargetHealth supports no resource-level permission and no condition key of its
      // own (Service Authorization Reference, Elastic Load Balancing V2): it can only be granted
      // on `*`. It is a read, and only the functions that count target health get it.
      targetHealth: new PolicyStatement({
        actions: ['elasticloadbalancing:DescribeTargetHealth'],
        resources: ['*'],
      }),
      faultDocument: new PolicyStatement({
        actions: ['ssm:GetParameter', 'ssm:PutParameter'],
        resources: [props.faultParameter.parameterArn],
      }),
      stateTable: new PolicyStatement({
        actions: [
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
        ],
        resources: [this.stateTable.tableArn],
      }),
    };
    const cacheClusterArn = props.cacheClusterId
      ? stack.formatArn({
          service: 'elasticache',
          resource: 'cluster',
          resourceName: props.cacheClusterId,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        })
      : undefined;

    const canaryTargets = stack.toJsonString(props.canaryTargets);
    const guardedEnvironment: Record<string, string> = {
      CLUSTER_ARN: cluster.clusterArn,
      SERVICE_ARN: service.serviceArn,
      FAULTS_PARAMETER: props.faultParameter.parameterName,
      REGION_IMPAIRED_ALARM: props.regionImpairedAlarm.alarmName,
      STATE_TABLE: this.stateTable.tableName,
      MAX_TASK_SHARE: String(maxTaskShare),
      MAX_FAULT_DURATION_MINUTES: String(maxFaultDurationMinutes),
    };
    const preflight = [
      statements.readAlarm,
      statements.readService,
      statements.listTasks,
      statements.describeTasks,
    ];
    const faults = [...preflight, statements.faultDocument, statements.stateTable];
    /** The functions whose cap counts healthy targets (their planners call `capacityOf`). */
    const capped = [...faults, statements.targetHealth];
    const targetGroupEnvironment = {
      TARGET_GROUP_ARNS: Fn.join(
        ',',
        props.targetGroups.map((g) => g.targetGroupArn),
      ),
    };

    /** What each function may do, and what it reads from its environment beyond the guarded set. */
    const specs: Record<
      ChaosFunctionName,
      { statements: PolicyStatement[]; environment: Record<string, string>; guarded: boolean }
    > = {
      'stop-tasks': {
        statements: [...capped, statements.stopTasks],
        environment: targetGroupEnvironment,
        guarded: true,
      },
      'az-outage': {
        statements: [...capped, statements.stopTasks, statements.updateService],
        environment: {
          ...targetGroupEnvironment,
          SUBNET_AZS: subnetAvailabilityZones(stack, cluster),
        },
        guarded: true,
      },
      'empty-responses': { statements: capped, environment: targetGroupEnvironment, guarded: true },
      'region-outage': {
        statements: faults,
        environment: { CANARY_TARGETS: canaryTargets, HEALTH_TOKEN: props.healthToken },
        guarded: true,
      },
      'cache-outage': {
        statements: cacheClusterArn
          ? [
              ...capped,
              new PolicyStatement({
                actions: ['elasticache:DescribeCacheClusters', 'elasticache:RebootCacheCluster'],
                resources: [cacheClusterArn],
              }),
            ]
          : capped,
        environment: {
          ...targetGroupEnvironment,
          ...(props.cacheClusterId ? { CACHE_CLUSTER_ID: props.cacheClusterId } : {}),
        },
        guarded: true,
      },
      latency: { statements: capped, environment: targetGroupEnvironment, guarded: true },
      restore: {
        statements: [
          statements.readService,
          statements.updateService,
          statements.faultDocument,
          statements.stateTable,
        ],
        environment: {},
        guarded: true,
      },
      canary: {
        statements: [],
        environment: { CANARY_TARGETS: canaryTargets, HEALTH_TOKEN: props.healthToken },
        guarded: false,
      },
    };

    const functions = {} as Record<ChaosFunctionName, ProjectFunction>;
    for (const name of CHAOS_FUNCTION_NAMES) {
      const spec = specs[name];
      // An own role, without the AWSLambdaBasicExecutionRole managed policy: logs go to its group only.
      const fn = ProjectFunction.withOwnRole(this, pascal(name), {
        entry: chaosEntry(name),
        memorySize: spec.guarded ? GUARDED_MEMORY_MIB : CANARY_MEMORY_MIB,
        timeout: spec.guarded ? GUARDED_TIMEOUT : CANARY_TIMEOUT,
        statements: spec.statements,
        roleDescription: `chaos ${name} in ${stack.region}`,
        logRetention: props.logRetention,
        wildcardReason:
          'xray:PutTraceSegments/PutTelemetryRecords (active tracing), ecs:ListTasks and ' +
          'elasticloadbalancing:DescribeTargetHealth (a read) support no resource-level permission; ' +
          'ListTasks is held to this cluster by an ecs:cluster condition',
        description: `Chaos: ${name} (${stack.region})`,
        environment: {
          POWERTOOLS_SERVICE_NAME: `chaos-${name}`,
          POWERTOOLS_METRICS_NAMESPACE: namespace,
          ...(spec.guarded ? guardedEnvironment : {}),
          ...spec.environment,
        },
      });
      functions[name] = fn;
    }
    this.functions = functions;
    const readsTasks = CHAOS_FUNCTION_NAMES.filter((n) =>
      specs[n].statements.includes(statements.describeTasks),
    );
    this.acknowledgeTaskWildcards(taskArnPattern, readsTasks);

    // Every minute: the canary, and the sweep that ends expired changes nobody restored.
    new Rule(this, 'CanarySchedule', {
      description: 'Runs the chaos canary every minute',
      schedule: Schedule.rate(Duration.minutes(1)),
      targets: [new LambdaFunction(functions.canary, { retryAttempts: 0 })],
    });
    new Rule(this, 'RestoreSweep', {
      description: 'Restores chaos experiments whose faults have expired',
      schedule: Schedule.rate(Duration.minutes(1)),
      targets: [
        new LambdaFunction(functions.restore, {
          event: RuleTargetInput.fromObject({ sweep: true }),
          retryAttempts: 2,
        }),
      ],
    });

    this.canaryAlarms = props.canaryTargets.map((target) => {
      const alarm = new Alarm(this, `CanaryAlarm-${target.name}`, {
        alarmDescription: `The chaos canary in ${stack.region} failed 2 of the last 3 minutes for ${target.name} (${target.url})`,
        metric: new Metric({
          namespace,
          metricName: 'CanarySuccess',
          dimensionsMap: { service: 'chaos-canary', target: target.name },
          statistic: 'Average',
          period: Duration.minutes(1),
        }),
        comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
        threshold: 1,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        // No data means the canary itself is not running: that is a failure too.
        treatMissingData: TreatMissingData.BREACHING,
      });
      if (props.alarmTopic) {
        alarm.addAlarmAction(new SnsAction(props.alarmTopic));
        alarm.addOkAction(new SnsAction(props.alarmTopic));
      }
      return alarm;
    });

    this.restoreFailingAlarm = this.restoreFailing(namespace, functions.restore, props.alarmTopic);

    this.experimentTemplates = new ChaosExperimentTemplates(this, 'Fis', {
      cluster,
      service,
      stopTasksFunction: functions['stop-tasks'],
      regionImpairedAlarm: props.regionImpairedAlarm,
      maxFaultDurationMinutes,
      taskCpuStress: props.taskCpuStress ?? false,
      logRetention: props.logRetention,
      taskDefinition: props.taskDefinition,
    });
  }

  /**
   * The sweep's give-up signal. Each restore that leaves something (or may leave something) in
   * place is audited `ChaosAction{action=restore, outcome=failed}`; one that failed before it could
   * tell is `internal-error`; one that Lambda ended (its timeout) is counted only in the function's
   * `Errors`. Any of them in each of 3 one-minute periods is 3 sweeps in a row that could not
   * restore. No data is not breaching: no restore ran, so none failed.
   */
  private restoreFailing(namespace: string, restore: ProjectFunction, topic?: ITopic): Alarm {
    const audited = (outcome: string) =>
      new Metric({
        namespace,
        metricName: 'ChaosAction',
        dimensionsMap: { service: 'chaos-restore', action: 'restore', outcome },
        statistic: 'Sum',
        period: Duration.minutes(1),
      });
    const alarm = new Alarm(this, 'RestoreFailingAlarm', {
      alarmDescription:
        `Chaos restore in ${Stack.of(this).region} has failed in each of the last 3 minutes: a ` +
        "fault may still be in place. Read the restore function's audit lines (docs/chaos.md, " +
        '"When restore keeps failing").',
      metric: new MathExpression({
        expression: 'FILL(failed, 0) + FILL(crashed, 0) + FILL(errors, 0)',
        usingMetrics: {
          failed: audited('failed'),
          crashed: audited('internal-error'),
          errors: restore.metricErrors({ statistic: 'Sum', period: Duration.minutes(1) }),
        },
        label: 'failed restores',
        period: Duration.minutes(1),
      }),
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      threshold: 1,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    if (topic) {
      alarm.addAlarmAction(new SnsAction(topic));
      alarm.addOkAction(new SnsAction(topic));
    }
    return alarm;
  }

  /** Task ids are not known before tasks run: task ARNs are matched under this cluster. */
  private acknowledgeTaskWildcards(
    taskArnPattern: string,
    names: readonly ChaosFunctionName[],
  ): void {
    const finding = nagResource(Stack.of(this).resolve(taskArnPattern));
    for (const name of names) {
      Validations.of(this.functions[name].role ?? this).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${finding}]`,
        reason:
          'ecs:DescribeTasks/StopTask name tasks by ARN, and task ids are only known at run time; ' +
          'the ARN is fixed to this cluster and an ecs:cluster condition repeats the scope',
      });
    }
  }
}

/** Subnet id -> AZ for every subnet of the cluster's VPC, as az-outage's SUBNET_AZS. */
function subnetAvailabilityZones(stack: Stack, cluster: ICluster): string {
  const subnets = [
    ...cluster.vpc.publicSubnets,
    ...cluster.vpc.privateSubnets,
    ...cluster.vpc.isolatedSubnets,
  ];
  return stack.toJsonString(
    Object.fromEntries(subnets.map((s) => [s.subnetId, s.availabilityZone])),
  );
}

const pascal = (name: string): string =>
  name.replace(/(^|-)([a-z])/g, (_m, _dash: string, c: string) => c.toUpperCase());

function validateProps(props: ChaosFunctionsProps): void {
  const problems: string[] = [];
  const share = props.maxTaskShare;
  if (share !== undefined && !Token.isUnresolved(share) && !(share > 0 && share <= 1)) {
    problems.push(
      `maxTaskShare must be above 0 and at most 1 (a share of the tasks), got ${share}`,
    );
  }
  const minutes = props.maxFaultDurationMinutes;
  if (
    minutes !== undefined &&
    !Token.isUnresolved(minutes) &&
    !(Number.isInteger(minutes) && minutes >= 1 && minutes <= 720)
  ) {
    problems.push(
      `maxFaultDurationMinutes must be a whole number of minutes from 1 to 720, got ${minutes}`,
    );
  }
  if (props.targetGroups.length === 0) {
    problems.push(
      "targetGroups must list the service's target groups (both, with canary deployments), got none",
    );
  } else if (new Set(props.targetGroups).size !== props.targetGroups.length) {
    problems.push('targetGroups must list each target group once, got one twice');
  }
  if (props.canaryTargets.length === 0) {
    problems.push(
      'canaryTargets must list at least one endpoint (each region and the global name)',
    );
  }
  const seen = new Set<string>();
  for (const target of props.canaryTargets) {
    if (Token.isUnresolved(target.name)) continue;
    if (!REGION_OR_GLOBAL.test(target.name)) {
      problems.push(
        `canaryTargets name must be a region code (e.g. eu-west-1) or "global", got ${JSON.stringify(target.name)}`,
      );
    }
    if (seen.has(target.name))
      problems.push(`canaryTargets names must be unique, got ${target.name} twice`);
    seen.add(target.name);
    if (!Token.isUnresolved(target.url) && !/^https?:\/\/\S+$/.test(target.url)) {
      problems.push(
        `canaryTargets url of ${target.name} must be an http(s) URL, got ${JSON.stringify(target.url)}`,
      );
    }
  }
  if (!Token.isUnresolved(props.healthToken) && props.healthToken.trim() === '') {
    problems.push(
      'healthToken must be the text a healthy readiness body contains, got an empty string',
    );
  }
  if (
    props.cacheClusterId !== undefined &&
    !Token.isUnresolved(props.cacheClusterId) &&
    props.cacheClusterId === ''
  ) {
    problems.push(
      'cacheClusterId must be the memcached cluster id, or left out; got an empty string',
    );
  }
  if (problems.length > 0) {
    throw new Error(
      `ChaosFunctions: ${problems.length} invalid prop(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
  }
}
