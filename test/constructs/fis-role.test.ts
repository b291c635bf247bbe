import { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Alarm, ComparisonOperator, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';

import { ChaosExperimentTemplates } from '../../lib/constructs/chaos/fis-templates';
import { minimalRegion } from '../support/minimal-region';

type Statement = { Action: string | string[]; Resource: unknown };

describe('the FIS role', () => {
  test('may describe its own cluster, as the aws:ecs:stop-task action needs (AWS managed FIS ECS policy)', () => {
    // GIVEN the experiment templates on a minimal region's cluster
    const { stack, cluster, service } = minimalRegion('eu-west-1');
    const stopTasksFunction = new LambdaFunction(stack, 'StopTasks', {
      runtime: Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: Code.fromInline('exports.handler = async () => ({})'),
    });
    const regionImpairedAlarm = new Alarm(stack, 'RegionImpaired', {
      metric: new Metric({ namespace: 'Test', metricName: 'Impaired' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    const fis = new ChaosExperimentTemplates(stack, 'Fis', {
      cluster,
      service,
      stopTasksFunction,
      regionImpairedAlarm,
      maxFaultDurationMinutes: 30,
    });

    // WHEN the role's policy is rendered
    const template = Template.fromStack(stack);
    const policies = template.findResources('AWS::IAM::Policy');
    const roleId = stack.getLogicalId(fis.role.node.defaultChild as CfnElement);
    const statements = Object.values(policies)
      .filter((p) =>
        JSON.stringify((p as { Properties: { Roles: unknown } }).Properties.Roles).includes(roleId),
      )
      .flatMap(
        (p) =>
          (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties
            .PolicyDocument.Statement,
      );

    // THEN ecs:DescribeClusters is granted on exactly this cluster
    const describe = statements.filter((s) => [s.Action].flat().includes('ecs:DescribeClusters'));
    expect(describe).toHaveLength(1);
    expect(describe[0].Resource).toEqual(stack.resolve(cluster.clusterArn));
  });
});
