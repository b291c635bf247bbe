import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import {
  ApplicationLoadBalancer,
  IApplicationLoadBalancer,
} from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { PublicHostedZone } from 'aws-cdk-lib/aws-route53';
import { AwsSolutionsChecks } from 'cdk-nag';

import {
  defaultZoneName,
  GeoRouting,
  GeoRoutingProps,
} from '../../lib/constructs/geo-routing/geo-routing';
import { GeoproximityAliasRecord } from '../../lib/constructs/geo-routing/geoproximity-record';
import { RegionHealthAlarms } from '../../lib/constructs/geo-routing/region-health-alarms';
import { nagErrors } from '../support/nag';

// The feature flags `cdk synth` runs with (cdk.json), so templates here match real ones.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { context: cdkJsonContext } = require('../../cdk.json') as {
  context: Record<string, unknown>;
};

const REGIONS = ['us-east-1', 'eu-west-1', 'ap-northeast-1'] as const;
/** The canonical hosted zone ids AWS publishes each region's ALB names in. */
const ALB_ZONE_IDS: Record<string, string> = {
  'us-east-1': 'Z35SXDOTRQ7X7K',
  'eu-west-1': 'Z32O12XQLNTSW2',
  'ap-northeast-1': 'Z14GRHDCWA56QT',
};
const dnsNameOf = (region: string) => `blueprint-alb-123.${region}.elb.amazonaws.com`;

function newStack(context: Record<string, unknown> = {}) {
  const app = new App({
    context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': [], ...context },
  });
  const stack = new Stack(app, 'Edge', { env: { account: '111111111111', region: 'us-east-1' } });
  return { app, stack };
}

/** An ALB known by its attributes: literal names make exact template assertions possible. */
function albIn(stack: Stack, region: string): IApplicationLoadBalancer {
  return ApplicationLoadBalancer.fromApplicationLoadBalancerAttributes(stack, `Alb-${region}`, {
    loadBalancerArn: `arn:aws:elasticloadbalancing:${region}:111111111111:loadbalancer/app/blueprint/0123456789abcdef`,
    securityGroupId: 'sg-0123456789abcdef0',
    loadBalancerDnsName: dnsNameOf(region),
    loadBalancerCanonicalHostedZoneId: ALB_ZONE_IDS[region],
  });
}

function routingIn(stack: Stack, props: Partial<GeoRoutingProps> = {}) {
  return new GeoRouting(stack, 'GeoRouting', {
    zoneName: 'example.net',
    hostedZoneId: 'Z0123456789ABCDEFGHIJ',
    endpoints: REGIONS.map((region, i) => ({
      region,
      loadBalancer: albIn(stack, region),
      bias: [0, 25, -10][i],
    })),
    ...props,
  });
}

/** The message `build` throws with. */
function thrownBy(build: () => unknown): string {
  try {
    build();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('nothing was thrown');
}

/** The message GeoRouting refuses `props` with. */
function refusalOf(props: Partial<GeoRoutingProps>): string {
  const { stack } = newStack();
  return thrownBy(() => routingIn(stack, props));
}

describe('GeoRouting health checks', () => {
  test('fetch /health/ready from each region’s load balancer over HTTP and search the body for the token', () => {
    // GIVEN load balancers without TLS
    const { stack } = newStack();
    // WHEN
    routingIn(stack);
    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Route53::HealthCheck', 3);
    for (const region of REGIONS) {
      template.hasResourceProperties('AWS::Route53::HealthCheck', {
        HealthCheckConfig: Match.objectLike({
          Type: 'HTTP_STR_MATCH',
          FullyQualifiedDomainName: dnsNameOf(region),
          Port: 80,
          ResourcePath: '/health/ready',
          SearchString: '"status":"ready"',
          RequestInterval: 10,
          FailureThreshold: 3,
        }),
        HealthCheckTags: [{ Key: 'Name', Value: `${region} /health/ready` }],
      });
    }
  });

  test('use HTTPS on port 443 without SNI when the load balancers have certificates', () => {
    // GIVEN load balancers whose certificate names the API, not the ALB
    const { stack } = newStack();
    // WHEN
    routingIn(stack, { https: true });
    // THEN the check names the ALB itself and does not ask for a certificate it lacks
    Template.fromStack(stack).hasResourceProperties('AWS::Route53::HealthCheck', {
      HealthCheckConfig: Match.objectLike({
        Type: 'HTTPS_STR_MATCH',
        FullyQualifiedDomainName: dnsNameOf('eu-west-1'),
        Port: 443,
        EnableSNI: false,
      }),
    });
  });

  test('carry the configured token, path, interval and failure threshold', () => {
    // GIVEN
    const { stack } = newStack();
    // WHEN
    routingIn(stack, {
      healthCheckSearchString: 'READY-42',
      healthCheckPath: '/ready',
      requestInterval: Duration.seconds(30),
      failureThreshold: 2,
    });
    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::Route53::HealthCheck', {
      HealthCheckConfig: Match.objectLike({
        ResourcePath: '/ready',
        SearchString: 'READY-42',
        RequestInterval: 30,
        FailureThreshold: 2,
      }),
    });
  });
});

