/**
 * The edge routing as the Global stack deploys it with the default config (no domain): the site's
 * `/api/*` runs a viewer-request CloudFront Function that reads each region's health from a
 * KeyValueStore and selects one origin per regional load balancer; the store is seeded healthy and
 * written by the edge-health function on the region alarms' state changes and on a schedule.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';

import { App, Duration, Fn, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Alarm, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { ApplicationLoadBalancer } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { AwsSolutionsChecks } from 'cdk-nag';

import { AWS_REGIONS } from '../../lib/aws-regions';
import { DEFAULT_CONFIG, GLOBAL_STACK_REGION } from '../../lib/config';
import { EdgeHealth } from '../../lib/constructs/edge-routing/edge-health';
import { StaticSite, withViewerIpHeader } from '../../lib/constructs/static-site/static-site';
import { REGION_COORDINATES } from '../../lib/edge-routing/region-coordinates';
import { GlobalStack } from '../../lib/stacks/global-stack';
import { nagErrors } from '../support/nag';

// The feature flags `cdk synth` runs with (cdk.json), so templates here match real ones.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { context: cdkJsonContext } = require('../../cdk.json') as {
  context: Record<string, unknown>;
};

const ACCOUNT = '111111111111';
const REGIONS = DEFAULT_CONFIG.regions.map((r) => r.region);
const dnsNameOf = (region: string) => `blueprint-alb-123.${region}.elb.amazonaws.com`;

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

/** The Global stack with the default config, each regional stack reduced to its load balancer. */
function synthDefault() {
  const app = new App({ context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': [] } });
  const regional = DEFAULT_CONFIG.regions.map((r) => {
    const stack = new Stack(app, `Blueprint-${r.region}`, {
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
    const relayToken = Fn.select(2, Fn.split('/', stack.stackId));
    return { region: r.region, loadBalancer, geoproximityBias: r.geoproximityBias, relayToken };
  });
  const global = new GlobalStack(app, 'Blueprint-Global', {
    env: { account: ACCOUNT, region: GLOBAL_STACK_REGION },
    crossRegionReferences: true,
    config: DEFAULT_CONFIG,
    regions: regional,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const violations = nagErrors(app);
  const assembly = app.synth();
  const template = Template.fromStack(global);
  return { global, violations, assembly, template };
}

function distributionConfigOf(template: Template): Record<string, unknown> {
  const [distribution] = Object.values(template.findResources('AWS::CloudFront::Distribution'));
  return (distribution.Properties as { DistributionConfig: Record<string, unknown> })
    .DistributionConfig;
}

function logicalIdOfType(template: Template, type: string, idPrefix = ''): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(idPrefix));
  expect(ids).toHaveLength(1);
  return ids[0];
}

/** The router's code, its tokens resolved as CloudFormation would (the store id as `STORE_ID`). */
function routerCodeOf(template: Template): string {
  const id = logicalIdOfType(template, 'AWS::CloudFront::Function', 'SiteApiRouter');
  const code = (template.toJSON() as { Resources: Resources }).Resources[id].Properties
    .FunctionCode as string | { 'Fn::Join': [string, unknown[]] };
  if (typeof code === 'string') return code;
  return code['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : 'STORE_ID')).join('');
}

interface RoutedRequest {
  headers: Record<string, { value: string }>;
}

/** Runs the router as CloudFront would, on a store holding `entries`; returns the selected origin. */
async function route(
  code: string,
  entries: Record<string, string>,
  viewer: { latitude: number; longitude: number; ip: string; spoofedIp?: string },
): Promise<{ originId?: string; request: RoutedRequest; storeIds: string[] }> {
  let originId: string | undefined;
  const storeIds: string[] = [];
  const cf = {
    kvs: (storeId?: string) => {
      storeIds.push(String(storeId));
      return {
        get: (key: string) =>
          key in entries
            ? Promise.resolve(entries[key])
            : Promise.reject(new Error(`Key ${key} not found`)),
        exists: (key: string) => Promise.resolve(key in entries),
      };
    },
    selectRequestOriginById: (id: string) => {
      originId = id;
    },
  };
  // CloudFront's `import cf from 'cloudfront'` becomes the fake above.
  const script = code.replace(/^\s*import\s+cf\s+from\s+['"]cloudfront['"];?\s*$/m, '');
  const handler = runInNewContext(`${script}\nhandler`, { cf }) as (
    event: unknown,
  ) => Promise<RoutedRequest>;
  const headers: Record<string, { value: string }> = {
    'cloudfront-viewer-latitude': { value: viewer.latitude.toFixed(4) },
    'cloudfront-viewer-longitude': { value: viewer.longitude.toFixed(4) },
  };
  if (viewer.spoofedIp) headers['x-viewer-ip'] = { value: viewer.spoofedIp };
  const request = await handler({
    version: '1.0',
    context: { eventType: 'viewer-request' },
    viewer: { ip: viewer.ip },
    request: { method: 'GET', uri: '/api/whoami', querystring: {}, headers, cookies: {} },
  });
  return { originId, request, storeIds };
}

describe('edge routing with the default config (no domain)', () => {
  const synth = synthDefault();
  const { template } = synth;

  test('passes every AwsSolutions check', () => {
    expect(synth.violations).toEqual([]);
  });

  test('/api/* runs a cloudfront-js-2.0 viewer-request function associated with the health KeyValueStore', () => {
    const storeId = logicalIdOfType(template, 'AWS::CloudFront::KeyValueStore');
    const routerId = logicalIdOfType(template, 'AWS::CloudFront::Function', 'SiteApiRouter');
    template.hasResourceProperties('AWS::CloudFront::Function', {
      FunctionConfig: {
        Runtime: 'cloudfront-js-2.0',
        Comment: Match.anyValue(),
        KeyValueStoreAssociations: [{ KeyValueStoreARN: { 'Fn::GetAtt': [storeId, 'Arn'] } }],
      },
      AutoPublish: true,
    });
    const api = (distributionConfigOf(template).CacheBehaviors as Record<string, unknown>[]).find(
      (b) => b.PathPattern === '/api/*',
    );
    expect(api?.FunctionAssociations).toEqual([
      { EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [routerId, 'FunctionARN'] } },
    ]);
    expect(api?.ViewerProtocolPolicy).toBe('redirect-to-https');
  });

  test('the KeyValueStore is seeded from an S3 import (KVS JSON format) with every region healthy', () => {
    const [store] = Object.values(template.findResources('AWS::CloudFront::KeyValueStore'));
    const source = (store.Properties as { ImportSource: { SourceType: string; SourceArn: string } })
      .ImportSource;
    expect(source.SourceType).toBe('S3');
    const key = /\/([0-9a-f]{64}\.json)$/.exec(source.SourceArn)?.[1];
    expect(key).toBeDefined();
    const seeded = JSON.parse(
      readFileSync(join(synth.assembly.directory, `asset.${key}`), 'utf8'),
    ) as unknown;
    expect(seeded).toEqual({ data: REGIONS.map((region) => ({ key: region, value: 'healthy' })) });
  });

  test('one origin per regional load balancer, with the id the router selects, over HTTP with its relay token', () => {
    const origins = distributionConfigOf(template).Origins as Record<string, unknown>[];
    for (const region of REGIONS) {
      const origin = origins.filter((o) => o.Id === `relay-${region}`);
      expect(origin).toHaveLength(1);
      expect(origin[0]).toMatchObject({
        DomainName: dnsNameOf(region),
        CustomOriginConfig: { OriginProtocolPolicy: 'http-only', OriginReadTimeout: 10 },
        OriginCustomHeaders: [expect.objectContaining({ HeaderName: 'x-blueprint-relay' })],
      });
      expect(JSON.stringify(origin[0].OriginCustomHeaders)).toContain(
        `"StackName":"Blueprint-${region}"`,
      );
    }
    // No load balancer has a second origin: /regions/<region>/* shares the region's.
    expect(origins.filter((o) => JSON.stringify(o.DomainName).includes('.elb.'))).toHaveLength(
      REGIONS.length,
    );
  });

  test('the router selects only origins the distribution has, sets x-viewer-ip over a spoofed one, and skips a region the store marks unhealthy', async () => {
    // GIVEN the router's code as deployed, and a viewer in Paris who claims another address
    const code = routerCodeOf(template);
    const ids = (distributionConfigOf(template).Origins as { Id: string }[]).map((o) => o.Id);
    const paris = { latitude: 48.86, longitude: 2.35, ip: '203.0.113.9', spoofedIp: '192.0.2.1' };
    // WHEN every region is healthy, and then when every region but one is unhealthy
    const healthy = await route(
      code,
      { 'us-east-1': 'healthy', 'eu-west-1': 'healthy', 'ap-northeast-1': 'healthy' },
      paris,
    );
    const onlyTokyo = await route(
      code,
      { 'us-east-1': 'unhealthy', 'eu-west-1': 'unhealthy', 'ap-northeast-1': 'healthy' },
      paris,
    );
    // THEN
    expect(ids).toContain(healthy.originId);
    expect(healthy.request.headers['x-viewer-ip']).toEqual({ value: '203.0.113.9' });
    expect(onlyTokyo.originId).toBe('relay-ap-northeast-1');
    expect(healthy.storeIds.every((id) => id === 'STORE_ID' || id === 'undefined')).toBe(true);
  });

  test('sends the router the viewer-location headers and the API the headers it reads, but not Host', () => {
    const policyId = logicalIdOfType(template, 'AWS::CloudFront::OriginRequestPolicy');
    template.hasResourceProperties('AWS::CloudFront::OriginRequestPolicy', {
      OriginRequestPolicyConfig: Match.objectLike({
        HeadersConfig: {
          HeaderBehavior: 'whitelist',
          Headers: Match.arrayWith([
            'CloudFront-Viewer-Latitude',
            'CloudFront-Viewer-Longitude',
            'x-viewer-ip',
          ]),
        },
      }),
    });
    const headers = (
      Object.values(template.findResources('AWS::CloudFront::OriginRequestPolicy'))[0]
        .Properties as { OriginRequestPolicyConfig: { HeadersConfig: { Headers: string[] } } }
    ).OriginRequestPolicyConfig.HeadersConfig.Headers;
    expect(headers.map((h) => h.toLowerCase())).not.toContain('host');
    const api = (distributionConfigOf(template).CacheBehaviors as Record<string, unknown>[]).find(
      (b) => b.PathPattern === '/api/*',
    );
    expect(api?.OriginRequestPolicyId).toEqual({ Ref: policyId });
  });

  test("an EventBridge rule on the region alarms' state changes, and a one-minute schedule, run the writer", () => {
    const writerId = logicalIdOfType(template, 'AWS::Lambda::Function', 'EdgeHealthWriter');
    const alarmIds = REGIONS.map((region) =>
      logicalIdOfType(
        template,
        'AWS::CloudWatch::Alarm',
        `RegionHealthAlarmsUnhealthy${region.replace(/-/g, '')}`,
      ),
    );
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        resources: alarmIds.map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] })),
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [writerId, 'Arn'] } })],
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [writerId, 'Arn'] } })],
    });
    // The writer knows each region's alarm by name, and the store by ARN.
    const writer = (template.toJSON() as { Resources: Resources }).Resources[writerId];
    const environment = JSON.stringify(writer.Properties.Environment);
    expect(environment).toContain('KVS_ARN');
    for (const id of alarmIds) expect(environment).toContain(`{"Ref":"${id}"}`);
  });

  test("the writer may only read and write this store's keys, and describe the region alarms", () => {
    const storeId = logicalIdOfType(template, 'AWS::CloudFront::KeyValueStore');
    const roleId = logicalIdOfType(template, 'AWS::IAM::Role', 'EdgeHealthWriterRole');
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Properties).includes(`"Ref":"${roleId}"`),
    );
    expect(policies).toHaveLength(1);
    const statements = (
      policies[0].Properties as { PolicyDocument: { Statement: Record<string, unknown>[] } }
    ).PolicyDocument.Statement;
    const byAction = (prefix: string) =>
      statements.filter((s) => [s.Action].flat().some((a) => String(a).startsWith(prefix)));
    expect(byAction('cloudfront-keyvaluestore:')).toEqual([
      {
        Effect: 'Allow',
        Action: [
          'cloudfront-keyvaluestore:DescribeKeyValueStore',
          'cloudfront-keyvaluestore:GetKey',
          'cloudfront-keyvaluestore:UpdateKeys',
        ],
        Resource: { 'Fn::GetAtt': [storeId, 'Arn'] },
      },
    ]);
    const describe = byAction('cloudwatch:');
    expect(describe).toHaveLength(1);
    expect(describe[0].Action).toBe('cloudwatch:DescribeAlarms');
    expect((describe[0].Resource as unknown[]).length).toBe(REGIONS.length);
    expect(JSON.stringify(describe[0].Resource)).not.toContain('"*"');
    // Nothing else but its logs and X-Ray (which has no resource-level permission).
    expect(
      statements
        .flatMap((s) => [s.Action].flat())
        .filter((a) => !/^(cloudfront-keyvaluestore|cloudwatch):/.test(String(a))),
    ).toEqual([
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
  });
});

