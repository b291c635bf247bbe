import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { App, Fn, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ApplicationLoadBalancer } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { AwsSolutionsChecks } from 'cdk-nag';

import { createBlueprint } from '../../lib/blueprint';
import { DEFAULT_CONFIG, GLOBAL_STACK_REGION, ResolvedConfig } from '../../lib/config';
import { SiteReplicaBucket } from '../../lib/constructs/static-site/site-replica-bucket';
import { resolveConfig } from '../../lib/load-config';
import { GlobalStack } from '../../lib/stacks/global-stack';
import { renderSummary, summarizeStack } from '../../lib/synth-summary';
import { nagErrors } from '../support/nag';

// The feature flags `cdk synth` runs with (cdk.json), so templates here match real ones.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { context: cdkJsonContext } = require('../../cdk.json') as {
  context: Record<string, unknown>;
};

const ACCOUNT = '111111111111';
const DOMAIN = {
  hostedZoneId: 'Z0123456789ABCDEFGHIJ',
  zoneName: 'example.net',
  apiRecordName: 'api',
  siteRecordName: 'www',
};
const dnsNameOf = (region: string) => `blueprint-alb-123.${region}.elb.amazonaws.com`;

/**
 * The Global stack wired as the blueprint wires it, with each regional stack reduced to what the
 * Global stack reads from it: its load balancer and, in the failover region, the replica bucket.
 */