describe('GeoRouting records', () => {
  test('answer each region by geoproximity with its load balancer, bias and health check', () => {
    // GIVEN
    const { stack } = newStack();
    // WHEN
    const routing = routingIn(stack);
    // THEN
    const template = Template.fromStack(stack);
    REGIONS.forEach((region, i) => {
      const healthCheck = routing.regions[i].healthCheck.node.defaultChild as never;
      template.hasResourceProperties('AWS::Route53::RecordSet', {
        HostedZoneId: 'Z0123456789ABCDEFGHIJ',
        Name: 'api.example.net',
        Type: 'A',
        SetIdentifier: region,
        GeoProximityLocation: { AWSRegion: region, Bias: [0, 25, -10][i] },
        HealthCheckId: { Ref: stack.getLogicalId(healthCheck) },
        AliasTarget: {
          DNSName: `dualstack.${dnsNameOf(region)}`,
          HostedZoneId: ALB_ZONE_IDS[region],
          EvaluateTargetHealth: true,
        },
      });
    });
    expect(routing.domainName).toBe('api.example.net');
  });

  test('give each region a plain alias for reaching it on purpose', () => {
    // GIVEN
    const { stack } = newStack();
    // WHEN
    const routing = routingIn(stack, { recordName: 'service' });
    // THEN
    expect(routing.regions.map((r) => r.regionDomainName)).toEqual(
      REGIONS.map((region) => `${region}.service.example.net`),
    );
    Template.fromStack(stack).hasResourceProperties('AWS::Route53::RecordSet', {
      Name: 'eu-west-1.service.example.net.',
      Type: 'A',
      SetIdentifier: Match.absent(),
      AliasTarget: Match.objectLike({ DNSName: `dualstack.${dnsNameOf('eu-west-1')}` }),
    });
  });

  test('use the configured hosted zone by its id without creating or looking one up', () => {
    // GIVEN
    const { app, stack } = newStack();
    // WHEN
    const routing = routingIn(stack);
    // THEN
    Template.fromStack(stack).resourceCountIs('AWS::Route53::HostedZone', 0);
    expect(routing.createdZone).toBe(false);
    expect(routing.nameServers).toBeUndefined();
    expect(app.synth().manifest.missing ?? []).toEqual([]);
  });

  test('create a public hosted zone when none is configured', () => {
    // GIVEN
    const { stack } = newStack();
    // WHEN
    const routing = routingIn(stack, {
      zoneName: defaultZoneName('Blueprint'),
      hostedZoneId: undefined,
    });
    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Route53::HostedZone', {
      Name: 'blueprint-multi-region.com.',
    });
    const zoneId = stack.getLogicalId(
      (routing.hostedZone as PublicHostedZone).node.defaultChild as never,
    );
    template.hasResourceProperties('AWS::Route53::RecordSet', {
      HostedZoneId: { Ref: zoneId },
      Name: 'api.blueprint-multi-region.com',
    });
    expect(routing.createdZone).toBe(true);
    expect(routing.nameServers).toBeDefined();
  });
});

