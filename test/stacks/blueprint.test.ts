import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';

import { createBlueprint } from '../../lib/blueprint';
import { resolveConfig } from '../../lib/load-config';
import { renderSummary, summarizeStack } from '../../lib/synth-summary';
import { nagErrors } from '../support/nag';

function synthBlueprint(overrides: unknown = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const blueprint = createBlueprint(app, resolveConfig(overrides));
  return { app, blueprint };
}

describe('the default blueprint', () => {
  // Synthesizing all five stacks takes seconds; the tests below only read the result.
  const { app, blueprint } = synthBlueprint();
  const violations = nagErrors(app);

  test('passes every AwsSolutions check', () => {
    expect(violations).toEqual([]);
  });

  test('has a Data stack and a Global stack in us-east-1 and one stack per region', () => {
    expect(blueprint.data.stackName).toBe('Blueprint-Data');
    expect(blueprint.data.region).toBe('us-east-1');
    expect(blueprint.regional.map((s) => [s.stackName, s.region])).toEqual([
      ['Blueprint-us-east-1', 'us-east-1'],
      ['Blueprint-eu-west-1', 'eu-west-1'],
      ['Blueprint-ap-northeast-1', 'ap-northeast-1'],
    ]);
    expect(blueprint.global.stackName).toBe('Blueprint-Global');
    expect(blueprint.global.region).toBe('us-east-1');
  });

  test('deploys the Data stack first and the Global stack last', () => {
    for (const regional of blueprint.regional) {
      expect(regional.dependencies).toContain(blueprint.data);
      expect(blueprint.global.dependencies).toContain(regional);
    }
  });

  test('leaves the account to the deploying credentials when none is configured', () => {
    expect(blueprint.data.account).toEqual(expect.stringContaining('${Token['));
  });

  test('spreads each region over exactly its configured AZs, with a NAT gateway in each', () => {
    const template = Template.fromStack(blueprint.regional[2]);
    for (const az of ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d']) {
      template.hasResourceProperties('AWS::EC2::Subnet', { AvailabilityZone: az });
    }
    const subnetAzs = Object.values(template.findResources('AWS::EC2::Subnet')).map(
      (s) => (s.Properties as { AvailabilityZone: string }).AvailabilityZone,
    );
    expect(new Set(subnetAzs)).toEqual(
      new Set(['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d']),
    );
    template.resourceCountIs('AWS::EC2::NatGateway', 3);
  });

  test('logs every VPC flow', () => {
    Template.fromStack(blueprint.regional[0]).hasResourceProperties('AWS::EC2::FlowLog', {
      ResourceType: 'VPC',
      TrafficType: 'ALL',
      LogDestinationType: 'cloud-watch-logs',
    });
  });

  test('keeps DynamoDB, S3, ECR, logs and SSM traffic on VPC endpoints', () => {
    const template = Template.fromStack(blueprint.regional[0]);
    for (const service of ['s3', 'dynamodb']) {
      template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        ServiceName: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([`.${service}`])] }),
        VpcEndpointType: 'Gateway',
      });
    }
    for (const service of ['ecr.api', 'ecr.dkr', 'logs', 'ssm']) {
      template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        ServiceName: `com.amazonaws.us-east-1.${service}`,
        VpcEndpointType: 'Interface',
        PrivateDnsEnabled: true,
      });
    }
  });

  test('creates the catalog table with a protected replica in every region', () => {
    const template = Template.fromStack(blueprint.data);
    for (const region of ['us-east-1', 'eu-west-1', 'ap-northeast-1']) {
      template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        TableName: 'Blueprint-catalog',
        BillingMode: 'PAY_PER_REQUEST',
        Replicas: Match.arrayWith([
          Match.objectLike({
            Region: region,
            DeletionProtectionEnabled: true,
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          }),
        ]),
      });
    }
  });

  test('summarizes every stack with its region and resource count', () => {
    const assembly = app.synth();
    const rows = assembly.stacks.map(summarizeStack);
    expect(rows.map((r) => [r.stackName, r.region])).toEqual(
      expect.arrayContaining([
        ['Blueprint-Data', 'us-east-1'],
        ['Blueprint-us-east-1', 'us-east-1'],
        ['Blueprint-eu-west-1', 'eu-west-1'],
        ['Blueprint-ap-northeast-1', 'ap-northeast-1'],
        ['Blueprint-Global', 'us-east-1'],
      ]),
    );
    const usEast = rows.find((r) => r.stackName === 'Blueprint-us-east-1');
    expect(usEast?.resourceCount).toBe(
      Object.keys(Template.fromStack(blueprint.regional[0]).toJSON().Resources as object).length,
    );
    const text = renderSummary(rows, 'cdk.out');
    expect(text.split('\n')[0]).toBe('Synthesized 5 stacks to cdk.out:');
    expect(text).toMatch(
      /^STACK\s+REGION\s+RESOURCES\s+TARGET EJECTION\s+REGION FAILOVER\s+EDGE FAILOVER$/m,
    );
  });
});

describe('a blueprint configured for cost', () => {
  test('runs a single NAT gateway per region when asked', () => {
    const { blueprint } = synthBlueprint({ network: { natGateways: 'single' } });
    Template.fromStack(blueprint.regional[1]).resourceCountIs('AWS::EC2::NatGateway', 1);
  });

  test('prefixes every stack with the project name and uses the configured account', () => {
    const { blueprint } = synthBlueprint({ projectName: 'Shop', account: '123456789012' });
    expect(blueprint.regional[0].stackName).toBe('Shop-us-east-1');
    expect(blueprint.global.account).toBe('123456789012');
  });

  test('needs no context lookup even with an explicit account, so synth stays offline', () => {
    // GIVEN an account, with which the CDK would otherwise ask AWS for each region's AZs
    const { app } = synthBlueprint({ account: '123456789012' });
    // WHEN
    const assembly = app.synth();
    // THEN nothing is left for the CLI to look up
    const missing = assembly.manifest.missing ?? [];
    expect(missing.map((m) => m.key)).toEqual([]);
    expect(assembly.getStackByName('Blueprint-eu-west-1').template).toBeDefined();
  });

  test('lets a throwaway environment delete its table', () => {
    const { blueprint } = synthBlueprint({ data: { deletionProtection: false } });
    const template = Template.fromStack(blueprint.data);
    template.hasResource('AWS::DynamoDB::GlobalTable', { DeletionPolicy: 'Delete' });
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      Replicas: Match.arrayWith([Match.objectLike({ DeletionProtectionEnabled: false })]),
    });
  });
});