function synthGlobal(config: ResolvedConfig = DEFAULT_CONFIG) {
  const app = new App({ context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': [] } });
  const regional = config.regions.map((r) => {
    const stack = new Stack(app, `${config.projectName}-${r.region}`, {
      env: { account: ACCOUNT, region: r.region },
      crossRegionReferences: true,
    });
    const loadBalancer = ApplicationLoadBalancer.fromApplicationLoadBalancerAttributes(
      stack,
      'Alb',
      {
        loadBalancerArn: `arn:aws:elasticloadbalancing:${r.region}:${ACCOUNT}:loadbalancer/app/blueprint/0123456789abcdef`,
        securityGroupId: 'sg-0123456789abcdef0',
        loadBalancerDnsName: dnsNameOf(r.region),
        loadBalancerCanonicalHostedZoneId: 'Z35SXDOTRQ7X7K',
      },
    );
    Validations.of(stack).acknowledge({
      id: 'CloudFormation-Validate::F0001',
      reason: 'A stand-in regional stack: it only names its load balancer.',
    });
    // As PublicLoadBalancer makes it: the unique part of the regional stack's id.
    const relayToken = Fn.select(2, Fn.split('/', stack.stackId));
    return {
      stack,
      region: r.region,
      loadBalancer,
      geoproximityBias: r.geoproximityBias,
      relayToken,
    };
  });
  const failover = regional.find((r) => r.region === config.site.failoverRegion);
  const replica = failover && new SiteReplicaBucket(failover.stack, 'SiteReplica');
  const global = new GlobalStack(app, `${config.projectName}-Global`, {
    env: { account: ACCOUNT, region: GLOBAL_STACK_REGION },
    crossRegionReferences: true,
    config,
    regions: regional,
    siteReplicaBucket: replica?.bucket,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const violations = nagErrors(app);
  const assembly = app.synth();
  return { app, global, regional, violations, assembly, template: Template.fromStack(global) };
}

/** What the page reads from /config.json, as the deployment uploads it. */
function runtimeConfigOf(synth: ReturnType<typeof synthGlobal>): unknown {
  const [deployment] = Object.entries(synth.template.findResources('Custom::CDKBucketDeployment'))
    .filter(([id]) => id.startsWith('SiteDeployPage'))
    .map(([, r]) => r.Properties as { SourceObjectKeys: string[] });
  for (const key of deployment.SourceObjectKeys) {
    const path = join(
      synth.assembly.directory,
      `asset.${key.replace(/\.zip$/, '')}`,
      'config.json',
    );
    try {
      return JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  throw new Error('the page deployment uploads no config.json');
}

function regionFailoverOf(synth: ReturnType<typeof synthGlobal>): string {
  return summarizeStack(synth.assembly.getStackByName(synth.global.stackName)).regionFailover;
}

describe('the Global stack of the default config (no domain)', () => {
  // Synthesizing four stacks takes seconds; the tests below only read the result.
  const synth = synthGlobal();
  const { template } = synth;

  test('passes every AwsSolutions check', () => {
    expect(synth.violations).toEqual([]);
  });

  test('lives in us-east-1 and deploys after every regional stack', () => {
    expect(synth.global.region).toBe('us-east-1');
    for (const { stack } of synth.regional) {
      expect(synth.global.dependencies).toContain(stack);
    }
  });

  test('checks every region’s load balancer for the readiness token over HTTP every 10 s', () => {
    template.resourceCountIs('AWS::Route53::HealthCheck', 3);
    for (const { region } of DEFAULT_CONFIG.regions) {
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
      });
    }
  });

  test('answers api.<zone> by geoproximity with each region’s load balancer and health check', () => {
    for (const { region, geoproximityBias } of DEFAULT_CONFIG.regions) {
      template.hasResourceProperties('AWS::Route53::RecordSet', {
        Name: 'api.blueprint-multi-region.com',
        SetIdentifier: region,
        GeoProximityLocation: { AWSRegion: region, Bias: geoproximityBias },
        HealthCheckId: { Ref: Match.stringLikeRegexp('^GeoRoutingHealthCheck') },
        AliasTarget: Match.objectLike({
          DNSName: `dualstack.${dnsNameOf(region)}`,
          EvaluateTargetHealth: true,
        }),
      });
    }
  });

  test('creates its own hosted zone and outputs the name servers to query', () => {
    template.hasResourceProperties('AWS::Route53::HostedZone', {
      Name: 'blueprint-multi-region.com.',
    });
    template.hasOutput('NameServers', {
      Value: { 'Fn::Join': [' ', { 'Fn::GetAtt': [Match.anyValue(), 'NameServers'] }] },
    });
    template.hasOutput('ApiDomainName', { Value: 'api.blueprint-multi-region.com' });
  });

  test('alarms on each region’s Route 53 HealthCheckStatus', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 3);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Route53',
      MetricName: 'HealthCheckStatus',
      AlarmDescription: Match.stringLikeRegexp('^Route 53 finds ap-northeast-1 unhealthy'),
    });
  });

  test('shows the region-failover budget, interval × threshold + 60 s TTL, in the synth summary', () => {
    // WHEN
    const row = summarizeStack(synth.assembly.getStackByName('Blueprint-Global'));
    // THEN
    expect(row.regionFailover).toBe('30 s + 60 s TTL = 90 s');
    expect(renderSummary([row], 'cdk.out')).toMatch(
      /^Blueprint-Global\s+us-east-1\s+\d+\s+-\s+30 s \+ 60 s TTL = 90 s\s+30 s \+ 60 s alarm \+ 5 s write \+ 30 s KVS = 125 s$/m,
    );
  });

  test('shows the edge-failover budget, check + alarm + write + KVS propagation, next to the DNS one', () => {
    const row = summarizeStack(synth.assembly.getStackByName('Blueprint-Global'));
    expect(row.edgeFailover).toBe('30 s + 60 s alarm + 5 s write + 30 s KVS = 125 s');
  });

  test('tells the page to call the API and read each region through the distribution', () => {
    expect(runtimeConfigOf(synth)).toEqual({
      apiUrl: '',
      healthToken: '"status":"ready"',
      regions: DEFAULT_CONFIG.regions.map(({ region }) => ({
        region,
        healthUrl: `/regions/${region}/health/ready`,
      })),
    });
    const distribution = Object.values(template.findResources('AWS::CloudFront::Distribution'))[0];
    const config = (distribution.Properties as { DistributionConfig: Record<string, unknown> })
      .DistributionConfig;
    const origins = config.Origins as { Id: string; DomainName: unknown }[];
    const api = (config.CacheBehaviors as { PathPattern: string; TargetOriginId: string }[]).find(
      (b) => b.PathPattern === '/api/*',
    );
    expect(origins.find((o) => o.Id === api?.TargetOriginId)?.DomainName).toBe(
      dnsNameOf(DEFAULT_CONFIG.homeRegion),
    );
  });

  test("sends each relay its region's relay token, read from that region's stack", () => {
    const distribution = Object.values(template.findResources('AWS::CloudFront::Distribution'))[0];
    const config = (distribution.Properties as { DistributionConfig: Record<string, unknown> })
      .DistributionConfig;
    const origins = config.Origins as {
      Id: string;
      OriginCustomHeaders?: { HeaderName: string; HeaderValue: unknown }[];
    }[];
    const behaviors = config.CacheBehaviors as { PathPattern: string; TargetOriginId: string }[];
    for (const [pattern, region] of [
      ['/api/*', DEFAULT_CONFIG.homeRegion],
      ...DEFAULT_CONFIG.regions.map((r) => [`/regions/${r.region}/*`, r.region]),
    ]) {
      const origin = origins.find(
        (o) => o.Id === behaviors.find((b) => b.PathPattern === pattern)?.TargetOriginId,
      );
      expect(origin?.OriginCustomHeaders?.map((h) => h.HeaderName)).toEqual(['x-blueprint-relay']);
      const value = JSON.stringify(origin?.OriginCustomHeaders?.[0].HeaderValue);
      expect(value).toContain('"Fn::GetStackOutput"');
      expect(value).toContain(`"StackName":"Blueprint-${region}"`);
      expect(value).toContain(`"Region":"${region}"`);
    }
  });

  test('serves the site from us-east-1 with failover to the replica in the failover region', () => {
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        OriginGroups: Match.objectLike({ Quantity: 1 }),
      }),
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      ReplicationConfiguration: Match.objectLike({
        Rules: [
          Match.objectLike({
            Destination: {
              Bucket: Match.objectLike({
                'Fn::GetStackOutput': Match.objectLike({
                  StackName: 'Blueprint-eu-west-1',
                  Region: 'eu-west-1',
                }),
              }),
            },
          }),
        ],
      }),
    });
  });
});

