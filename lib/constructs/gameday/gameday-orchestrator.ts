import * as path from 'node:path';

import {
  ArnFormat,
  CfnOutput,
  Duration,
  RemovalPolicy,
  Stack,
  Token,
  Validations,
} from 'aws-cdk-lib';
import type { IAlarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { IBaseService } from 'aws-cdk-lib/aws-ecs';
import type { ITargetGroup } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { EventField, Rule, RuleTargetInput } from 'aws-cdk-lib/aws-events';
import { LambdaFunction as LambdaFunctionTarget } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  IBucket,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import {
  DefinitionBody,
  LogLevel,
  StateMachine,
  StateMachineType,
} from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

import type { Budget, DeployedSettings, ScenarioName } from '../../gameday/scenarios';
import {
  ROUTE53_REQUEST_INTERVAL_SECONDS,
  SCENARIO_NAMES,
  SCENARIOS,
} from '../../gameday/scenarios';
import { abnormalEndPattern } from '../chaos/abnormal-end';
import type { ChaosFunctions } from '../chaos/chaos-functions';
import { nagResource } from '../chaos/nag-finding';
import { LAMBDA_ROOT } from '../lambda/bundle';
import { ProjectFunction } from '../lambda/project-function';

import { GAMEDAY_OUTPUTS, RUNTIME_DEFAULTS } from './contract';
import { gameDayDefinition } from './definition';

export interface GameDayOrchestratorProps {
  /** The region's chaos functions: the fault functions, `restore`, the canary and the lease table. */
  readonly chaos: ChaosFunctions;
  /** The service the chaos functions act on (its ARN keys the lease). */
  readonly service: IBaseService;
  /**
   * The service's target groups (both, with canary deployments: `CatalogService.targetGroups`),
   * whose target health tells when a target is ejected. Every poll reads each of them.
   */
  readonly targetGroups: readonly ITargetGroup[];
  /** The region-impaired alarm: preflight requires it OK; it stops any scenario but region-evacuation. */
  readonly regionImpairedAlarm: IAlarm;
  /**
   * Names of more alarms whose first ALARM the report records (unhealthy hosts, zero-length
   * responses, p99 latency, ...). They must be in this stack's account and region.
   * @default - only the region-impaired alarm
   */
  readonly watchedAlarmNames?: readonly string[];
  /** Base URL of this region's own endpoint, e.g. `https://eu-west-1.api.example.com`. */
  readonly regionEndpoint: string;
  /**
   * Base URL of the global (geoproximity) name, e.g. `https://api.example.com`.
   * @default - none: region-evacuation refuses in its preflight, as it cannot see users move
   */
  readonly globalEndpoint?: string;
  /** The region's availability zones; az-outage takes out the last one unless told otherwise. */
  readonly availabilityZones: readonly string[];
  /**
   * Seconds between ALB target health checks, as deployed.
   * @default 5
   */
  readonly albIntervalSeconds?: number;
  /**
   * Passing checks before a target takes traffic, as deployed.
   * @default 2
   */
  readonly albHealthyThreshold?: number;
  /**
   * Failing checks before a target is ejected, as deployed.
   * @default 3
   */
  readonly albUnhealthyThreshold?: number;
  /**
   * Failing Route 53 checks before a region leaves DNS, as deployed.
   * @default 3
   */
  readonly route53FailureThreshold?: number;
  /**
   * Seconds from a task's stop until its replacement answers its first health check (Fargate
   * image pull and start).
   * @default 90
   */
  readonly taskStartSeconds?: number;
  /**
   * Seconds until a task sees a new fault document: the service polls every 5 s ± 25 %
   * (`FAULTS_POLL_SECONDS`), so at most 6.25 s, rounded up.
   * @default 7
   */
  readonly faultPollSeconds?: number;
  /**
   * Seconds until a task answering empty bodies fails its own readiness: its sentinel read fails
   * at the next readiness check (one ALB interval), plus one interval of margin.
   * @default 10
   */
  readonly selfEjectionSeconds?: number;
  /**
   * The chaos functions' cap on a fault's duration, in minutes. A scenario whose observation would
   * outlast it is refused by its preflight (region-evacuation needs 5 with the defaults).
   * @default 30
   */
  readonly maxFaultDurationMinutes?: number;
  /**
   * Time between two polls of target health, alarms and client reads.
   * @default Duration.seconds(5)
   */
  readonly pollInterval?: Duration;
  /**
   * How long a detected fault is held (watching clients) before it is restored; scenarios that
   * expect no ejection hold twice this long.
   * @default Duration.seconds(30)
   */
  readonly hold?: Duration;
  /**
   * Client reads per poll through the endpoint users reach (1-100). Enough reads reach every
   * task for a bad one to show within the service's 30 s self-ejection window.
   * @default 15
   */
  readonly requestsPerPoll?: number;
  /**
   * The ARN of the load balancer az-outage shifts away from the impaired AZ (ARC zonal shift must
   * be enabled on it). Adds the mitigation step and lets restore end the shift.
   * @default - no mitigation: az-outage only observes the outage
   */
  readonly zonalShiftLoadBalancerArn?: string;
  /**
   * Seconds the mitigation step waits for users to stop seeing errors after it started the shift.
   * @default 300
   */
  readonly zonalShiftTimeoutSeconds?: number;
  /**
   * Days a report is kept in the bucket.
   * @default 365
   */
  readonly reportRetentionDays?: number;
  /**
   * A bucket for the report bucket's server access logs.
   * @default - no server access logs; every report is written by the report function alone
   */
  readonly serverAccessLogsBucket?: IBucket;
  /**
   * CloudWatch namespace of the report metrics (`Runs`, `TimeToDetect`, `TimeToRecover`,
   * `SuccessRate`, `Passed`).
   * @default 'GameDay'
   */
  readonly metricsNamespace?: string;
  /**
   * How long the functions' and the state machine's logs are kept.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
}

const OBSERVE_TIMEOUT = Duration.seconds(60);
const REPORT_TIMEOUT = Duration.seconds(30);
const AZ_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d[a-z]$/;
const BASE_URL = /^https?:\/\/[^/\s]+$/;

/**
 * Runs one game-day scenario against this region as a Step Functions state machine: preflight
 * (steady state), inject (the scenario's chaos function), observe (target health, alarms and
 * client reads until detection or timeout), restore, verify recovery, and a report scored against
 * the scenario's budget (lib/gameday), stored in S3 and measured in CloudWatch. Any failure after
 * the inject still runs the restore, and an execution that ends without reaching it (stopped,
 * timed out, an uncatchable error) is restored by an EventBridge rule.
 */
export class GameDayOrchestrator extends Construct {
  public readonly stateMachine: StateMachine;
  public readonly reportBucket: Bucket;
  /** Preflight, observe and verify. */
  public readonly observeFunction: ProjectFunction;
  public readonly reportFunction: ProjectFunction;
  /** The settings the budgets derive from. */
  public readonly settings: DeployedSettings;
  /** Each scenario's budget, as deployed. */
  public readonly budgets: Readonly<Record<ScenarioName, Budget>>;
  /** Invokes restore when an execution ends stopped, timed out or failed. */
  public readonly restoreOnAbnormalEnd: Rule;
  /** Starts and observes az-outage's zonal shift; absent without `zonalShiftLoadBalancerArn`. */
  public readonly zonalShiftFunction?: ProjectFunction;

  constructor(scope: Construct, id: string, props: GameDayOrchestratorProps) {
    super(scope, id);
    const settings: DeployedSettings = {
      albIntervalSeconds: props.albIntervalSeconds ?? 5,
      albHealthyThreshold: props.albHealthyThreshold ?? 2,
      albUnhealthyThreshold: props.albUnhealthyThreshold ?? 3,
      route53IntervalSeconds: ROUTE53_REQUEST_INTERVAL_SECONDS,
      route53FailureThreshold: props.route53FailureThreshold ?? 3,
      taskStartSeconds: props.taskStartSeconds ?? RUNTIME_DEFAULTS.taskStartSeconds,
      faultPollSeconds: props.faultPollSeconds ?? RUNTIME_DEFAULTS.faultPollSeconds,
      selfEjectionSeconds: props.selfEjectionSeconds ?? RUNTIME_DEFAULTS.selfEjectionSeconds,
    };
    const maxFaultDurationMinutes = props.maxFaultDurationMinutes ?? 30;
    const pollInterval = props.pollInterval ?? Duration.seconds(5);
    const hold = props.hold ?? Duration.seconds(30);
    const requestsPerPoll = props.requestsPerPoll ?? 15;
    const retentionDays = props.reportRetentionDays ?? 365;
    validateProps(props, {
      settings,
      maxFaultDurationMinutes,
      pollInterval,
      hold,
      requestsPerPoll,
      retentionDays,
    });
    this.settings = settings;
    this.budgets = Object.fromEntries(
      SCENARIO_NAMES.map((n) => [n, SCENARIOS[n].budget(settings)]),
    ) as Record<ScenarioName, Budget>;

    const stack = Stack.of(this);
    const logRetention = props.logRetention ?? RetentionDays.ONE_MONTH;
    const namespace = props.metricsNamespace ?? 'GameDay';

    this.reportBucket = new Bucket(this, 'Reports', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        {
          expiration: Duration.days(retentionDays),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      serverAccessLogsBucket: props.serverAccessLogsBucket,
      serverAccessLogsPrefix: props.serverAccessLogsBucket ? 'gameday-reports/' : undefined,
      // Reports are a record of runs in this stack: `cdk destroy` takes them with it.
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });
    if (!props.serverAccessLogsBucket) {
      Validations.of(this.reportBucket).acknowledge({
        id: 'AwsSolutions-S1',
        reason:
          'Only the report function writes here (one object per run, logged with its key); ' +
          'pass serverAccessLogsBucket to log reads too',
      });
    }

    const alarmArn = (name: string) =>
      stack.formatArn({
        service: 'cloudwatch',
        resource: 'alarm',
        resourceName: name,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    const watched = (props.watchedAlarmNames ?? []).filter(
      (n) => n !== props.regionImpairedAlarm.alarmName,
    );

    this.observeFunction = this.function('Observe', 'gameday-observe', OBSERVE_TIMEOUT, {
      logRetention,
      namespace,
      statements: [
        new PolicyStatement({
          actions: ['cloudwatch:DescribeAlarms'],
          resources: [props.regionImpairedAlarm.alarmArn, ...watched.map(alarmArn)],
        }),
        new PolicyStatement({
          actions: ['dynamodb:GetItem'],
          resources: [props.chaos.stateTable.tableArn],
        }),
      ],
      environment: {
        DEPLOYED_SETTINGS: JSON.stringify(settings),
        REGION_IMPAIRED_ALARM: props.regionImpairedAlarm.alarmName,
        WATCHED_ALARMS: stack.toJsonString(watched),
        STATE_TABLE: props.chaos.stateTable.tableName,
        SERVICE_ARN: props.service.serviceArn,
        REGION_ENDPOINT: props.regionEndpoint,
        ...(props.globalEndpoint ? { GLOBAL_ENDPOINT: props.globalEndpoint } : {}),
        AVAILABILITY_ZONES: stack.toJsonString(props.availabilityZones),
        MAX_FAULT_DURATION_MINUTES: String(maxFaultDurationMinutes),
        HOLD_SECONDS: String(hold.toSeconds()),
        REQUESTS_PER_POLL: String(requestsPerPoll),
      },
    });

    const reportObjects = this.reportBucket.arnForObjects('reports/*');
    this.reportFunction = this.function('Report', 'gameday-reporter', REPORT_TIMEOUT, {
      logRetention,
      namespace,
      statements: [new PolicyStatement({ actions: ['s3:PutObject'], resources: [reportObjects] })],
      environment: {
        DEPLOYED_SETTINGS: JSON.stringify(settings),
        REPORT_BUCKET: this.reportBucket.bucketName,
      },
    });
    Validations.of(this.reportFunction.role ?? this).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagResource(stack.resolve(reportObjects))}]`,
      reason: 'Each run writes its own report object, named at run time, under reports/ only',
    });

    const functions = props.chaos.functions;
    if (props.zonalShiftLoadBalancerArn !== undefined) {
      this.zonalShiftFunction = this.zonalShiftMitigation(props, {
        logRetention,
        namespace,
        maxFaultDurationMinutes,
        requestsPerPoll,
        hold,
        pollInterval,
      });
    }
    const logGroup = new LogGroup(this, 'StateMachineLogs', {
      retention: logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineType: StateMachineType.STANDARD,
      comment: `Game day in ${stack.region}: one scenario, preflight to scored report`,
      definitionBody: DefinitionBody.fromChainable(
        // States in their own scope: their ids are the state names the CLI follows.
        gameDayDefinition(new Construct(this, 'Steps'), {
          injectFunctions: {
            'stop-tasks': functions['stop-tasks'],
            'az-outage': functions['az-outage'],
            'empty-responses': functions['empty-responses'],
            'region-outage': functions['region-outage'],
            'cache-outage': functions['cache-outage'],
            latency: functions.latency,
          },
          restoreFunction: functions.restore,
          canaryFunction: functions.canary,
          observeFunction: this.observeFunction,
          reportFunction: this.reportFunction,
          targetGroupArns: props.targetGroups.map((g) => g.targetGroupArn),
          pollInterval,
          zonalShiftFunction: this.zonalShiftFunction,
        }),
      ),
      // No execution timeout: it would end a run without its restore. Every loop ends by the
      // observe function's clock, and every fault expires by itself (maxFaultDurationMinutes).
      logs: { destination: logGroup, level: LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
    });
    // Every exit restores: an execution stopped, timed out or failed with an error no catch can
    // take (States.DataLimitExceeded, States.Runtime, the history limit) never reaches Restore, so
    // its end invokes restore with the execution's name, which the preflight holds to be the
    // experiment id. Restore is idempotent: after a run that restored, it finds nothing to do.
    this.restoreOnAbnormalEnd = new Rule(this, 'RestoreOnAbnormalEnd', {
      description:
        'Restores the experiment of a game-day execution that was stopped, timed out or failed',
      eventPattern: abnormalEndPattern([this.stateMachine.stateMachineArn]),
      targets: [
        new LambdaFunctionTarget(functions.restore, {
          event: RuleTargetInput.fromObject({
            experimentId: EventField.fromPath('$.detail.name'),
            dryRun: false,
          }),
          retryAttempts: 4,
        }),
      ],
    });
    this.acknowledgeStateMachineRole([
      ...Object.values(functions),
      this.observeFunction,
      this.reportFunction,
      ...(this.zonalShiftFunction ? [this.zonalShiftFunction] : []),
    ]);

    new CfnOutput(this, 'StateMachineArn', {
      description: 'Runs one game-day scenario: npm run gameday -- <scenario>',
      value: this.stateMachine.stateMachineArn,
    }).overrideLogicalId(GAMEDAY_OUTPUTS.stateMachineArn);
    new CfnOutput(this, 'ReportBucketName', {
      description: 'Where game-day reports are stored (reports/<scenario>/<experiment id>.json)',
      value: this.reportBucket.bucketName,
    }).overrideLogicalId(GAMEDAY_OUTPUTS.reportBucket);
  }

  /**
   * az-outage's mitigation (lambda/zonal-shift) and what restore needs to end it. ARC scopes Start,
   * Cancel and GetManagedResource to one load balancer by the `arc-zonal-shift:ResourceIdentifier`
   * condition key (AWS's documented way); ListZonalShifts and ec2:DescribeAvailabilityZones take
   * no resource.
   */
  private zonalShiftMitigation(
    props: GameDayOrchestratorProps,
    options: {
      logRetention: RetentionDays;
      namespace: string;
      maxFaultDurationMinutes: number;
      requestsPerPoll: number;
      hold: Duration;
      pollInterval: Duration;
    },
  ): ProjectFunction {
    const albArn = props.zonalShiftLoadBalancerArn as string;
    const onTheLoadBalancer = (actions: string[]) =>
      new PolicyStatement({
        actions,
        resources: ['*'],
        conditions: { StringEquals: { 'arc-zonal-shift:ResourceIdentifier': albArn } },
      });
    const list = new PolicyStatement({
      actions: ['arc-zonal-shift:ListZonalShifts'],
      resources: ['*'],
    });
    const holdPolls = Math.ceil(options.hold.toSeconds() / options.pollInterval.toSeconds());
    const fn = this.function('ZonalShift', 'zonal-shift', Duration.seconds(60), {
      logRetention: options.logRetention,
      namespace: options.namespace,
      statements: [
        onTheLoadBalancer([
          'arc-zonal-shift:StartZonalShift',
          'arc-zonal-shift:CancelZonalShift',
          'arc-zonal-shift:GetManagedResource',
        ]),
        list,
        new PolicyStatement({ actions: ['ec2:DescribeAvailabilityZones'], resources: ['*'] }),
        new PolicyStatement({
          actions: ['dynamodb:GetItem'],
          resources: [props.chaos.stateTable.tableArn],
        }),
      ],
      environment: {
        ZONAL_SHIFT_RESOURCE: albArn,
        STATE_TABLE: props.chaos.stateTable.tableName,
        SERVICE_ARN: props.service.serviceArn,
        REGION_ENDPOINT: props.regionEndpoint,
        REQUESTS_PER_POLL: String(options.requestsPerPoll),
        HOLD_POLLS: String(holdPolls),
        SHIFT_TIMEOUT_SECONDS: String(props.zonalShiftTimeoutSeconds ?? 300),
        MAX_FAULT_DURATION_MINUTES: String(options.maxFaultDurationMinutes),
      },
    });
    // Restore ends the shift on every exit (lambda/restore).
    const restore = props.chaos.functions.restore;
    restore.addEnvironment('ZONAL_SHIFT_RESOURCE', albArn);
    restore.addToRolePolicy(onTheLoadBalancer(['arc-zonal-shift:CancelZonalShift']));
    restore.addToRolePolicy(list);
    return fn;
  }

  /** A game-day function with its own role (no managed policy) and log group, like the chaos functions. */
  private function(
    id: string,
    folder: string,
    timeout: Duration,
    options: {
      logRetention: RetentionDays;
      namespace: string;
      statements: PolicyStatement[];
      environment: Record<string, string>;
    },
  ): ProjectFunction {
    const stack = Stack.of(this);
    return ProjectFunction.withOwnRole(this, id, {
      entry: path.join(LAMBDA_ROOT, folder, 'index.ts'),
      memorySize: 256,
      timeout,
      statements: options.statements,
      roleDescription: `game day ${folder} in ${stack.region}`,
      logRetention: options.logRetention,
      description: `Game day: ${folder.replace('gameday-', '')} (${stack.region})`,
      environment: {
        POWERTOOLS_SERVICE_NAME: folder,
        POWERTOOLS_METRICS_NAMESPACE: options.namespace,
        ...options.environment,
      },
    });
  }

  /** The wildcards CDK gives the state machine role, each for a reason AWS imposes. */
  private acknowledgeStateMachineRole(invoked: readonly ProjectFunction[]): void {
    const stack = Stack.of(this);
    const role = this.stateMachine.role;
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'elasticloadbalancing:DescribeTargetHealth, X-Ray tracing and CloudWatch Logs delivery ' +
        'support no resource-level permission',
    });
    for (const fn of invoked) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagResource(stack.resolve(fn.functionArn))}:*]`,
        reason:
          'The Step Functions Lambda integration grants invoke on the function and its versions; ' +
          'the state machine invokes only $LATEST',
      });
    }
  }
}

