import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { EventField, Rule, RuleTargetInput } from 'aws-cdk-lib/aws-events';
import { SfnStateMachine } from 'aws-cdk-lib/aws-events-targets';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  Choice,
  Condition,
  DefinitionBody,
  Errors,
  JsonPath,
  LogLevel,
  Map as MapState,
  Pass,
  StateMachine,
  StateMachineType,
  Succeed,
} from 'aws-cdk-lib/aws-stepfunctions';
import { CallAwsService } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';

import { abnormalEndPattern } from './abnormal-end';
import { nagResource } from './nag-finding';

/** The tag each guarded network experiment carries: the guard execution's name. */
export const GUARD_EXECUTION_TAG = 'GuardExecution';
/** What StopExperiment answers for an experiment that is no longer running. */
export const ENDED_ERRORS = ['Fis.ConflictException', 'Fis.ResourceNotFoundException'];

export interface StopOnExitProps {
  /** The guard state machines whose abnormal ends stop their experiments. */
  readonly guards: readonly StateMachine[];
  /**
   * How long the state machine's logs are kept.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
}

/**
 * The exits a guard's definition cannot catch still stop its experiment: a guard execution that
 * ends ABORTED, TIMED_OUT or FAILED fires the rule `StopOnAbnormalEnd`, which starts this state
 * machine with the execution's name. It lists the account's FIS experiments page by page and
 * stops each pending, initiating or running one tagged `GuardExecution=<that name>`.
 */
export class StopOnExit extends Construct {
  public readonly stateMachine: StateMachine;
  /** The EventBridge rule on the guards' abnormal ends. */
  public readonly rule: Rule;

  constructor(scope: Construct, id: string, props: StopOnExitProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const steps = new Construct(this, 'Steps');
    const experiments = stack.formatArn({
      service: 'fis',
      resource: 'experiment',
      resourceName: '*',
    });
    const list = (id: string, nextToken?: string) =>
      new CallAwsService(steps, id, {
        service: 'fis',
        action: 'listExperiments',
        iamAction: 'fis:ListExperiments',
        iamResources: ['*'],
        parameters: {
          MaxResults: 100,
          ...(nextToken ? { NextToken: JsonPath.stringAt(nextToken) } : {}),
        },
        resultPath: '$.page',
      });
    const first = list('List experiments');
    const more = list('List more', '$.page.NextToken');
    const stop = new CallAwsService(steps, 'Stop experiment', {
      service: 'fis',
      action: 'stopExperiment',
      iamAction: 'fis:StopExperiment',
      iamResources: [experiments],
      parameters: { Id: JsonPath.stringAt('$.experiment.Id') },
      resultPath: JsonPath.DISCARD,
    });
    // It ended between the list and the stop: nothing left to stop, and nothing to retry.
    stop.addRetry({ errors: ENDED_ERRORS, maxAttempts: 0 });
    stop.addRetry({ errors: [Errors.ALL], maxAttempts: 3, interval: Duration.seconds(2) });
    stop.addCatch(new Pass(steps, 'Already ended'), {
      errors: ENDED_ERRORS,
      resultPath: '$.failure',
    });
    const skip = new Pass(steps, 'Not ours or not running');
    // Nested choices: a path is read only once it is known to be there.
    const running = new Choice(steps, 'Running?')
      .when(
        Condition.or(
          ...['pending', 'initiating', 'running'].map((s) =>
            Condition.stringEquals('$.experiment.State.Status', s),
          ),
        ),
        stop,
      )
      .otherwise(skip);
    const ours = new Choice(steps, 'Tagged?')
      .when(
        Condition.isPresent(`$.experiment.Tags.${GUARD_EXECUTION_TAG}`),
        new Choice(steps, 'This execution?')
          .when(
            Condition.stringEqualsJsonPath(
              `$.experiment.Tags.${GUARD_EXECUTION_TAG}`,
              '$.executionName',
            ),
            running,
          )
          .otherwise(skip),
      )
      .otherwise(skip);
    const each = new MapState(steps, 'Each experiment', {
      itemsPath: '$.page.Experiments',
      itemSelector: {
        'experiment.$': '$$.Map.Item.Value',
        'executionName.$': '$.executionName',
      },
      maxConcurrency: 5,
      resultPath: JsonPath.DISCARD,
    });
    each.itemProcessor(ours);
    const next = new Choice(steps, 'More?')
      .when(Condition.isPresent('$.page.NextToken'), more)
      .otherwise(new Succeed(steps, 'Done'));
    first.next(each);
    more.next(each);
    each.next(next);

    const machine = new StateMachine(this, 'StateMachine', {
      stateMachineType: StateMachineType.STANDARD,
      comment: `Stops the running FIS experiments tagged ${GUARD_EXECUTION_TAG}=<executionName>`,
      definitionBody: DefinitionBody.fromChainable(first),
      logs: {
        destination: new LogGroup(this, 'Logs', {
          retention: props.logRetention ?? RetentionDays.ONE_MONTH,
          removalPolicy: RemovalPolicy.DESTROY,
        }),
        level: LogLevel.ALL,
        includeExecutionData: true,
      },
      tracingEnabled: true,
    });
    Validations.of(machine.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'fis:ListExperiments, X-Ray tracing and CloudWatch Logs delivery support no resource-level permission',
    });
    Validations.of(machine.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagResource(stack.resolve(experiments))}]`,
      reason: 'The experiment to stop is found at run time (by its GuardExecution tag)',
    });
    this.rule = new Rule(this, 'StopOnAbnormalEnd', {
      description:
        'Stops the FIS experiment of a network fault guard execution that was stopped, timed out or failed',
      eventPattern: abnormalEndPattern(props.guards.map((g) => g.stateMachineArn)),
      targets: [
        new SfnStateMachine(machine, {
          input: RuleTargetInput.fromObject({
            executionName: EventField.fromPath('$.detail.name'),
          }),
          retryAttempts: 4,
        }),
      ],
    });
    this.stateMachine = machine;
  }
}