describe('the Global stack with a domain', () => {
  const synth = synthGlobal({ ...DEFAULT_CONFIG, domain: DOMAIN });
  const { template } = synth;

  test('passes every AwsSolutions check', () => {
    expect(synth.violations).toEqual([]);
  });

  test('checks the load balancers over HTTPS on 443, naming the ALB without SNI', () => {
    template.hasResourceProperties('AWS::Route53::HealthCheck', {
      HealthCheckConfig: Match.objectLike({
        Type: 'HTTPS_STR_MATCH',
        FullyQualifiedDomainName: dnsNameOf('eu-west-1'),
        Port: 443,
        EnableSNI: false,
        SearchString: '"status":"ready"',
      }),
    });
  });

  test('publishes in the configured zone and creates none', () => {
    template.resourceCountIs('AWS::Route53::HostedZone', 0);
    template.hasResourceProperties('AWS::Route53::RecordSet', {
      HostedZoneId: DOMAIN.hostedZoneId,
      Name: 'api.example.net',
      GeoProximityLocation: { AWSRegion: 'ap-northeast-1', Bias: 0 },
    });
    expect(template.findOutputs('NameServers')).toEqual({});
  });

  test('serves the site at www.<zone> with a certificate, and routes its /api/* to the regions over HTTPS at <region>.api.<zone>', () => {
    template.hasResourceProperties('AWS::CertificateManager::Certificate', {
      DomainName: 'www.example.net',
    });
    template.hasOutput('SiteUrl', { Value: 'https://www.example.net' });
    expect(runtimeConfigOf(synth)).toEqual({
      apiUrl: '',
      healthToken: '"status":"ready"',
      regions: DEFAULT_CONFIG.regions.map(({ region }) => ({
        region,
        healthUrl: `https://${region}.api.example.net/health/ready`,
      })),
    });
    const distribution = Object.values(template.findResources('AWS::CloudFront::Distribution'))[0];
    const config = (distribution.Properties as { DistributionConfig: Record<string, unknown> })
      .DistributionConfig;
    // The API, and each region on its own path (which holds its origin for the router).
    expect((config.CacheBehaviors as { PathPattern: string }[]).map((b) => b.PathPattern)).toEqual([
      '/api/*',
      ...DEFAULT_CONFIG.regions.map((r) => `/regions/${r.region}/*`),
    ]);
    const origins = config.Origins as {
      Id: string;
      DomainName: unknown;
      CustomOriginConfig?: unknown;
    }[];
    for (const { region } of DEFAULT_CONFIG.regions) {
      expect(origins.find((o) => o.Id === `relay-${region}`)).toMatchObject({
        DomainName: `${region}.api.example.net`,
        CustomOriginConfig: { OriginProtocolPolicy: 'https-only' },
      });
    }
  });
});

