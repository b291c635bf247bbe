import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Vpc } from 'aws-cdk-lib/aws-ec2';
import { ContainerImage } from 'aws-cdk-lib/aws-ecs';
import { StringParameter } from 'aws-cdk-lib/aws-ssm';

import { PublicLoadBalancer } from '../../lib/constructs/load-balancer/public-load-balancer';
import { CatalogService, TrafficShift } from '../../lib/constructs/service/catalog-service';
import { DeploymentGate } from '../../lib/constructs/service/deployment-gate';
import { nagErrors } from '../support/nag';
import { regionalStack } from '../support/regional-stack';

/**
 * Canary deployments behind a test listener: the service's deployment configuration, the two
 * target groups and listener rules ECS moves, the gate's lifecycle hook and who may reach the test
 * listener, checked in the regional stack as deployed.
 */

const IMAGE = ContainerImage.fromRegistry('public.ecr.aws/docker/library/node:22-slim');

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
type Statement = { Action: unknown; Resource: unknown; Effect: string };

const logicalIdOf = (resources: Resources, type: string, match: (r: unknown) => boolean) =>
  Object.entries(resources).filter(([, r]) => r.Type === type && match(r));

describe('a canary deployment in the default regional stack', () => {
  const { app, stack } = regionalStack();
  const violations = nagErrors(app);
  const template = Template.fromStack(stack);
  const resources = template.toJSON().Resources as Resources;
  const targetGroups = logicalIdOf(
    resources,
    'AWS::ElasticLoadBalancingV2::TargetGroup',
    () => true,
  );
  const gateFunctions = logicalIdOf(resources, 'AWS::Lambda::Function', (r) =>
    JSON.stringify(r).includes('TEST_LISTENER_URL'),
  );
  const [[gateId, gate]] = gateFunctions;
  const testListeners = logicalIdOf(
    resources,
    'AWS::ElasticLoadBalancingV2::Listener',
    (r) => (r as { Properties: { Port: number } }).Properties.Port === 9000,
  );
  const [[testListenerId]] = testListeners;
  const ruleId = (name: string) => {
    const ids = Object.keys(resources).filter((id) => id.startsWith(`Catalog${name}`));
    expect(ids).toHaveLength(1);
    return ids[0];
  };

  test('passes every AwsSolutions check, with the new roles and function acknowledged precisely', () => {
    expect(violations).toEqual([]);
  });

  test('deploys by CANARY: 10% for 5 minutes, then the rest, then a 10-minute bake', () => {
    template.hasResourceProperties('AWS::ECS::Service', {
      DeploymentController: Match.absent(),
      DeploymentConfiguration: Match.objectLike({
        Strategy: 'CANARY',
        CanaryConfiguration: { CanaryPercent: 10, CanaryBakeTimeInMinutes: 5 },
        BakeTimeInMinutes: 10,
        LinearConfiguration: Match.absent(),
      }),
    });
  });

  test('has no circuit breaker, which ECS applies to rolling updates only', () => {
    template.hasResourceProperties('AWS::ECS::Service', {
      DeploymentConfiguration: Match.objectLike({ DeploymentCircuitBreaker: Match.absent() }),
    });
  });

  test('rolls back on the alarms that mean users are harmed: 5xx rates and empty responses', () => {
    template.hasResourceProperties('AWS::ECS::Service', {
      DeploymentConfiguration: Match.objectLike({
        Alarms: {
          Enable: true,
          Rollback: true,
          AlarmNames: [
            'Blueprint-eu-west-1-alb-5xx-rate',
            'Blueprint-eu-west-1-target-5xx-rate',
            'Blueprint-eu-west-1-zero-length-responses',
          ],
        },
      }),
    });
    for (const name of [
      'Blueprint-eu-west-1-alb-5xx-rate',
      'Blueprint-eu-west-1-target-5xx-rate',
      'Blueprint-eu-west-1-zero-length-responses',
    ]) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: name });
    }
  });

  test('calls the gate Lambda at POST_TEST_TRAFFIC_SHIFT, with a role ECS assumes', () => {
    const service = Object.values(resources).find((r) => r.Type === 'AWS::ECS::Service');
    const hooks = (service?.Properties.DeploymentConfiguration as { LifecycleHooks: unknown[] })
      .LifecycleHooks;
    expect(hooks).toEqual([
      {
        HookTargetArn: { 'Fn::GetAtt': [gateId, 'Arn'] },
        RoleArn: { 'Fn::GetAtt': [expect.stringMatching(/^DeploymentGateInvokeRole/), 'Arn'] },
        LifecycleStages: ['POST_TEST_TRAFFIC_SHIFT'],
      },
    ]);
    const roleId = (hooks[0] as { RoleArn: { 'Fn::GetAtt': [string] } }).RoleArn['Fn::GetAtt'][0];
    template.hasResource('AWS::IAM::Role', {
      Properties: Match.objectLike({
        AssumeRolePolicyDocument: Match.objectLike({
          Statement: [
            Match.objectLike({
              Principal: { Service: 'ecs.amazonaws.com' },
              Action: 'sts:AssumeRole',
            }),
          ],
        }),
      }),
    });
    expect(Object.keys(resources)).toContain(roleId);
  });

  test('lets ECS invoke exactly the gate function, no versions, aliases or other functions', () => {
    const policies = logicalIdOf(resources, 'AWS::IAM::Policy', (r) =>
      JSON.stringify(r).includes('DeploymentGateInvokeRole'),
    );
    expect(policies).toHaveLength(1);
    const statements = (policies[0][1].Properties.PolicyDocument as { Statement: Statement[] })
      .Statement;
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: { 'Fn::GetAtt': [gateId, 'Arn'] },
      },
    ]);
  });

  test('gives the gate the test listener URL and the health token, and runs it in the private subnets', () => {
    expect(gateFunctions).toHaveLength(1);
    const env = (gate.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env.HEALTH_TOKEN).toBe('"status":"ready"');
    expect(JSON.stringify(env.TEST_LISTENER_URL)).toContain(':9000');
    expect(JSON.stringify(env.TEST_LISTENER_URL)).toContain('DNSName');
    const vpcConfig = gate.Properties.VpcConfig as { SubnetIds: { Ref: string }[] };
    expect(vpcConfig.SubnetIds.map((s) => s.Ref)).toEqual([
      expect.stringMatching(/PrivateSubnet1Subnet/),
      expect.stringMatching(/PrivateSubnet2Subnet/),
      expect.stringMatching(/PrivateSubnet3Subnet/),
    ]);
  });

  test("gives the gate's own role its log group and tracing only: no AWS API beyond them", () => {
    const roleId = (gate.Properties.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
    const policies = logicalIdOf(resources, 'AWS::IAM::Policy', (r) =>
      JSON.stringify((r as { Properties: { Roles: unknown } }).Properties.Roles).includes(roleId),
    );
    const actions = policies.flatMap(([, p]) =>
      (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement.flatMap((s) =>
        [s.Action].flat(),
      ),
    );
    expect([...new Set(actions)].sort()).toEqual([
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
  });

  test('lets the gate connect out to the test listener port only', () => {
    const groupId = (
      gate.Properties.VpcConfig as { SecurityGroupIds: { 'Fn::GetAtt': [string] }[] }
    ).SecurityGroupIds[0]['Fn::GetAtt'][0];
    expect(resources[groupId].Properties.SecurityGroupEgress).toEqual([
      expect.objectContaining({
        IpProtocol: 'tcp',
        FromPort: 9000,
        ToPort: 9000,
        CidrIp: '0.0.0.0/0',
      }),
    ]);
  });

  test('opens the test listener to the NAT gateway addresses only, never to the internet', () => {
    expect(testListeners).toHaveLength(1);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 9000,
      Protocol: 'HTTP',
    });
    const ingress = Object.values(resources)
      .filter((r) => r.Type === 'AWS::EC2::SecurityGroup')
      .flatMap((r) => (r.Properties.SecurityGroupIngress ?? []) as Record<string, unknown>[])
      .filter((rule) => rule.FromPort === 9000);
    const eips = Object.keys(template.findResources('AWS::EC2::EIP'));
    expect(eips).toHaveLength(3);
    expect(ingress).toHaveLength(3);
    for (const rule of ingress) {
      expect(rule.CidrIp).not.toBe('0.0.0.0/0');
      expect(rule.CidrIpv6).toBeUndefined();
    }
    expect(ingress.map((rule) => rule.CidrIp)).toEqual(
      eips.map((eip) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [eip, 'PublicIp'] }, '/32']] })),
    );
  });

  test('keeps two target groups with the same body-checking readiness check', () => {
    expect(targetGroups).toHaveLength(2);
    for (const [, group] of targetGroups) {
      expect(group.Properties).toMatchObject({
        HealthCheckPath: '/health/ready',
        Matcher: { HttpCode: '200' },
        HealthCheckIntervalSeconds: 5,
        HealthCheckTimeoutSeconds: 4,
        HealthyThresholdCount: 2,
        UnhealthyThresholdCount: 3,
        TargetType: 'ip',
        Port: 8080,
        Protocol: 'HTTP',
      });
    }
  });

  test('forwards production and test traffic by rules weighted 100/0 over the two groups', () => {
    const [primary, alternate] = targetGroups.map(([id]) => id);
    const weighted = {
      Type: 'forward',
      ForwardConfig: {
        TargetGroups: [
          { TargetGroupArn: { Ref: primary }, Weight: 100 },
          { TargetGroupArn: { Ref: alternate }, Weight: 0 },
        ],
      },
    };
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      ListenerArn: { Ref: testListenerId },
      Priority: 50000,
      Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/*'] } }],
      Actions: [Match.objectLike(weighted)],
    });
    const rules = logicalIdOf(resources, 'AWS::ElasticLoadBalancingV2::ListenerRule', () => true);
    expect(rules).toHaveLength(2);
    const production = rules.find(([, r]) => JSON.stringify(r).includes(testListenerId) === false);
    expect(production?.[1].Properties.Actions).toEqual([expect.objectContaining(weighted)]);
  });

  test('names the alternate group, both rules and the infrastructure role on the service', () => {
    const [primary, alternate] = targetGroups.map(([id]) => id);
    const service = Object.values(resources).find((r) => r.Type === 'AWS::ECS::Service');
    expect(service?.Properties.LoadBalancers).toEqual([
      {
        ContainerName: 'App',
        ContainerPort: 8080,
        TargetGroupArn: { Ref: primary },
        AdvancedConfiguration: {
          AlternateTargetGroupArn: { Ref: alternate },
          ProductionListenerRule: { Ref: ruleId('ProductionRule') },
          TestListenerRule: { Ref: ruleId('TestRule') },
          RoleArn: { 'Fn::GetAtt': [expect.stringMatching(/DeploymentRole/), 'Arn'] },
        },
      },
    ]);
  });

  test('gives the infrastructure role the ECS load-balancer policy only, assumable by ECS only', () => {
    const roles = logicalIdOf(resources, 'AWS::IAM::Role', (r) =>
      JSON.stringify(r).includes('AmazonECSInfrastructureRolePolicyForLoadBalancers'),
    );
    expect(roles).toHaveLength(1);
    const [[roleId, role]] = roles;
    expect(role.Properties.AssumeRolePolicyDocument).toMatchObject({
      Statement: [
        { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'ecs.amazonaws.com' } },
      ],
    });
    expect(role.Properties.ManagedPolicyArns).toHaveLength(1);
    const inline = logicalIdOf(resources, 'AWS::IAM::Policy', (r) =>
      JSON.stringify((r as { Properties: { Roles: unknown } }).Properties.Roles).includes(roleId),
    );
    expect(inline).toEqual([]);
  });

  test('answers 404 on the production and test listeners when no rule matches', () => {
    for (const port of [80, 9000]) {
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
        Port: port,
        DefaultActions: [
          Match.objectLike({
            Type: 'fixed-response',
            FixedResponseConfig: Match.objectLike({ StatusCode: '404' }),
          }),
        ],
      });
    }
  });

  test('scales on requests per target in whichever group serves', () => {
    const policies = Object.values(
      template.findResources('AWS::ApplicationAutoScaling::ScalingPolicy'),
    )
      .map((p) => JSON.stringify(p))
      .filter((p) => p.includes('ALBRequestCountPerTarget'));
    expect(policies).toHaveLength(2);
    for (const [id] of targetGroups) {
      expect(policies.some((p) => p.includes(id))).toBe(true);
    }
  });

  test('watches host counts over both target groups, so an alarm does not follow an empty group', () => {
    const [primary, alternate] = targetGroups.map(([id]) => id);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'Blueprint-eu-west-1-healthy-hosts-low',
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'SUM([primary, alternate])' })]),
    });
    const alarm = JSON.stringify(
      Object.values(template.findResources('AWS::CloudWatch::Alarm')).find((a) =>
        JSON.stringify(a).includes('healthy-hosts-low'),
      ),
    );
    expect(alarm).toContain(primary);
    expect(alarm).toContain(alternate);
  });
  test('reads target 5xx and p99 latency at the load balancer, which covers both groups', () => {
    const alarms = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    const byName = (name: string) =>
      JSON.stringify(alarms.find((a) => a.Properties.AlarmName === `Blueprint-eu-west-1-${name}`));
    for (const [name, metric] of [
      ['target-5xx-rate', 'HTTPCode_Target_5XX_Count'],
      ['p99-latency', 'TargetResponseTime'],
    ]) {
      const alarm = byName(name);
      expect(alarm).toContain(metric);
      expect(alarm).toContain('"Name":"LoadBalancer"');
      expect(alarm).not.toContain('"Name":"TargetGroup"');
    }
  });
});

describe('a linear deployment, configured', () => {
  test('shifts 20% every 3 minutes and bakes for 0 minutes', () => {
    // GIVEN
    const { stack } = regionalStack({
      deployment: {
        strategy: 'linear',
        linearStepPercent: 20,
        stepBakeTimeMinutes: 3,
        bakeTimeMinutes: 0,
        testListenerPort: 8443,
      },
    });
    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ECS::Service', {
      DeploymentConfiguration: Match.objectLike({
        Strategy: 'LINEAR',
        LinearConfiguration: { StepPercent: 20, StepBakeTimeInMinutes: 3 },
        CanaryConfiguration: Match.absent(),
        BakeTimeInMinutes: 0,
      }),
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 8443 });
  });
});

describe('a region with a single NAT gateway', () => {
  test('admits that one address to the test listener, and no other', () => {
    // GIVEN
    const { stack } = regionalStack({ network: { natGateways: 'single' } });
    // WHEN
    const template = Template.fromStack(stack);
    // THEN
    const [eip] = Object.keys(template.findResources('AWS::EC2::EIP'));
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroup'))
      .flatMap(
        (r) =>
          ((r as { Properties: { SecurityGroupIngress?: unknown[] } }).Properties
            .SecurityGroupIngress ?? []) as Record<string, unknown>[],
      )
      .filter((rule) => rule.FromPort === 9000);
    expect(ingress.map((rule) => rule.CidrIp)).toEqual([
      { 'Fn::Join': ['', [{ 'Fn::GetAtt': [eip, 'PublicIp'] }, '/32']] },
    ]);
  });
});

describe('the constructs refuse what ECS and the load balancer would refuse', () => {
  function parts() {
    const stack = new Stack(new App(), 'S', { env: { region: 'eu-west-1' } });
    const vpc = new Vpc(stack, 'Vpc', { maxAzs: 2 });
    const edge = new PublicLoadBalancer(stack, 'Lb', { vpc, wafEnabled: false });
    const faultParameter = new StringParameter(stack, 'Faults', { stringValue: '{}' });
    return { stack, vpc, edge, faultParameter };
  }

  test('a canary share that is not a multiple of 0.1, and bake times outside 0-1440 minutes', () => {
    // GIVEN
    const { stack, vpc, edge, faultParameter } = parts();
    // WHEN / THEN
    expect(
      () =>
        new CatalogService(stack, 'Catalog', {
          vpc,
          image: IMAGE,
          listener: edge.listener,
          testListener: edge.testListener,
          tableName: 't',
          memcachedConfigEndpoint: 'cache:11211',
          faultParameter,
          healthToken: 'ready',
          trafficShift: TrafficShift.CANARY,
          trafficStepPercent: 0.05,
          stepBakeTime: Duration.minutes(1441),
          bakeTime: Duration.seconds(90),
        }),
    ).toThrow(
      'CatalogService: trafficStepPercent must be a multiple of 0.1 from 0.1 to 100 for canary shifts, got 0.05; ' +
        'stepBakeTime must be whole minutes from 0 to 1440, got 1441 minutes; ' +
        'bakeTime must be whole minutes from 0 to 1440, got 1.5 minutes',
    );
  });

  test('a linear step below the 3% ECS allows', () => {
    const { stack, vpc, edge, faultParameter } = parts();
    expect(
      () =>
        new CatalogService(stack, 'Catalog', {
          vpc,
          image: IMAGE,
          listener: edge.listener,
          testListener: edge.testListener,
          tableName: 't',
          memcachedConfigEndpoint: 'cache:11211',
          faultParameter,
          healthToken: 'ready',
          trafficShift: TrafficShift.LINEAR,
          trafficStepPercent: 2,
        }),
    ).toThrow(
      'trafficStepPercent must be a multiple of 0.1 from 3 to 100 for linear shifts, got 2',
    );
  });

  test('a test listener on a production port', () => {
    const stack = new Stack(new App(), 'S', { env: { region: 'eu-west-1' } });
    const vpc = new Vpc(stack, 'Vpc', { maxAzs: 2 });
    expect(() => new PublicLoadBalancer(stack, 'Lb', { vpc, testListenerPort: 443 })).toThrow(
      'PublicLoadBalancer: testListenerPort must be an integer from 1 to 65535 other than 80 and 443 (the production ports), got 443',
    );
  });

  test('a gate with an empty health token or a timeout Lambda does not allow', () => {
    const stack = new Stack(new App(), 'S', { env: { region: 'eu-west-1' } });
    const vpc = new Vpc(stack, 'Vpc', { maxAzs: 2 });
    expect(
      () =>
        new DeploymentGate(stack, 'Gate', {
          vpc,
          testListenerUrl: 'http://lb:9000',
          testListenerPort: 9000,
          healthToken: ' ',
          timeout: Duration.minutes(20),
        }),
    ).toThrow(
      'DeploymentGate: timeout must be 5-900 seconds, got 1200; healthToken must be the text a healthy readiness body contains, got an empty string',
    );
  });
});
