import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';

import { stackNames } from '../../lib/blueprint';
import { catalogTableName, dataStackName } from '../../lib/doctor/retained-table-check';
import { resolveConfig } from '../../lib/load-config';
import { DataStack } from '../../lib/stacks/data-stack';

/** The Data stack as the blueprint makes it for project `Shop` (see createBlueprint). */
function dataStack(deletionProtection: boolean) {
  const app = new App();
  const stack = new DataStack(app, dataStackName('Shop'), {
    env: { account: '111122223333', region: 'eu-west-1' },
    tableName: catalogTableName('Shop'),
    replicaRegions: ['eu-central-1'],
    deletionProtection,
  });
  return Template.fromStack(stack).toJSON() as {
    Resources: Record<
      string,
      { Type: string; DeletionPolicy?: string; Properties?: Record<string, unknown> }
    >;
  };
}

describe('redeploy after cdk destroy --all', () => {
  test('leaves a table that --import-existing-resources can adopt: custom name, a DeletionPolicy, nothing else kept', () => {
    // GIVEN the Data stack with deletion protection (the default)
    const resources = Object.values(dataStack(true).Resources);
    // THEN its only resource is the table, named as the doctor looks for it, and retained
    expect(resources.map((r) => r.Type)).toEqual(['AWS::DynamoDB::GlobalTable']);
    const [table] = resources;
    // CloudFormation imports only resources with a custom name and a DeletionPolicy attribute
    expect(table.Properties?.TableName).toBe('Shop-catalog');
    expect(table.DeletionPolicy).toBe('Retain');
  });

  test('keeps nothing when deletion protection is off, so a redeploy creates the table afresh', () => {
    const resources = Object.values(dataStack(false).Resources);
    expect(resources.map((r) => [r.Type, r.DeletionPolicy ?? 'Delete'])).toEqual([
      ['AWS::DynamoDB::GlobalTable', 'Delete'],
    ]);
  });

  test('the doctor looks for the table and Data stack by the names the blueprint gives them', () => {
    const names = stackNames(resolveConfig({ projectName: 'Shop' }));
    expect([names.data, names.table]).toEqual([dataStackName('Shop'), catalogTableName('Shop')]);
  });
});
