import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';

import { GlobalTable, GlobalTableProps } from '../../lib/constructs/data/global-table';
import { nagErrors } from '../support/nag';

// The feature flags `cdk synth` runs with (cdk.json), so templates here match real ones.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { context: cdkJsonContext } = require('../../cdk.json') as {
  context: Record<string, unknown>;
};

function tableIn(props: Partial<GlobalTableProps> = {}) {
  const app = new App({ context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Data', { env: { account: '111111111111', region: 'us-east-1' } });
  const table = new GlobalTable(stack, 'Catalog', {
    tableName: 'Blueprint-catalog',
    replicaRegions: ['eu-west-1', 'ap-northeast-1'],
    ...props,
  });
  return { app, stack, table };
}

describe('GlobalTable', () => {
  test('keeps a replica in the home region and every other region, each protected and recoverable', () => {
    // GIVEN / WHEN
    const { stack } = tableIn();
    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    const [table] = Object.values(template.findResources('AWS::DynamoDB::GlobalTable'));
    const replicas = (table.Properties as { Replicas: { Region: string }[] }).Replicas;
    expect(replicas.map((r) => r.Region).sort()).toEqual([
      'ap-northeast-1',
      'eu-west-1',
      'us-east-1',
    ]);
    for (const replica of replicas) {
      expect(replica).toMatchObject({
        DeletionProtectionEnabled: true,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      });
    }
  });

  test('bills on demand, keys items by pk and expires them by expiresAt', () => {
    const { stack } = tableIn();
    Template.fromStack(stack).hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      TableName: 'Blueprint-catalog',
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  test('survives a stack deletion by default', () => {
    const { stack } = tableIn();
    Template.fromStack(stack).hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  test('can be deleted with its stack when deletion protection is switched off', () => {
    // GIVEN a throwaway environment
    const { stack } = tableIn({ deletionProtection: false });
    // THEN
    const template = Template.fromStack(stack);
    template.hasResource('AWS::DynamoDB::GlobalTable', { DeletionPolicy: 'Delete' });
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      Replicas: Match.arrayWith([
        Match.objectLike({ Region: 'eu-west-1', DeletionProtectionEnabled: false }),
      ]),
    });
  });

  test('is a single-region table when no replica regions are given', () => {
    const { stack } = tableIn({ replicaRegions: undefined });
    Template.fromStack(stack).hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      Replicas: [Match.objectLike({ Region: 'us-east-1' })],
    });
  });

  test('refuses a table name DynamoDB would refuse, saying what was given', () => {
    expect(() => tableIn({ tableName: 'no spaces allowed' })).toThrow(
      "tableName must be 3-255 letters, digits, '_', '-' or '.', got \"no spaces allowed\"",
    );
  });

  test('passes every AwsSolutions check', () => {
    // GIVEN
    const { app } = tableIn();
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    // WHEN / THEN
    expect(nagErrors(app)).toEqual([]);
  });
});
