import { Duration, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';

import { BadDeployGameDay } from '../../lib/constructs/gameday/bad-deploy-game-day';
import { minimalRegion } from '../support/minimal-region';
import { nagErrors } from '../support/nag';

/** A minimal region (VPC, cluster, Fargate service with container `app`) and the game day. */
function region(options: { nag?: boolean; containerName?: string; poll?: Duration } = {}) {
  const { app, stack, service } = minimalRegion('eu-west-1');
  if (options.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  const gameDay = new BadDeployGameDay(stack, 'BadDeploy', {
    service,
    taskDefinition: service.taskDefinition,
    containerName: options.containerName ?? 'app',
    ...(options.poll ? { pollInterval: options.poll } : {}),
  });
  return { app, stack, service, gameDay };
}

test('the function gets the cluster, the service and the API container', () => {
  const { stack } = region();

  Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
    Description: 'Game day: bad-deploy (eu-west-1)',
    Environment: {
      Variables: Match.objectLike({
        CLUSTER_ARN: Match.anyValue(),
        SERVICE_ARN: { Ref: Match.stringLikeRegexp('Service') },
        CONTAINER_NAME: 'app',
      }),
    },
  });
});

test('least privilege: UpdateService on the service only, PassRole on the task roles only and to ECS tasks only', () => {
  const { stack } = region();
  const template = Template.fromStack(stack);
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { PolicyName: Match.stringLikeRegexp('BadDeployFunctionRole') },
  });
  const statements = Object.values(policies).flatMap(
    (policy) =>
      (policy as { Properties: { PolicyDocument: { Statement: Record<string, unknown>[] } } })
        .Properties.PolicyDocument.Statement,
  );

  expect(statements).toContainEqual(
    expect.objectContaining({
      Action: ['ecs:DescribeServices', 'ecs:UpdateService'],
      Resource: { Ref: expect.stringMatching(/^Service/) as unknown },
    }),
  );
  expect(statements).toContainEqual(
    expect.objectContaining({
      Action: 'iam:PassRole',
      Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      // This task definition has no execution role (a public image, no log driver): only the
      // task role is passed. With one, its ARN joins the list.
      Resource: { 'Fn::GetAtt': [expect.stringMatching(/^TaskDefTaskRole/) as unknown, 'Arn'] },
    }),
  );
  expect(statements).toContainEqual(
    expect.objectContaining({
      Action: 'ecs:TagResource',
      Condition: { StringEquals: { 'ecs:CreateAction': 'RegisterTaskDefinition' } },
    }),
  );
  // No statement grants ECS or IAM writes on every resource beyond what the API requires.
  const wildcard = statements.filter((s) => s.Resource === '*').flatMap((s) => [s.Action].flat());
  expect(wildcard.filter((a) => /^(ecs:UpdateService|iam:)/.test(String(a)))).toEqual([]);
});

test('restore on every exit: a rule invokes restore (with no state) when an execution is aborted, times out or fails', () => {
  const { stack } = region();

  Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', {
    EventPattern: {
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: {
        status: ['ABORTED', 'TIMED_OUT', 'FAILED'],
        stateMachineArn: [{ Ref: Match.stringLikeRegexp('BadDeployStateMachine') }],
      },
    },
    Targets: [
      Match.objectLike({ Input: '{"action":"restore"}', RetryPolicy: { MaximumRetryAttempts: 4 } }),
    ],
  });
});

test('the state machine stages, observes until settled, and restores on every path', () => {
  const { stack } = region();
  const machine = Object.values(
    Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine'),
  )[0] as { Properties: { DefinitionString: unknown } };
  const definition = JSON.stringify(stack.resolve(machine.Properties.DefinitionString));

  for (const state of ['Stage', 'Observe', 'Settled?', 'Restore', 'Restore by tags', 'Outcome?']) {
    expect(definition).toContain(`\\"${state}\\"`);
  }
  expect(definition).toContain('BadDeploy.HypothesisRejected');
  expect(definition).toContain('BadDeploy.RestoreFailed');
});

test('cdk-nag finds nothing unacknowledged', () => {
  const { app } = region({ nag: true });

  expect(nagErrors(app).filter((line) => line.includes('/BadDeploy/'))).toEqual([]);
});

test('a container the task definition lacks and a poll interval out of range are both named', () => {
  expect(() => region({ containerName: 'web', poll: Duration.seconds(1) })).toThrow(
    "BadDeployGameDay: containerName must name a container of the task definition, got 'web'; pollInterval must be 5-300 seconds, got 1",
  );
});