describe('defaultZoneName', () => {
  test('turns the project name into a DNS name under .com', () => {
    expect(defaultZoneName('Blueprint')).toBe('blueprint-multi-region.com');
    expect(defaultZoneName('Shop Front 2!')).toBe('shop-front-2-multi-region.com');
  });

  test('keeps the first label within the 63 characters DNS allows', () => {
    const [label] = defaultZoneName('x'.repeat(80)).split('.');
    expect(label.length).toBeLessThanOrEqual(63);
    expect(label.endsWith('-multi-region')).toBe(true);
  });
});

describe('GeoRouting validation', () => {
  test('names every invalid input together, with what was given', () => {
    // WHEN
    const message = refusalOf({
      zoneName: 'Example',
      hostedZoneId: 'abc',
      recordName: 'API_',
      healthCheckPath: 'health',
      healthCheckSearchString: '',
      requestInterval: Duration.seconds(15),
      failureThreshold: 11,
    });
    // THEN
    expect(message).toContain('GeoRouting has 7 problems');
    expect(message).toContain(
      'zoneName must be a lower-case DNS name such as "example.com", got "Example"',
    );
    expect(message).toContain('hostedZoneId must be a Route 53 hosted zone id');
    expect(message).toContain('recordName must be lower-case DNS labels such as "api", got "API_"');
    expect(message).toContain(
      'healthCheckPath must start with "/" and have no spaces, got "health"',
    );
    expect(message).toContain('healthCheckSearchString must be 1-255 characters, got 0');
    expect(message).toContain(
      'requestInterval must be 10 or 30 seconds (Route 53 offers no other), got 15',
    );
    expect(message).toContain('failureThreshold must be an integer from 1 to 10, got 11');
  });

  test('refuses no endpoints, a region twice and a bias outside -99..99', () => {
    // GIVEN
    const { stack } = newStack();
    const alb = albIn(stack, 'eu-west-1');
    // WHEN
    const message = thrownBy(
      () =>
        new GeoRouting(stack, 'Twice', {
          zoneName: 'example.net',
          endpoints: [
            { region: 'eu-west-1', loadBalancer: alb, bias: 100 },
            { region: 'eu-west-1', loadBalancer: alb },
          ],
        }),
    );
    // THEN
    expect(message).toContain('endpoints must name each region once, got eu-west-1 twice');
    expect(message).toContain('bias of eu-west-1 must be an integer from -99 to 99, got 100');
    expect(
      thrownBy(() => new GeoRouting(stack, 'None', { zoneName: 'example.net', endpoints: [] })),
    ).toContain('endpoints must list at least one region to route to, got none');
  });
});

describe('GeoproximityAliasRecord', () => {
  test('defaults to no bias, the region as set identifier, and evaluating target health', () => {
    // GIVEN
    const { stack } = newStack();
    const zone = new PublicHostedZone(stack, 'Zone', { zoneName: 'example.net' });
    // WHEN
    new GeoproximityAliasRecord(stack, 'Record', {
      zone,
      recordName: 'api.example.net',
      region: 'eu-west-1',
      target: { dnsName: 'd.example.org', hostedZoneId: 'Z2FDTNDATAQYW2' },
    });
    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::Route53::RecordSet', {
      SetIdentifier: 'eu-west-1',
      GeoProximityLocation: { AWSRegion: 'eu-west-1', Bias: 0 },
      HealthCheckId: Match.absent(),
      AliasTarget: {
        DNSName: 'd.example.org',
        HostedZoneId: 'Z2FDTNDATAQYW2',
        EvaluateTargetHealth: true,
      },
    });
  });

  test('passes CloudFormation’s own schema check, so the override names a real property', () => {
    // GIVEN an app that fails synthesis on any CloudFormation schema finding
    const { app, stack } = newStack({ '@aws-cdk/core:validateAgainstDefaultRules': true });
    const zone = new PublicHostedZone(stack, 'Zone', { zoneName: 'example.net' });
    new GeoproximityAliasRecord(stack, 'Record', {
      zone,
      recordName: 'api.example.net',
      region: 'ap-northeast-1',
      bias: -20,
      target: { dnsName: 'd.example.org', hostedZoneId: 'Z2FDTNDATAQYW2' },
    });
    // WHEN / THEN
    expect(() => app.synth()).not.toThrow();
  });

  test('refuses a bias that is not a whole number from -99 to 99', () => {
    const { stack } = newStack();
    const zone = new PublicHostedZone(stack, 'Zone', { zoneName: 'example.net' });
    expect(
      () =>
        new GeoproximityAliasRecord(stack, 'Record', {
          zone,
          recordName: 'api.example.net',
          region: 'eu-west-1',
          bias: 2.5,
          target: { dnsName: 'd.example.org', hostedZoneId: 'Z2FDTNDATAQYW2' },
        }),
    ).toThrow('bias must be an integer from -99 to 99, got 2.5');
  });
});

