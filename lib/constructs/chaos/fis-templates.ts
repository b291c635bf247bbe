import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { IAlarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { FargateTaskDefinition, IBaseService, ICluster } from 'aws-cdk-lib/aws-ecs';
import { CfnExperimentTemplate } from 'aws-cdk-lib/aws-fis';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  Choice,
  Condition,
  DefinitionBody,
  Errors,
  Fail,
  IChainable,
  JsonPath,
  LogLevel,
  Pass,
  Result,
  StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
  Wait,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import { CallAwsService, LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';

import { FaultInjectionAgent } from './ecs-fault-injection';
import { nagResource } from './nag-finding';
import {
  grantNetworkFaults,
  NETWORK_FAULTS,
  NetworkFaultName,
  NetworkFaultProps,
  networkFaultParameters,
  networkFaultSummary,
  NetworkSettings,
  networkSettings,
} from './network-faults';
import { ENDED_ERRORS, GUARD_EXECUTION_TAG, StopOnExit } from './stop-on-exit';

export interface ChaosExperimentTemplatesProps extends NetworkFaultProps {
  /** The cluster whose tasks the experiments may touch (IAM holds them to it). */
  readonly cluster: ICluster;
  /** The service whose tasks the experiments pick from (the targets name it). */
  readonly service: IBaseService;
  /**
   * The guarded stop-tasks function: each guarded run reserves through it (preflight, lease,
   * blast-radius cap) before FIS starts.
   */
  readonly stopTasksFunction: IFunction;
  /** The stop condition: an experiment stops as soon as this alarm is in ALARM. */
  readonly regionImpairedAlarm: IAlarm;
  /** The chaos functions' cap on a fault's duration (minutes): the reservation lasts at most this. */
  readonly maxFaultDurationMinutes: number;
  /**
   * Add the CPU-stress template. Needs the SSM agent sidecar in the task definition.
   * @default false
   */
  readonly taskCpuStress?: boolean;
  /**
   * How long the CPU stress lasts.
   * @default Duration.minutes(5)
   */
  readonly cpuStressDuration?: Duration;
  /**
   * How long the experiments' and the guard state machines' logs are kept.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
  /**
   * The service's task definition. With it, the ECS network fault templates are added (latency,
   * packet loss, a black-holed port: `aws:ecs:task-network-*` with the ECS fault injection
   * endpoints), and the SSM agent sidecar FIS needs is added to it. It must already opt in to
   * fault injection: awsvpc, Linux, `enableFaultInjection`, `pidMode: task` (docs/chaos.md).
   * @default - no network fault templates and no sidecar
   */
  readonly taskDefinition?: FargateTaskDefinition;
}

/** How often a network guard reads its experiment's state. */
const WATCH_INTERVAL = Duration.seconds(30);

/** Tasks each experiment acts on: FIS picks them itself, so the guard reserves this many. */
export const FIS_TASK_COUNT = 1;
/** How long a stop-tasks reservation holds the lease: a replacement's start, with margin. */
const STOP_TASKS_RESERVATION_MINUTES = 10;

/**
 * AWS FIS experiment templates, the AWS-native alternative to the chaos functions, reachable
 * through a guarded path only: each template has a state machine that reserves through the
 * stop-tasks function (preflight, lease, blast-radius cap; `fisExperiment: true` stops nothing)
 * and starts the experiment only once the reservation is applied. A run is a dry run unless its
 * input says `"dryRun": false`. The targets are `COUNT(1)` of this cluster's and service's tasks,
 * each experiment logs to CloudWatch Logs, and the region-impaired alarm stops it.
 *
 * What FIS alone cannot guarantee (docs/chaos.md): anyone allowed fis:StartExperiment can start a
 * template directly, past the lease and the cap; FIS picks its tasks itself, healthy or not.
 */
export class ChaosExperimentTemplates extends Construct {
  /** The role FIS assumes to run the experiments. */
  public readonly role: Role;
  public readonly stopTasks: CfnExperimentTemplate;
  /** Present only with `taskCpuStress`. */
  public readonly cpuStress?: CfnExperimentTemplate;
  /** Where every experiment logs its actions and targets. */
  public readonly logGroup: LogGroup;
  /** The guarded path to each template, by template: reserve, then start. */
  public readonly guards: Readonly<Record<string, StateMachine>>;
  /** The ECS network fault templates, present only with `taskDefinition`. */
  public readonly networkFaults?: Readonly<Record<NetworkFaultName, CfnExperimentTemplate>>;
  /** The SSM agent sidecar those templates need, present only with `taskDefinition`. */
  public readonly agent?: FaultInjectionAgent;
  /**
   * Stops the network experiment of a guard execution that ended ABORTED, TIMED_OUT or FAILED;
   * present only with `taskDefinition`.
   */
  public readonly stopOnExit?: StopOnExit;

  constructor(scope: Construct, id: string, props: ChaosExperimentTemplatesProps) {
    super(scope, id);
    const network = networkSettings(props);
    const stack = Stack.of(this);
    const taskArns = stack.formatArn({
      service: 'ecs',
      resource: 'task',
      resourceName: `${props.cluster.clusterName}/*`,
    });
    const inCluster = { ArnEquals: { 'ecs:cluster': props.cluster.clusterArn } };

    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('fis.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': stack.account },
      }),
      description: `FIS chaos experiments on ${props.cluster.clusterName}`,
    });
    this.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['ecs:DescribeTasks', 'ecs:StopTask'],
        resources: [taskArns],
        conditions: inCluster,
      }),
    );
    this.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['ecs:ListTasks'], resources: ['*'], conditions: inCluster }),
    );
    // FIS reads the cluster before it resolves task targets (AWS's own ECS policy for FIS grants it).
    this.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['ecs:DescribeClusters'],
        resources: [props.cluster.clusterArn],
      }),
    );
    // FIS delivers the experiment log through CloudWatch Logs' log delivery.
    this.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: [
          'logs:CreateLogDelivery',
          'logs:PutResourcePolicy',
          'logs:DescribeResourcePolicies',
          'logs:DescribeLogGroups',
        ],
        resources: ['*'],
      }),
    );
    const logRetention = props.logRetention ?? RetentionDays.ONE_MONTH;
    this.logGroup = new LogGroup(this, 'ExperimentLogs', {
      retention: logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const logConfiguration = {
      logSchemaVersion: 2,
      cloudWatchLogsConfiguration: { LogGroupArn: this.logGroup.logGroupArn },
    };

    const stopConditions = [
      { source: 'aws:cloudwatch:alarm', value: props.regionImpairedAlarm.alarmArn },
    ];
    // This service's tasks only, FIS_TASK_COUNT of them: the guard reserved that many.
    const tasks = {
      resourceType: 'aws:ecs:task',
      parameters: {
        cluster: props.cluster.clusterName,
        service: props.service.serviceName,
      },
      selectionMode: `COUNT(${FIS_TASK_COUNT})`,
    };

    this.stopTasks = new CfnExperimentTemplate(this, 'StopTasks', {
      description: `Stop ${FIS_TASK_COUNT} task of the service; stops if the region is impaired. Start it through its guard state machine.`,
      roleArn: this.role.roleArn,
      stopConditions,
      logConfiguration,
      targets: { Tasks: tasks },
      actions: { StopTasks: { actionId: 'aws:ecs:stop-task', targets: { Tasks: 'Tasks' } } },
      tags: { Name: `${stack.stackName}-stop-tasks` },
    });

    if (props.taskCpuStress) {
      const minutes = (props.cpuStressDuration ?? Duration.minutes(5)).toMinutes();
      this.role.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ['ssm:SendCommand'],
          resources: [
            stack.formatArn({
              service: 'ssm',
              account: '',
              resource: 'document',
              resourceName: 'AWSFIS-Run-CPU-Stress',
            }),
            stack.formatArn({ service: 'ssm', resource: 'managed-instance', resourceName: '*' }),
          ],
        }),
      );
      this.role.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ['ssm:ListCommands', 'ssm:CancelCommand'],
          resources: ['*'],
        }),
      );
      this.cpuStress = new CfnExperimentTemplate(this, 'CpuStress', {
        description: `Stress the CPU of ${FIS_TASK_COUNT} task of the service for ${minutes} min; stops if the region is impaired. Start it through its guard state machine.`,
        roleArn: this.role.roleArn,
        stopConditions,
        logConfiguration,
        targets: { Tasks: tasks },
        actions: {
          CpuStress: {
            actionId: 'aws:ecs:task-cpu-stress',
            parameters: { duration: `PT${minutes}M`, percent: '80', installDependencies: 'true' },
            targets: { Tasks: 'Tasks' },
          },
        },
        tags: { Name: `${stack.stackName}-cpu-stress` },
      });
      const instances = nagResource(
        stack.resolve(
          stack.formatArn({ service: 'ssm', resource: 'managed-instance', resourceName: '*' }),
        ),
      );
      Validations.of(this.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${instances}]`,
        reason:
          'FIS runs its CPU-stress document on the SSM managed instances the task sidecars register, whose ids are only known at run time',
      });
    }

    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagResource(stack.resolve(taskArns))}]`,
      reason:
        'FIS stops tasks whose ids are only known at run time; the ARN is fixed to this cluster and an ecs:cluster condition repeats the scope',
    });
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecs:ListTasks, ssm:ListCommands/CancelCommand, ec2:DescribeInstances/DescribeSubnets, tag:GetResources and the CloudWatch Logs delivery actions support no resource-level permission; ListTasks is held to this cluster by an ecs:cluster condition',
    });

    const guards: Record<string, StateMachine> = {
      'stop-tasks': this.guard('StopTasksGuard', this.stopTasks, props, {
        reservationMinutes: Math.min(props.maxFaultDurationMinutes, STOP_TASKS_RESERVATION_MINUTES),
        logRetention,
      }),
    };
    if (this.cpuStress) {
      const minutes = (props.cpuStressDuration ?? Duration.minutes(5)).toMinutes();
      guards['cpu-stress'] = this.guard('CpuStressGuard', this.cpuStress, props, {
        reservationMinutes: Math.min(props.maxFaultDurationMinutes, minutes + 1),
        logRetention,
      });
    }
    if (props.taskDefinition && network) {
      this.agent = new FaultInjectionAgent(this, 'Agent', {
        taskDefinition: props.taskDefinition,
        logGroup: new LogGroup(this, 'AgentLogs', {
          retention: logRetention,
          removalPolicy: RemovalPolicy.DESTROY,
        }),
      });
      const templates = this.addNetworkFaults(props, network, {
        stopConditions,
        logConfiguration,
        tasks,
        taskArns,
        logRetention,
      });
      this.networkFaults = templates;
      for (const [name, template] of Object.entries(templates) as [
        NetworkFaultName,
        CfnExperimentTemplate,
      ][]) {
        guards[name] = this.guard(`${NETWORK_FAULTS[name].id}Guard`, template, props, {
          reservationMinutes: network.durationMinutes + 1,
          logRetention,
          watchMinutes: network.durationMinutes,
        });
      }
      this.stopOnExit = new StopOnExit(this, 'StopOnExit', {
        guards: Object.keys(templates).map((name) => guards[name]),
        logRetention,
      });
    }
    this.guards = guards;
  }

  /**
   * The three network fault templates on this service's tasks, and the FIS role's permissions
   * for them.
   */
  private addNetworkFaults(
    props: ChaosExperimentTemplatesProps,
    network: NetworkSettings,
    shared: {
      stopConditions: CfnExperimentTemplate.ExperimentTemplateStopConditionProperty[];
      logConfiguration: CfnExperimentTemplate.ExperimentTemplateLogConfigurationProperty;
      tasks: CfnExperimentTemplate.ExperimentTemplateTargetProperty;
      taskArns: string;
      logRetention: RetentionDays;
    },
  ): Record<NetworkFaultName, CfnExperimentTemplate> {
    const stack = Stack.of(this);
    grantNetworkFaults(this.role, props.cluster, shared.taskArns);
    const parameters = networkFaultParameters(network);
    const what = networkFaultSummary(network);
    const templates = {} as Record<NetworkFaultName, CfnExperimentTemplate>;
    for (const name of Object.keys(NETWORK_FAULTS) as NetworkFaultName[]) {
      const fault = NETWORK_FAULTS[name];
      templates[name] = new CfnExperimentTemplate(this, fault.id, {
        description: `${what[name]} ${FIS_TASK_COUNT} task of the service for ${network.durationMinutes} min (ECS fault injection endpoints); stops if the region is impaired. Start it through its guard state machine.`,
        roleArn: this.role.roleArn,
        stopConditions: shared.stopConditions,
        logConfiguration: shared.logConfiguration,
        targets: { Tasks: shared.tasks },
        actions: {
          [fault.id]: {
            actionId: fault.actionId,
            parameters: parameters[name],
            targets: { Tasks: 'Tasks' },
          },
        },
        experimentOptions: {
          accountTargeting: 'single-account',
          emptyTargetResolutionMode: 'fail',
        },
        tags: { Name: `${stack.stackName}-${name}` },
      });
    }
    return templates;
  }

  /**
   * The only path to a template: Act? (dry run unless the input says `"dryRun": false`) ->
   * Reserve (the stop-tasks function with `fisExperiment: true`: preflight, lease, cap) ->
   * Reserved? -> Start experiment (its client token the execution name, so a retry starts one).
   */
  private guard(
    id: string,
    template: CfnExperimentTemplate,
    props: ChaosExperimentTemplatesProps,
    options: {
      reservationMinutes: number;
      logRetention: RetentionDays;
      /** Watch the experiment for this long and stop it on any error (network faults). */
      watchMinutes?: number;
    },
  ): StateMachine {
    const stack = Stack.of(this);
    const scope = new Construct(this, `${id}Steps`);
    const dry = new Pass(scope, 'Dry run', {
      result: Result.fromBoolean(true),
      resultPath: '$.dryRun',
    });
    const act = new Pass(scope, 'Act', {
      result: Result.fromBoolean(false),
      resultPath: '$.dryRun',
    });
    const reserve = new LambdaInvoke(scope, 'Reserve', {
      lambdaFunction: props.stopTasksFunction,
      payload: TaskInput.fromObject({
        experimentId: JsonPath.stringAt('$$.Execution.Name'),
        dryRun: JsonPath.objectAt('$.dryRun'),
        count: FIS_TASK_COUNT,
        durationMinutes: options.reservationMinutes,
        fisExperiment: true,
      }),
      payloadResponseOnly: true,
      resultPath: '$.reserve',
    });
    const refused = new Fail(scope, 'Refused', {
      error: 'Fis.Refused',
      cause: 'the stop-tasks guard refused (see its answer in the execution history)',
    });
    const start = new CallAwsService(scope, 'Start experiment', {
      service: 'fis',
      action: 'startExperiment',
      iamAction: 'fis:StartExperiment',
      iamResources: [
        stack.formatArn({
          service: 'fis',
          resource: 'experiment-template',
          resourceName: template.attrId,
        }),
        stack.formatArn({ service: 'fis', resource: 'experiment', resourceName: '*' }),
      ],
      parameters: {
        ExperimentTemplateId: template.attrId,
        ClientToken: JsonPath.stringAt('$$.Execution.Name'),
        // The tag StopOnExit finds the experiment by when this execution ends abnormally.
        ...(options.watchMinutes
          ? { Tags: { [GUARD_EXECUTION_TAG]: JsonPath.stringAt('$$.Execution.Name') } }
          : {}),
      },
      // Tagging at start needs fis:TagResource on the new experiment.
      additionalIamStatements: options.watchMinutes
        ? [
            new PolicyStatement({
              actions: ['fis:TagResource'],
              resources: [
                stack.formatArn({ service: 'fis', resource: 'experiment', resourceName: '*' }),
              ],
            }),
          ]
        : undefined,
      resultSelector: { 'id.$': '$.Experiment.Id', 'status.$': '$.Experiment.State.Status' },
      resultPath: '$.experiment',
    });
    start.addCatch(
      new Fail(scope, 'Start failed', {
        error: 'Fis.StartFailed',
        cause: 'FIS did not start; the reservation holds the lease until it expires',
      }),
      { errors: [Errors.ALL] },
    );
    // Nested choices: a path is read only once it is known to be there.
    const applied = new Choice(scope, 'Applied?')
      .when(
        Condition.or(
          Condition.stringEquals('$.reserve.result.status', 'applied'),
          Condition.stringEquals('$.reserve.result.status', 'already-applied'),
        ),
        start.next(options.watchMinutes ? this.watch(scope, stack) : new Succeed(scope, 'Started')),
      )
      .when(
        Condition.stringEquals('$.reserve.result.status', 'dry-run'),
        new Succeed(scope, 'Dry run done'),
      )
      .otherwise(refused);
    const reserved = new Choice(scope, 'Reserved?')
      .when(Condition.booleanEquals('$.reserve.ok', true), applied)
      .otherwise(refused);
    reserve.addCatch(refused, { errors: [Errors.ALL], resultPath: '$.failure' });
    const definition = new Choice(scope, 'Act?')
      .when(
        Condition.isBoolean('$.dryRun'),
        new Choice(scope, 'dryRun false?')
          .when(Condition.booleanEquals('$.dryRun', false), act)
          .otherwise(dry),
      )
      .otherwise(dry);
    act.next(reserve);
    dry.next(reserve);
    reserve.next(reserved);

    const logGroup = new LogGroup(this, `${id}Logs`, {
      retention: options.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const machine = new StateMachine(this, id, {
      stateMachineType: StateMachineType.STANDARD,
      comment: `The guarded path to the FIS template ${template.node.id}: reserve (lease, cap), then start`,
      definitionBody: DefinitionBody.fromChainable(definition),
      logs: { destination: logGroup, level: LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
      // A watching guard outlives its experiment by a margin; past it, StopOnExit stops the experiment.
      timeout: options.watchMinutes ? Duration.minutes(options.reservationMinutes + 10) : undefined,
    });
    Validations.of(machine.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray tracing and CloudWatch Logs delivery support no resource-level permission',
    });
    Validations.of(machine.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagResource(stack.resolve(props.stopTasksFunction.functionArn))}:*]`,
      reason:
        'The Step Functions Lambda integration grants invoke on the function and its versions; the guard invokes only $LATEST',
    });
    Validations.of(machine.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagResource(stack.resolve(stack.formatArn({ service: 'fis', resource: 'experiment', resourceName: '*' })))}]`,
      reason: 'StartExperiment creates an experiment whose id is only known once it starts',
    });
    return machine;
  }

  /**
   * After a network experiment starts: Wait -> Get experiment -> Ended? (completed: Completed;
   * stopped, failed, cancelled: a Fail naming it; otherwise wait again). An error reading it is
   * caught into Stop experiment, so the guard never leaves a fault running it cannot see.
   */
  private watch(scope: Construct, stack: Stack): IChainable {
    const experiments = stack.formatArn({
      service: 'fis',
      resource: 'experiment',
      resourceName: '*',
    });
    const wait = new Wait(scope, 'Wait', { time: WaitTime.duration(WATCH_INTERVAL) });
    const get = new CallAwsService(scope, 'Get experiment', {
      service: 'fis',
      action: 'getExperiment',
      iamAction: 'fis:GetExperiment',
      iamResources: [experiments],
      parameters: { Id: JsonPath.stringAt('$.experiment.id') },
      resultSelector: { 'status.$': '$.Experiment.State.Status' },
      resultPath: '$.experiment.state',
    });
    const stop = new CallAwsService(scope, 'Stop experiment', {
      service: 'fis',
      action: 'stopExperiment',
      iamAction: 'fis:StopExperiment',
      iamResources: [experiments],
      parameters: { Id: JsonPath.stringAt('$.experiment.id') },
      resultPath: '$.stopped',
    });
    const stopped = new Fail(scope, 'Stopped on error', {
      error: 'Fis.Stopped',
      cause: 'the guard could not follow the experiment, so it stopped it (or found it ended)',
    });
    stop.addRetry({ errors: ENDED_ERRORS, maxAttempts: 0 });
    stop.addRetry({ errors: [Errors.ALL], maxAttempts: 3, interval: Duration.seconds(2) });
    // No longer running: nothing is left to stop.
    stop.addCatch(stopped, { errors: ENDED_ERRORS, resultPath: '$.stopFailure' });
    stop.addCatch(
      new Fail(scope, 'Stop failed', {
        error: 'Fis.StopFailed',
        cause: 'StopExperiment failed; StopOnExit tries again when this execution ends',
      }),
      { errors: [Errors.ALL], resultPath: '$.stopFailure' },
    );
    stop.next(stopped);
    get.addCatch(stop, { errors: [Errors.ALL], resultPath: '$.failure' });
    const status = '$.experiment.state.status';
    wait.next(get);
    get.next(
      new Choice(scope, 'Ended?')
        .when(Condition.stringEquals(status, 'completed'), new Succeed(scope, 'Completed'))
        .when(
          Condition.stringEquals(status, 'stopped'),
          new Fail(scope, 'Experiment stopped', {
            error: 'Fis.ExperimentStopped',
            cause:
              'FIS stopped the experiment: a stop condition (region impaired) fired, or someone stopped it',
          }),
        )
        .when(
          Condition.or(
            Condition.stringEquals(status, 'failed'),
            Condition.stringEquals(status, 'cancelled'),
          ),
          new Fail(scope, 'Experiment failed', {
            error: 'Fis.ExperimentFailed',
            cause: 'FIS failed or cancelled the experiment (see its log group)',
          }),
        )
        .otherwise(wait),
    );
    return wait;
  }
}
