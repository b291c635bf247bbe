import * as path from 'node:path';

import { CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { FargateService, TaskDefinition } from 'aws-cdk-lib/aws-ecs';
import { Rule, RuleTargetInput } from 'aws-cdk-lib/aws-events';
import { LambdaFunction as LambdaFunctionTarget } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  Choice,
  Condition,
  DefinitionBody,
  Errors,
  Fail,
  LogLevel,
  StateMachine,
  Succeed,
  TaskInput,
  Timeout,
  Wait,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';

import { abnormalEndPattern } from '../chaos/abnormal-end';
import { nagResource } from '../chaos/nag-finding';
import { ProjectFunction } from '../lambda/project-function';

import { GAMEDAY_OUTPUTS } from './contract';

export interface BadDeployGameDayProps {
  /** The service the bad revision is deployed to (it must deploy through the deploy gate). */
  readonly service: FargateService;
  /** The service's task definition: the bad revision is a copy of the running one, so it passes these roles. */
  readonly taskDefinition: TaskDefinition;
  /** The container that serves the API; its environment gets REVISION_FAULTS. */
  readonly containerName: string;
  /**
   * Time between two reads of the deployment's state.
   * @default Duration.seconds(15)
   */
  readonly pollInterval?: Duration;
  /**
   * Longest a run may take before it is stopped (and restored by the rule).
   * @default Duration.minutes(30)
   */
  readonly timeout?: Duration;
  /**
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
}

/**
 * The AWS "bad deploy" game day (docs/gameday/bad-deploy.md): a state machine that stages a copy of
 * the running revision answering empty 200s, watches the deployment until the deploy gate has
 * refused it and ECS rolled back (or it completed: the gate failed), and restores the previous
 * revision on every exit. An execution that ends abnormally is restored by a rule that invokes the
 * function with no state: the bad revision's tags name the revision to go back to.
 */
export class BadDeployGameDay extends Construct {
  public readonly stateMachine: StateMachine;
  public readonly function: ProjectFunction;

  constructor(scope: Construct, id: string, props: BadDeployGameDayProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const problems: string[] = [];
    if (!/^[A-Za-z0-9_-]{1,255}$/.test(props.containerName)) {
      problems.push(
        `containerName must be a container name (A-Z, a-z, 0-9, _ -), got '${props.containerName}'`,
      );
    } else if (!props.taskDefinition.findContainer(props.containerName)) {
      problems.push(
        `containerName must name a container of the task definition, got '${props.containerName}'`,
      );
    }
    const pollSeconds = (props.pollInterval ?? Duration.seconds(15)).toSeconds();
    if (pollSeconds < 5 || pollSeconds > 300) {
      problems.push(`pollInterval must be 5-300 seconds, got ${pollSeconds}`);
    }
    if (problems.length > 0) throw new Error(`BadDeployGameDay: ${problems.join('; ')}`);

    const logGroup = new LogGroup(this, 'FunctionLogs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new Role(this, 'FunctionRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `game day bad-deploy in ${stack.region}`,
    });
    logGroup.grantWrite(role);
    const serviceArn = props.service.serviceArn;
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['ecs:DescribeServices', 'ecs:UpdateService'],
        resources: [serviceArn],
      }),
    );
    role.addToPrincipalPolicy(
      new PolicyStatement({
        // No resource-level permission for these three.
        actions: [
          'ecs:RegisterTaskDefinition',
          'ecs:DescribeTaskDefinition',
          'ecs:DeregisterTaskDefinition',
        ],
        resources: ['*'],
      }),
    );
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['ecs:TagResource'],
        resources: ['*'],
        conditions: { StringEquals: { 'ecs:CreateAction': 'RegisterTaskDefinition' } },
      }),
    );
    const passed = [props.taskDefinition.taskRole.roleArn];
    if (props.taskDefinition.executionRole) passed.push(props.taskDefinition.executionRole.roleArn);
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['iam:PassRole'],
        resources: passed,
        conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      }),
    );

    // Created the way the game-day functions are (see GameDayOrchestrator), in this one place.
    this.function = new ProjectFunction(this, 'Function', {
      entry: path.join(__dirname, '..', '..', '..', 'lambda', 'bad-deploy', 'index.ts'),
      memorySize: 256,
      timeout: Duration.seconds(60),
      role,
      logGroup,
      description: `Game day: bad-deploy (${stack.region})`,
      environment: {
        POWERTOOLS_SERVICE_NAME: 'bad-deploy',
        CLUSTER_ARN: props.service.cluster.clusterArn,
        SERVICE_ARN: serviceArn,
        CONTAINER_NAME: props.containerName,
      },
    });

    const invoke = (stateId: string, payload: Record<string, unknown>, resultPath: string) =>
      new LambdaInvoke(this, stateId, {
        lambdaFunction: this.function,
        payload: TaskInput.fromObject(payload),
        payloadResponseOnly: true,
        resultPath,
        taskTimeout: Timeout.duration(Duration.seconds(90)),
      });
    const staged = {
      'previousTaskDefinition.$': '$.staged.previousTaskDefinition',
      'badTaskDefinition.$': '$.staged.badTaskDefinition',
    };

    const refused = new Succeed(this, 'Refused by the gate');
    const gateFailed = new Fail(this, 'Gate did not refuse', {
      error: 'BadDeploy.HypothesisRejected',
      cause: 'the bad revision was not refused and rolled back; it was restored',
    });
    const restoreFailed = new Fail(this, 'Restore failed', {
      error: 'BadDeploy.RestoreFailed',
      cause: 'the previous revision could not be put back; see the bad-deploy function logs',
    });
    const restore = invoke('Restore', { action: 'restore', ...staged }, '$.restore');
    restore.addRetry({ errors: [Errors.ALL], interval: Duration.seconds(5), maxAttempts: 4 });
    restore.addCatch(restoreFailed, { errors: [Errors.ALL], resultPath: '$.restoreFailure' });
    restore.next(
      new Choice(this, 'Outcome?')
        .when(
          Condition.and(
            Condition.isPresent('$.observation.outcome'),
            Condition.stringEquals('$.observation.outcome', 'refused'),
          ),
          refused,
        )
        .otherwise(gateFailed),
    );

    const observe = invoke('Observe', { action: 'observe', ...staged }, '$.observation');
    observe.addCatch(restore, { errors: [Errors.ALL], resultPath: '$.failure' });
    observe.next(
      new Choice(this, 'Settled?')
        .when(Condition.booleanEquals('$.observation.done', true), restore)
        .otherwise(
          new Wait(this, 'Wait', { time: WaitTime.duration(Duration.seconds(pollSeconds)) }).next(
            observe,
          ),
        ),
    );

    // A stage that failed part way has no state to restore with: restore by the revision's tags.
    const restoreByTags = invoke('Restore by tags', { action: 'restore' }, '$.restore');
    restoreByTags.addRetry({ errors: [Errors.ALL], interval: Duration.seconds(5), maxAttempts: 4 });
    restoreByTags.addCatch(restoreFailed, { errors: [Errors.ALL], resultPath: '$.restoreFailure' });
    restoreByTags.next(
      new Fail(this, 'Stage failed', {
        error: 'BadDeploy.StageFailed',
        cause: 'the bad revision could not be staged; anything staged was restored',
      }),
    );
    const stage = invoke('Stage', { action: 'stage' }, '$.staged');
    stage.addCatch(restoreByTags, { errors: [Errors.ALL], resultPath: '$.failure' });
    stage.next(
      new Choice(this, 'Staged?')
        .when(Condition.booleanEquals('$.staged.ok', true), observe)
        .otherwise(restoreByTags),
    );

    const machineLogs = new LogGroup(this, 'StateMachineLogs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      definitionBody: DefinitionBody.fromChainable(stage),
      timeout: props.timeout ?? Duration.minutes(30),
      tracingEnabled: true,
      logs: { destination: machineLogs, level: LogLevel.ALL, includeExecutionData: false },
    });

    // Restore on every exit the state machine cannot catch: stopped, timed out, failed.
    new Rule(this, 'RestoreOnAbnormalEnd', {
      description: 'Restores the previous revision when a bad-deploy game day ends abnormally',
      eventPattern: abnormalEndPattern([this.stateMachine.stateMachineArn]),
      targets: [
        new LambdaFunctionTarget(this.function, {
          event: RuleTargetInput.fromObject({ action: 'restore' }),
          retryAttempts: 4,
        }),
      ],
    });

    new CfnOutput(this, 'StateMachineArn', {
      description: 'Runs the bad-deploy game day: docs/gameday/bad-deploy.md',
      value: this.stateMachine.stateMachineArn,
    }).overrideLogicalId(GAMEDAY_OUTPUTS.badDeployStateMachineArn);
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecs:RegisterTaskDefinition, DescribeTaskDefinition, DeregisterTaskDefinition, TagResource ' +
        '(limited to RegisterTaskDefinition by ecs:CreateAction) and X-Ray support no resource-level permission',
    });
    Validations.of(this.stateMachine.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray tracing and CloudWatch Logs delivery support no resource-level permission',
    });
    Validations.of(this.stateMachine.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagResource(stack.resolve(this.function.functionArn))}:*]`,
      reason:
        'The Step Functions Lambda integration grants invoke on the function and its versions; ' +
        'the state machine invokes only $LATEST',
    });
  }
}