describe('RegionHealthAlarms', () => {
  function alarmsIn(stack: Stack, alarmEmail?: string) {
    const routing = routingIn(stack);
    const alarms = new RegionHealthAlarms(stack, 'Alarms', {
      healthChecks: routing.regions,
      alarmEmail,
    });
    return { routing, alarms };
  }

  test('alarm when Route 53 finds a region unhealthy and notify the topic on alarm and recovery', () => {
    // GIVEN
    const { stack } = newStack();
    // WHEN
    const { routing, alarms } = alarmsIn(stack);
    // THEN
    const template = Template.fromStack(stack);
    const topic = { Ref: stack.getLogicalId(alarms.topic.node.defaultChild as never) };
    template.resourceCountIs('AWS::CloudWatch::Alarm', 3);
    for (const { region, healthCheck } of routing.regions) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Route53',
        MetricName: 'HealthCheckStatus',
        Dimensions: [
          {
            Name: 'HealthCheckId',
            Value: { Ref: stack.getLogicalId(healthCheck.node.defaultChild as never) },
          },
        ],
        Statistic: 'Minimum',
        Period: 60,
        ComparisonOperator: 'LessThanThreshold',
        Threshold: 1,
        EvaluationPeriods: 1,
        AlarmActions: [topic],
        OKActions: [topic],
        AlarmDescription: Match.stringLikeRegexp(`^Route 53 finds ${region} unhealthy`),
      });
    }
  });

  test('encrypt the topic with a rotating key that CloudWatch may use, and refuse publishing without TLS', () => {
    // GIVEN
    const { stack } = newStack();
    // WHEN
    alarmsIn(stack);
    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: Match.objectLike({ 'Fn::GetAtt': Match.anyValue() }),
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  test('e-mail the configured address, and no one when none is configured', () => {
    // GIVEN
    const withEmail = newStack().stack;
    const without = newStack().stack;
    // WHEN
    alarmsIn(withEmail, 'ops@example.com');
    alarmsIn(without);
    // THEN
    Template.fromStack(withEmail).hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
    Template.fromStack(without).resourceCountIs('AWS::SNS::Subscription', 0);
  });

  test('refuse a stack outside us-east-1 and a malformed e-mail, naming both', () => {
    // GIVEN a stack where Route 53 publishes no health-check metrics
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Elsewhere', { env: { region: 'eu-west-1' } });
    // WHEN
    const message = thrownBy(
      () => new RegionHealthAlarms(stack, 'Alarms', { healthChecks: [], alarmEmail: 'ops' }),
    );
    // THEN
    expect(message).toContain(
      'must be in a stack in us-east-1, where Route 53 publishes health-check metrics, got eu-west-1',
    );
    expect(message).toContain(
      'alarmEmail must be an e-mail address such as "ops@example.com", got "ops"',
    );
  });
});

describe('geo routing under cdk-nag', () => {
  test('passes every AwsSolutions check, created zone and alarms included', () => {
    // GIVEN
    const { app, stack } = newStack();
    const routing = routingIn(stack, {
      zoneName: 'blueprint-multi-region.com',
      hostedZoneId: undefined,
    });
    new RegionHealthAlarms(stack, 'Alarms', {
      healthChecks: routing.regions,
      alarmEmail: 'ops@example.com',
    });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    // WHEN / THEN
    expect(nagErrors(app)).toEqual([]);
  });
});