interface Resolved {
  readonly settings: DeployedSettings;
  readonly maxFaultDurationMinutes: number;
  readonly pollInterval: Duration;
  readonly hold: Duration;
  readonly requestsPerPoll: number;
  readonly retentionDays: number;
}

function validateProps(props: GameDayOrchestratorProps, resolved: Resolved): void {
  const problems: string[] = [];
  const known = (value: unknown) => !Token.isUnresolved(value);
  const integerIn = (name: string, value: number, min: number, max: number, unit = '') => {
    if (known(value) && !(Number.isInteger(value) && value >= min && value <= max)) {
      problems.push(`${name} must be an integer from ${min} to ${max}${unit}, got ${value}`);
    }
  };
  const s = resolved.settings;
  integerIn('albIntervalSeconds', s.albIntervalSeconds, 5, 300, ' (seconds)');
  integerIn('albHealthyThreshold', s.albHealthyThreshold, 2, 10);
  integerIn('albUnhealthyThreshold', s.albUnhealthyThreshold, 2, 10);
  integerIn('route53FailureThreshold', s.route53FailureThreshold, 1, 10);
  integerIn('taskStartSeconds', s.taskStartSeconds, 1, 900, ' (seconds)');
  integerIn('faultPollSeconds', s.faultPollSeconds, 1, 300, ' (seconds)');
  integerIn('selfEjectionSeconds', s.selfEjectionSeconds, 1, 600, ' (seconds)');
  integerIn('maxFaultDurationMinutes', resolved.maxFaultDurationMinutes, 1, 720, ' (minutes)');
  integerIn('requestsPerPoll', resolved.requestsPerPoll, 1, 100);
  integerIn('reportRetentionDays', resolved.retentionDays, 1, 3650, ' (days)');
  if (props.zonalShiftTimeoutSeconds !== undefined) {
    integerIn('zonalShiftTimeoutSeconds', props.zonalShiftTimeoutSeconds, 30, 3600, ' (seconds)');
  }
  const alb = props.zonalShiftLoadBalancerArn;
  if (
    alb !== undefined &&
    known(alb) &&
    !/^arn:[\w-]+:elasticloadbalancing:[^:]+:\d{12}:loadbalancer\/app\//.test(alb)
  ) {
    problems.push(
      `zonalShiftLoadBalancerArn must be an Application Load Balancer ARN (…:loadbalancer/app/…), got ${JSON.stringify(alb)}`,
    );
  }
  const poll = resolved.pollInterval.toMilliseconds() / 1000;
  if (!(poll >= 1 && poll <= 60)) {
    problems.push(`pollInterval must be 1-60 seconds, got ${poll}`);
  }
  const hold = resolved.hold.toMilliseconds() / 1000;
  if (!(hold >= 0 && hold <= 600)) problems.push(`hold must be 0-600 seconds, got ${hold}`);

  if (props.targetGroups.length === 0) {
    problems.push(
      "targetGroups must list the service's target groups (both, with canary deployments), got none",
    );
  } else if (new Set(props.targetGroups).size !== props.targetGroups.length) {
    problems.push('targetGroups must list each target group once, got one twice');
  }
  if (props.availabilityZones.length === 0) {
    problems.push("availabilityZones must list the region's AZs, got none");
  }
  for (const az of props.availabilityZones) {
    if (known(az) && !AZ_PATTERN.test(az)) {
      problems.push(
        `availabilityZones must hold AZ names such as us-east-1a, got ${JSON.stringify(az)}`,
      );
    }
  }
  for (const [name, url] of [
    ['regionEndpoint', props.regionEndpoint],
    ['globalEndpoint', props.globalEndpoint],
  ] as const) {
    if (url !== undefined && known(url) && !BASE_URL.test(url)) {
      problems.push(
        `${name} must be a base URL without a path, such as https://api.example.com, got ${JSON.stringify(url)}`,
      );
    }
  }

  if (problems.length > 0) {
    throw new Error(
      `GameDayOrchestrator: ${problems.length} invalid prop(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
  }
}
