import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { IAlarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { IBaseService, ICluster } from 'aws-cdk-lib/aws-ecs';
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
  JsonPath,
  LogLevel,
  Pass,
  Result,
  StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
} from 'aws-cdk-lib/aws-stepfunctions';
import { CallAwsService, LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';

import { nagResource } from './nag-finding';

export interface ChaosExperimentTemplatesProps {
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
}

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

  constructor(scope: Construct, id: string, props: ChaosExperimentTemplatesProps) {
    super(scope, id);
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
        'ecs:ListTasks, ssm:ListCommands/CancelCommand and the CloudWatch Logs delivery actions support no resource-level permission; ListTasks is held to this cluster by an ecs:cluster condition',
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
    this.guards = guards;
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
    options: { reservationMinutes: number; logRetention: RetentionDays },
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
      },
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
        start.next(new Succeed(scope, 'Started')),
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
}