describe('the Global stack follows the health-check config', () => {
  test('a lower failure threshold and another token shorten the budget and change the search', () => {
    // GIVEN
    const config: ResolvedConfig = {
      ...DEFAULT_CONFIG,
      healthCheck: { ...DEFAULT_CONFIG.healthCheck, route53FailureThreshold: 2, token: 'READY-42' },
      regions: DEFAULT_CONFIG.regions.map((r, i) => ({ ...r, geoproximityBias: [10, -5, 0][i] })),
    };
    // WHEN
    const synth = synthGlobal(config);
    // THEN
    expect(regionFailoverOf(synth)).toBe('20 s + 60 s TTL = 80 s');
    synth.template.hasResourceProperties('AWS::Route53::HealthCheck', {
      HealthCheckConfig: Match.objectLike({ SearchString: 'READY-42', FailureThreshold: 2 }),
    });
    synth.template.hasResourceProperties('AWS::Route53::RecordSet', {
      SetIdentifier: 'us-east-1',
      GeoProximityLocation: { AWSRegion: 'us-east-1', Bias: 10 },
    });
  });

  test('without origin failover the site has no replica and no origin group', () => {
    // GIVEN
    const config: ResolvedConfig = {
      ...DEFAULT_CONFIG,
      site: { originFailover: false, failoverRegion: undefined },
    };
    // WHEN
    const synth = synthGlobal(config);
    // THEN
    expect(synth.violations).toEqual([]);
    synth.template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({ OriginGroups: Match.absent() }),
    });
  });

  test('refuses a home region it has no load balancer for', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    expect(
      () =>
        new GlobalStack(app, 'Global', {
          env: { region: GLOBAL_STACK_REGION },
          config: { ...DEFAULT_CONFIG, homeRegion: 'eu-central-1' },
          regions: [],
        }),
    ).toThrow(
      'homeRegion eu-central-1 must be one of the regions given to the Global stack (none given)',
    );
  });
});

describe('the synth summary of the whole blueprint', () => {
  test('shows the Global stack’s region-failover budget from the configured failure threshold', () => {
    // GIVEN the blueprint as `cdk synth` builds it, with a failure threshold of 2
    const app = new App({ context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': [] } });
    createBlueprint(app, resolveConfig({ healthCheck: { route53FailureThreshold: 2 } }));
    // WHEN
    const assembly = app.synth();
    const summary = renderSummary(assembly.stacks.map(summarizeStack), assembly.directory);
    // THEN 10 s × 2 + 60 s
    // and at the edge: 10 s × 2 + 60 s alarm + 5 s write + 30 s KVS
    expect(summary).toMatch(
      /^Blueprint-Global\s+us-east-1\s+\d+\s+-\s+20 s \+ 60 s TTL = 80 s\s+20 s \+ 60 s alarm \+ 5 s write \+ 30 s KVS = 115 s$/m,
    );
  });
});