describe('edge routing validation', () => {
  test('every region the blueprint accepts has a location', () => {
    expect(AWS_REGIONS.filter((r) => REGION_COORDINATES[r] === undefined)).toEqual([]);
  });

  test('EdgeHealth refuses no regions, a region twice and a sub-minute reconcile, together', () => {
    const stack = new Stack(new App(), 'S', { env: { account: ACCOUNT, region: 'us-east-1' } });
    const alarm = new Alarm(stack, 'A', {
      metric: new Metric({ namespace: 'N', metricName: 'M' }),
      threshold: 1,
      evaluationPeriods: 1,
    });
    expect(() => new EdgeHealth(stack, 'Empty', { regions: [] })).toThrow(
      'regions must list at least one region, got none',
    );
    expect(
      () =>
        new EdgeHealth(stack, 'Bad', {
          regions: [
            { region: 'eu-west-1', alarm },
            { region: 'eu-west-1', alarm },
          ],
          reconcileInterval: Duration.seconds(30),
        }),
    ).toThrow(
      /EdgeHealth has 2 problems:\n {2}- regions must name each region once, got eu-west-1 twice\n {2}- reconcileInterval must be whole minutes, at least 1 \(EventBridge's finest schedule\), got 30 s/,
    );
  });

  test('StaticSite refuses apiRegions without a store, with apiOrigin, and off-the-globe coordinates, together', () => {
    const stack = new Stack(new App(), 'S', { env: { account: ACCOUNT, region: 'us-east-1' } });
    const alb = ApplicationLoadBalancer.fromApplicationLoadBalancerAttributes(stack, 'Alb', {
      loadBalancerArn: `arn:aws:elasticloadbalancing:eu-west-1:${ACCOUNT}:loadbalancer/app/b/0123456789abcdef`,
      securityGroupId: 'sg-0123456789abcdef0',
      loadBalancerDnsName: dnsNameOf('eu-west-1'),
    });
    expect(
      () =>
        new StaticSite(stack, 'Site', {
          sourceDirectory: join(__dirname, '..', '..', 'web'),
          runtimeConfig: { apiUrl: '', healthToken: 'ready', regions: [] },
          apiOrigin: alb,
          apiRegions: [
            { region: 'eu-west-1', loadBalancer: alb, latitude: 95, longitude: -200, bias: 120 },
          ],
        }),
    ).toThrow(
      [
        'StaticSite has 5 problems:',
        '  - apiOrigin and apiRegions both serve /api/*; set one of them (apiRegions routes between regions)',
        "  - apiRegions need apiHealthStore, the KeyValueStore holding each region's health, got 1 regions without one",
        '  - latitude of eu-west-1 must be -90 to 90 degrees, got 95',
        '  - longitude of eu-west-1 must be -180 to 180 degrees, got -200',
        '  - bias of eu-west-1 must be an integer from -99 to 99, got 120',
      ].join('\n'),
    );
  });

  test('the viewer-address wrapper refuses router code with no single handler declaration', () => {
    expect(() => withViewerIpHeader('const handler = (e) => e.request;')).toThrow(
      'the API router code must declare "function handler(" exactly once, got 0; cannot add the x-viewer-ip header',
    );
  });
});
