import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { runInNewContext } from 'node:vm';

import { App, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import {
  ApplicationLoadBalancer,
  IApplicationLoadBalancer,
} from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { HostedZone } from 'aws-cdk-lib/aws-route53';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';

import { fingerprintSite } from '../../lib/constructs/static-site/site-files';
import { SiteReplicaBucket } from '../../lib/constructs/static-site/site-replica-bucket';
import {
  SiteRuntimeConfig,
  StaticSite,
  StaticSiteProps,
} from '../../lib/constructs/static-site/static-site';
import { nagErrors } from '../support/nag';

// The feature flags `cdk synth` runs with (cdk.json), so templates here match real ones.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { context: cdkJsonContext } = require('../../cdk.json') as {
  context: Record<string, unknown>;
};

const WEB = join(__dirname, '..', '..', 'web');
const ACCOUNT = '111111111111';
/** CloudFront's managed policies, by their fixed ids. */
const MANAGED = {
  securityHeaders: '67f7725c-6f97-4210-82d7-5512b31e9d03',
  cachingOptimized: '658327ea-f89d-4fab-a63d-7e88639e58f6',
  cachingDisabled: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad',
  allViewerExceptHostHeader: 'b689b0a8-53d0-40ab-baf2-68738e2966ac',
};
const RUNTIME_CONFIG: SiteRuntimeConfig = {
  apiUrl: 'https://api.example.net',
  healthToken: '"status":"ready"',
  regions: [{ region: 'eu-west-1', healthUrl: 'https://eu-west-1.api.example.net/health/ready' }],
};

interface Fixture {
  readonly app: App;
  readonly stack: Stack;
  readonly replicaStack: Stack;
  readonly replica: SiteReplicaBucket;
}

/** An edge stack in us-east-1 and a regional stack in eu-west-1 holding the replica bucket. */
function newFixture(): Fixture {
  const app = new App({ context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': [] } });
  const replicaStack = new Stack(app, 'Regional', {
    env: { account: ACCOUNT, region: 'eu-west-1' },
    crossRegionReferences: true,
  });
  const replica = new SiteReplicaBucket(replicaStack, 'SiteReplica');
  const stack = new Stack(app, 'Edge', {
    env: { account: ACCOUNT, region: 'us-east-1' },
    crossRegionReferences: true,
  });
  return { app, stack, replicaStack, replica };
}

function albIn(stack: Stack, region: string): IApplicationLoadBalancer {
  const id = `Alb-${region}`;
  const existing = stack.node.tryFindChild(id) as IApplicationLoadBalancer | undefined;
  return (
    existing ??
    ApplicationLoadBalancer.fromApplicationLoadBalancerAttributes(stack, id, {
      loadBalancerArn: `arn:aws:elasticloadbalancing:${region}:${ACCOUNT}:loadbalancer/app/blueprint/0123456789abcdef`,
      securityGroupId: 'sg-0123456789abcdef0',
      loadBalancerDnsName: `blueprint-alb-123.${region}.elb.amazonaws.com`,
      loadBalancerCanonicalHostedZoneId: 'Z35SXDOTRQ7X7K',
    })
  );
}

function siteIn(f: Fixture, props: Partial<StaticSiteProps> = {}): StaticSite {
  return new StaticSite(f.stack, 'Site', {
    sourceDirectory: WEB,
    runtimeConfig: RUNTIME_CONFIG,
    failoverBucket: f.replica.bucket,
    ...props,
  });
}

/** A site without a domain: the distribution relays the API and each region's readiness. */
function relayingSiteIn(f: Fixture): StaticSite {
  return siteIn(f, {
    runtimeConfig: {
      apiUrl: '',
      healthToken: '"status":"ready"',
      regions: ['us-east-1', 'eu-west-1'].map((region) => ({
        region,
        healthUrl: `/regions/${region}/health/ready`,
      })),
    },
    apiOrigin: albIn(f.stack, 'us-east-1'),
    regionOrigins: ['us-east-1', 'eu-west-1'].map((region) => ({
      region,
      loadBalancer: albIn(f.stack, region),
    })),
  });
}

function logicalIdOf(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as never);
}

interface RelayRequest {
  uri: string;
  headers: Record<string, { value: string }>;
}

/** The distribution's one CloudFront Function, run as CloudFront runs it. */
function relayFunction(template: Template): (event: unknown) => RelayRequest {
  const functions = Object.values(template.findResources('AWS::CloudFront::Function'));
  expect(functions).toHaveLength(1);
  const code = (functions[0].Properties as { FunctionCode: string }).FunctionCode;
  return runInNewContext(`${code}\nhandler`, {}) as (event: unknown) => RelayRequest;
}

function distributionConfigOf(template: Template): Record<string, unknown> {
  const [distribution] = Object.values(template.findResources('AWS::CloudFront::Distribution'));
  return (distribution.Properties as { DistributionConfig: Record<string, unknown> })
    .DistributionConfig;
}

/** Every file a BucketDeployment of `stack` uploads, by object key, read from the staged assets. */
function deployedFiles(app: App, stack: Stack, deploymentId: string): Map<string, string> {
  const outdir = app.synth().directory;
  const template = Template.fromStack(stack);
  const [deployment] = Object.entries(template.findResources('Custom::CDKBucketDeployment'))
    .filter(([id]) => id.startsWith(deploymentId))
    .map(([, r]) => r.Properties as { SourceObjectKeys: string[] });
  const files = new Map<string, string>();
  for (const key of deployment.SourceObjectKeys) {
    const root = join(outdir, `asset.${key.replace(/\.zip$/, '')}`);
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else files.set(relative(root, path), readFileSync(path, 'utf8'));
      }
    };
    walk(root);
  }
  return files;
}

function thrownBy(build: () => unknown): string {
  try {
    build();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('nothing was thrown');
}

describe('StaticSite bucket', () => {
  test('blocks public access, encrypts, keeps versions, refuses plain HTTP and logs access', () => {
    // GIVEN
    const f = newFixture();
    // WHEN
    const site = siteIn(f);
    // THEN
    const template = Template.fromStack(f.stack);
    const bucketId = logicalIdOf(f.stack, site.bucket);
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
        ],
      },
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: {
        DestinationBucketName: { Ref: logicalIdOf(f.stack, site.logBucket) },
        LogFilePrefix: 's3/',
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  test('replicates every object, deletions included, into the failover bucket', () => {
    // GIVEN
    const f = newFixture();
    // WHEN
    siteIn(f);
    // THEN
    Template.fromStack(f.stack).hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      ReplicationConfiguration: {
        Role: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SiteReplicationRole'), 'Arn'] },
        Rules: [
          Match.objectLike({
            Status: 'Enabled',
            Priority: 1,
            DeleteMarkerReplication: { Status: 'Enabled' },
            Destination: {
              Bucket: Match.objectLike({
                'Fn::GetStackOutput': Match.objectLike({
                  StackName: 'Regional',
                  Region: 'eu-west-1',
                }),
              }),
            },
          }),
        ],
      },
    });
  });
});

describe('StaticSite on cdk destroy', () => {
  test('empties and deletes the site and log buckets by default', () => {
    // GIVEN
    const f = newFixture();
    // WHEN
    const site = siteIn(f);
    // THEN
    const template = Template.fromStack(f.stack);
    const buckets = template.findResources('AWS::S3::Bucket');
    for (const bucket of [site.bucket, site.logBucket]) {
      const bucketId = logicalIdOf(f.stack, bucket);
      expect(buckets[bucketId]).toMatchObject({
        DeletionPolicy: 'Delete',
        UpdateReplacePolicy: 'Delete',
      });
      template.hasResourceProperties('Custom::S3AutoDeleteObjects', {
        BucketName: { Ref: bucketId },
      });
    }
  });

  test('keeps both buckets and their objects when asked to retain', () => {
    // GIVEN
    const f = newFixture();
    // WHEN
    siteIn(f, { removalPolicy: RemovalPolicy.RETAIN });
    // THEN
    const template = Template.fromStack(f.stack);
    expect(
      Object.keys(template.findResources('AWS::S3::Bucket', { DeletionPolicy: 'Retain' })),
    ).toHaveLength(2);
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
  });

  test('gives the deployment function a log group that expires and goes with the stack', () => {
    // GIVEN the cdk.json flags, under which the CDK would otherwise make a retained log group
    const f = newFixture();
    // WHEN
    siteIn(f, { deploymentLogRetention: RetentionDays.ONE_WEEK });
    // THEN
    const template = Template.fromStack(f.stack);
    const logGroups = template.findResources('AWS::Logs::LogGroup');
    expect(Object.values(logGroups)).toEqual([
      expect.objectContaining({
        DeletionPolicy: 'Delete',
        Properties: { RetentionInDays: 7 },
      }),
    ]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      LoggingConfig: { LogGroup: { Ref: Object.keys(logGroups)[0] } },
    });
  });
});

describe('StaticSite distribution', () => {
  test('reads both buckets through one Origin Access Control', () => {
    // GIVEN
    const f = newFixture();
    // WHEN
    siteIn(f);
    // THEN
    const template = Template.fromStack(f.stack);
    template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: {
        OriginAccessControlOriginType: 's3',
        SigningBehavior: 'always',
        SigningProtocol: 'sigv4',
        Name: Match.anyValue(),
        Description: Match.anyValue(),
      },
    });
    const oacId = Object.keys(template.findResources('AWS::CloudFront::OriginAccessControl'))[0];
    const origins = distributionConfigOf(template).Origins as Record<string, unknown>[];
    expect(origins).toHaveLength(2);
    for (const origin of origins) {
      expect(origin).toMatchObject({
        OriginAccessControlId: { 'Fn::GetAtt': [oacId, 'Id'] },
        S3OriginConfig: { OriginAccessIdentity: '' },
      });
    }
  });

  test('answers with the managed security-headers policy, compressed, over HTTPS only', () => {
    // GIVEN
    const f = newFixture();
    // WHEN
    siteIn(f);
    // THEN
    Template.fromStack(f.stack).hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultRootObject: 'index.html',
        DefaultCacheBehavior: Match.objectLike({
          ResponseHeadersPolicyId: MANAGED.securityHeaders,
          CachePolicyId: MANAGED.cachingOptimized,
          Compress: true,
          ViewerProtocolPolicy: 'redirect-to-https',
          AllowedMethods: ['GET', 'HEAD'],
        }),
        Logging: Match.objectLike({ Prefix: 'cloudfront/' }),
      }),
    });
  });

  test('fails over to the replica on 5xx, on the 403 an impaired S3 region answers, and on a missing object', () => {
    // GIVEN
    const f = newFixture();
    // WHEN
    siteIn(f);
    // THEN
    const config = distributionConfigOf(Template.fromStack(f.stack));
    const origins = config.Origins as { Id: string; DomainName: unknown }[];
    const primary = origins.find((o) => JSON.stringify(o.DomainName).includes('SiteBucket'));
    const fallback = origins.find((o) => JSON.stringify(o.DomainName).includes('GetStackOutput'));
    expect(primary).toBeDefined();
    expect(fallback?.DomainName).toMatchObject({
      'Fn::GetStackOutput': { StackName: 'Regional', Region: 'eu-west-1' },
    });
    expect(config.OriginGroups).toEqual({
      Quantity: 1,
      Items: [
        {
          Id: expect.any(String) as unknown,
          FailoverCriteria: {
            StatusCodes: { Items: [403, 404, 500, 502, 503, 504], Quantity: 6 },
          },
          Members: {
            Items: [{ OriginId: primary?.Id }, { OriginId: fallback?.Id }],
            Quantity: 2,
          },
        },
      ],
    });
    const group = (config.OriginGroups as { Items: { Id: string }[] }).Items[0];
    expect(config.DefaultCacheBehavior).toMatchObject({ TargetOriginId: group.Id });
  });

  test('serves from the primary bucket alone, without replication, when failover is off', () => {
    // GIVEN
    const f = newFixture();
    // WHEN
    siteIn(f, { failoverBucket: undefined });
    // THEN
    const template = Template.fromStack(f.stack);
    expect(distributionConfigOf(template).OriginGroups).toBeUndefined();
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      ReplicationConfiguration: Match.absent(),
    });
    template.resourcePropertiesCountIs(
      'AWS::IAM::Role',
      {
        AssumeRolePolicyDocument: Match.objectLike({
          Statement: [Match.objectLike({ Principal: { Service: 's3.amazonaws.com' } })],
        }),
      },
      0,
    );
  });

  test('rewrites no error into the page, so a WAF 403 or an API 404 on a relay stays what it is', () => {
    // GIVEN a site that relays the API
    const f = newFixture();
    // WHEN
    relayingSiteIn(f);
    // THEN no distribution-wide error response turns errors into a cached 200 text/html
    expect(distributionConfigOf(Template.fromStack(f.stack)).CustomErrorResponses).toBeUndefined();
  });

  test('uses an ACM certificate from us-east-1 and answers at the custom name', () => {
    // GIVEN
    const f = newFixture();
    const hostedZone = HostedZone.fromHostedZoneAttributes(f.stack, 'Zone', {
      hostedZoneId: 'Z0123456789ABCDEFGHIJ',
      zoneName: 'example.net',
    });
    // WHEN
    const site = siteIn(f, { domainName: 'www.example.net', hostedZone });
    // THEN
    const template = Template.fromStack(f.stack);
    template.hasResourceProperties('AWS::CertificateManager::Certificate', {
      DomainName: 'www.example.net',
      ValidationMethod: 'DNS',
      DomainValidationOptions: [
        { DomainName: 'www.example.net', HostedZoneId: 'Z0123456789ABCDEFGHIJ' },
      ],
    });
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        Aliases: ['www.example.net'],
        ViewerCertificate: Match.objectLike({
          MinimumProtocolVersion: 'TLSv1.2_2021',
          SslSupportMethod: 'sni-only',
        }),
      }),
    });
    for (const type of ['A', 'AAAA']) {
      template.hasResourceProperties('AWS::Route53::RecordSet', {
        Name: 'www.example.net.',
        Type: type,
        AliasTarget: Match.objectLike({
          DNSName: { 'Fn::GetAtt': [logicalIdOf(f.stack, site.distribution), 'DomainName'] },
        }),
      });
    }
    expect(site.url).toBe('https://www.example.net');
  });

  test('keeps the cloudfront.net name and creates no certificate without a domain', () => {
    const f = newFixture();
    siteIn(f);
    Template.fromStack(f.stack).resourceCountIs('AWS::CertificateManager::Certificate', 0);
  });
});

describe('StaticSite relays for load balancers without TLS', () => {
  test('send /api/* to the API and /regions/<region>/* to each region over HTTP, uncached', () => {
    // GIVEN
    const f = newFixture();
    // WHEN
    relayingSiteIn(f);
    // THEN
    const config = distributionConfigOf(Template.fromStack(f.stack));
    const origins = config.Origins as { Id: string; DomainName: unknown }[];
    const behaviors = config.CacheBehaviors as Record<string, unknown>[];
    const originOf = (pattern: string) => {
      const behavior = behaviors.find((b) => b.PathPattern === pattern);
      return origins.find((o) => o.Id === behavior?.TargetOriginId);
    };
    expect(behaviors.map((b) => b.PathPattern)).toEqual([
      '/api/*',
      '/regions/us-east-1/*',
      '/regions/eu-west-1/*',
    ]);
    for (const behavior of behaviors) {
      expect(behavior).toMatchObject({
        CachePolicyId: MANAGED.cachingDisabled,
        OriginRequestPolicyId: MANAGED.allViewerExceptHostHeader,
        ResponseHeadersPolicyId: MANAGED.securityHeaders,
        ViewerProtocolPolicy: 'redirect-to-https',
      });
    }
    expect(originOf('/api/*')).toMatchObject({
      DomainName: 'blueprint-alb-123.us-east-1.elb.amazonaws.com',
      CustomOriginConfig: { OriginProtocolPolicy: 'http-only' },
    });
    expect(originOf('/regions/eu-west-1/*')).toMatchObject({
      DomainName: 'blueprint-alb-123.eu-west-1.elb.amazonaws.com',
      CustomOriginConfig: { OriginProtocolPolicy: 'http-only', OriginReadTimeout: 3 },
      ConnectionAttempts: 1,
    });
  });

  test('strip /regions/<region> from the path before it reaches the region', () => {
    // GIVEN the CloudFront Function every relay behavior runs on viewer request
    const f = newFixture();
    relayingSiteIn(f);
    const template = Template.fromStack(f.stack);
    const handler = relayFunction(template);
    const event = (uri: string) => ({
      viewer: { ip: '198.51.100.7' },
      request: { uri, headers: {} },
    });
    // WHEN / THEN
    expect(handler(event('/regions/eu-west-1/health/ready')).uri).toBe('/health/ready');
    expect(handler(event('/regions/ap-northeast-1')).uri).toBe('/');
    expect(handler(event('/api/whoami')).uri).toBe('/api/whoami');
    for (const behavior of distributionConfigOf(template).CacheBehaviors as Record<
      string,
      unknown
    >[]) {
      expect(behavior.FunctionAssociations).toEqual([
        { EventType: 'viewer-request', FunctionARN: expect.anything() as unknown },
      ]);
    }
  });

  test("tell the load balancer the viewer's address, overwriting a spoofed one, so its WAF limits per viewer", () => {
    // GIVEN the viewer-request function, and a viewer that sends its own x-viewer-ip
    const f = newFixture();
    relayingSiteIn(f);
    const handler = relayFunction(Template.fromStack(f.stack));
    // WHEN
    const request = handler({
      viewer: { ip: '203.0.113.9' },
      request: { uri: '/api/whoami', headers: { 'x-viewer-ip': { value: '192.0.2.1' } } },
    });
    // THEN the load balancer sees the address CloudFront saw
    expect(request.headers['x-viewer-ip']).toEqual({ value: '203.0.113.9' });
  });

  test('send each load balancer its relay token, so its WAF can tell relayed requests from direct ones', () => {
    // GIVEN relays whose load balancers have tokens
    const f = newFixture();
    siteIn(f, {
      runtimeConfig: { ...RUNTIME_CONFIG, apiUrl: '' },
      apiOrigin: albIn(f.stack, 'us-east-1'),
      apiOriginRelayToken: 'token-us-east-1',
      regionOrigins: ['us-east-1', 'eu-west-1'].map((region) => ({
        region,
        loadBalancer: albIn(f.stack, region),
        relayToken: `token-${region}`,
      })),
    });
    // THEN every relay origin carries its own region's token
    const origins = distributionConfigOf(Template.fromStack(f.stack)).Origins as {
      DomainName: unknown;
      OriginCustomHeaders?: { HeaderName: string; HeaderValue: string }[];
    }[];
    const relays = origins.filter((o) => JSON.stringify(o.DomainName).includes('elb'));
    expect(relays).toHaveLength(3);
    for (const origin of relays) {
      const region = /\.([a-z0-9-]+)\.elb\./.exec(String(origin.DomainName))?.[1];
      expect(origin.OriginCustomHeaders).toEqual([
        { HeaderName: 'x-blueprint-relay', HeaderValue: `token-${region}` },
      ]);
    }
  });
});

describe('StaticSite deployment', () => {
  test('caches hashed assets for a year and the page and config for a minute, invalidating on deploy', () => {
    // GIVEN
    const f = newFixture();
    // WHEN
    const site = siteIn(f);
    // THEN
    const template = Template.fromStack(f.stack);
    template.hasResourceProperties('Custom::CDKBucketDeployment', {
      DestinationBucketName: { Ref: logicalIdOf(f.stack, site.bucket) },
      Prune: false,
      SystemMetadata: { 'cache-control': 'public, max-age=31536000, immutable' },
      DistributionId: Match.absent(),
    });
    template.hasResourceProperties('Custom::CDKBucketDeployment', {
      DestinationBucketName: { Ref: logicalIdOf(f.stack, site.bucket) },
      Prune: true,
      Exclude: ['assets/*'],
      SystemMetadata: { 'cache-control': 'public, max-age=0, s-maxage=60, must-revalidate' },
      DistributionId: { Ref: logicalIdOf(f.stack, site.distribution) },
      DistributionPaths: ['/*'],
    });
  });

  test('writes no file before the replication role may replicate it, or the replica would never get it', () => {
    // GIVEN a site with a failover bucket
    const f = newFixture();
    // WHEN
    siteIn(f);
    // THEN both deployments wait for the replication role and its policy
    const template = Template.fromStack(f.stack);
    const roleIds = Object.entries(template.findResources('AWS::IAM::Role'))
      .filter(([, r]) => JSON.stringify(r).includes('s3.amazonaws.com'))
      .map(([id]) => id);
    expect(roleIds).toHaveLength(1);
    const policyIds = Object.entries(template.findResources('AWS::IAM::Policy'))
      .filter(([, p]) => JSON.stringify(p).includes(roleIds[0]))
      .map(([id]) => id);
    expect(policyIds).toHaveLength(1);
    const deployments = template.findResources('Custom::CDKBucketDeployment');
    const dependsOn = (prefix: string) => {
      const entry = Object.entries(deployments).find(([id]) => id.startsWith(prefix));
      expect(entry).toBeDefined();
      return (entry?.[1] as { DependsOn?: string[] }).DependsOn ?? [];
    };
    // the assets first, directly; the page after the assets
    const assets = dependsOn('SiteDeployAssetsCustomResource');
    expect(assets).toEqual(expect.arrayContaining([roleIds[0], policyIds[0]]));
    expect(dependsOn('SiteDeployPageCustomResource')).toEqual(
      expect.arrayContaining([expect.stringMatching(/^SiteDeployAssetsCustomResource/)]),
    );
  });

  test('uploads the page pointing at hashed assets, and config.json with the runtime config', () => {
    // GIVEN
    const f = newFixture();
    // WHEN
    siteIn(f);
    // THEN
    const assets = deployedFiles(f.app, f.stack, 'SiteDeployAssets');
    const page = deployedFiles(f.app, f.stack, 'SiteDeployPage');
    const appJs = [...assets.keys()].find((k) => /^assets\/app\.[0-9a-f]{12}\.js$/.test(k));
    expect(appJs).toBeDefined();
    expect(assets.get(appJs as string)).toBe(readFileSync(join(WEB, 'app.js'), 'utf8'));
    expect(page.get('index.html')).toContain(`src="/${appJs}"`);
    expect(JSON.parse(page.get('config.json') as string)).toEqual(RUNTIME_CONFIG);
  });
});

describe('StaticSite validation', () => {
  test('names a domain without a zone, a failover bucket in its own region and a bad API URL together', () => {
    // GIVEN a failover bucket in the site's own region
    const f = newFixture();
    const sameRegion = new Bucket(f.stack, 'SameRegion');
    // WHEN
    const message = thrownBy(() =>
      siteIn(f, {
        domainName: 'www.example.net',
        failoverBucket: sameRegion,
        runtimeConfig: { ...RUNTIME_CONFIG, apiUrl: 'https://api.example.net/' },
      }),
    );
    // THEN
    expect(message).toContain('StaticSite has 3 problems');
    expect(message).toContain(
      'hostedZone is required with domainName (it validates the certificate and holds the alias), got domainName "www.example.net" without one',
    );
    expect(message).toContain(
      'failoverBucket must be in another region than the site bucket (us-east-1), got one in us-east-1',
    );
    expect(message).toContain(
      'runtimeConfig.apiUrl must not end with "/" (the page appends /api/whoami), got "https://api.example.net/"',
    );
  });

  test('refuses a custom domain outside us-east-1, a zone without a name, and a same-origin API nobody serves', () => {
    // GIVEN a stack where CloudFront takes no certificates from
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Elsewhere', { env: { account: ACCOUNT, region: 'eu-west-1' } });
    const hostedZone = HostedZone.fromHostedZoneAttributes(stack, 'Zone', {
      hostedZoneId: 'Z0123456789ABCDEFGHIJ',
      zoneName: 'example.net',
    });
    // WHEN
    const elsewhere = thrownBy(
      () =>
        new StaticSite(stack, 'Site', {
          sourceDirectory: WEB,
          runtimeConfig: { ...RUNTIME_CONFIG, apiUrl: '' },
          domainName: 'www.example.net',
          hostedZone,
        }),
    );
    const zoneOnly = thrownBy(
      () =>
        new StaticSite(stack, 'ZoneOnly', {
          sourceDirectory: WEB,
          runtimeConfig: RUNTIME_CONFIG,
          hostedZone,
        }),
    );
    // THEN
    expect(elsewhere).toContain(
      'domainName needs a stack in us-east-1, where CloudFront takes certificates from, got a stack in eu-west-1',
    );
    expect(elsewhere).toContain(
      "runtimeConfig.apiUrl is empty (the site's own origin) but neither apiOrigin nor apiRegions serves /api/* there; set one of them",
    );
    expect(zoneOnly).toContain(
      'domainName is required with hostedZone: name the record the site answers at',
    );
  });

  test('refuses a region relayed twice or named other than by its code', () => {
    const f = newFixture();
    const loadBalancer = albIn(f.stack, 'eu-west-1');
    const message = thrownBy(() =>
      siteIn(f, {
        regionOrigins: [
          { region: 'eu-west-1', loadBalancer },
          { region: 'eu-west-1', loadBalancer },
          { region: 'EU West', loadBalancer },
        ],
      }),
    );
    expect(message).toContain('regionOrigins must name each region once, got eu-west-1 twice');
    expect(message).toContain(
      'regionOrigins region must be a region code such as "eu-west-1", got "EU West"',
    );
  });
});

describe('SiteReplicaBucket', () => {
  test('is private, encrypted, versioned and refuses plain HTTP', () => {
    // GIVEN
    const f = newFixture();
    // WHEN the site replicates into it
    siteIn(f);
    // THEN
    const template = Template.fromStack(f.replicaStack);
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: Match.objectLike({
        BlockPublicAcls: true,
        RestrictPublicBuckets: true,
      }),
      BucketEncryption: Match.anyValue(),
      VersioningConfiguration: { Status: 'Enabled' },
    });
  });

  test('is emptied and deleted with its stack by default', () => {
    // GIVEN
    const f = newFixture();
    // WHEN the site replicates into it
    siteIn(f);
    // THEN
    const template = Template.fromStack(f.replicaStack);
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Delete',
    });
    template.hasResourceProperties('Custom::S3AutoDeleteObjects', {
      BucketName: { Ref: logicalIdOf(f.replicaStack, f.replica.bucket) },
    });
  });

  test('outlives its stack, objects and all, when asked to retain', () => {
    // GIVEN
    const stack = new Stack(new App(), 'Regional', { env: { region: 'eu-west-1' } });
    // WHEN
    new SiteReplicaBucket(stack, 'SiteReplica', { removalPolicy: RemovalPolicy.RETAIN });
    // THEN
    const template = Template.fromStack(stack);
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain' });
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
  });

  test('lets in only this account’s CloudFront distributions, so it needs no distribution id', () => {
    // GIVEN
    const f = newFixture();
    // WHEN the site reads from it
    siteIn(f);
    // THEN
    Template.fromStack(f.replicaStack).hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          Match.objectLike({
            Sid: 'AllowCloudFrontOriginAccessControl',
            Effect: 'Allow',
            Principal: { Service: 'cloudfront.amazonaws.com' },
            Action: 's3:GetObject',
            Condition: {
              StringEquals: { 'AWS:SourceAccount': ACCOUNT },
              ArnLike: {
                'AWS:SourceArn': {
                  'Fn::Join': [
                    '',
                    ['arn:', { Ref: 'AWS::Partition' }, `:cloudfront::${ACCOUNT}:distribution/*`],
                  ],
                },
              },
            },
          }),
        ]),
      },
    });
  });
});

describe('the static site under cdk-nag', () => {
  test('passes every AwsSolutions check with relays, failover and the replica stack', () => {
    // GIVEN
    const f = newFixture();
    relayingSiteIn(f);
    Validations.of(f.app).addPlugins(new AwsSolutionsChecks(f.app));
    // WHEN / THEN
    expect(nagErrors(f.app)).toEqual([]);
  });

  test('passes every AwsSolutions check with a custom domain', () => {
    // GIVEN
    const f = newFixture();
    const hostedZone = HostedZone.fromHostedZoneAttributes(f.stack, 'Zone', {
      hostedZoneId: 'Z0123456789ABCDEFGHIJ',
      zoneName: 'example.net',
    });
    siteIn(f, { domainName: 'www.example.net', hostedZone });
    Validations.of(f.app).addPlugins(new AwsSolutionsChecks(f.app));
    // WHEN / THEN
    expect(nagErrors(f.app)).toEqual([]);
  });
});

describe('fingerprintSite', () => {
  function siteFolder(files: Record<string, string>): string {
    const dir = mkdtempSync(join(tmpdir(), 'site-'));
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    return dir;
  }

  test('names each asset by its content and points the page at the hashed names', () => {
    // GIVEN
    const dir = siteFolder({
      'index.html':
        '<link href="./style.css"><script src="app.js"></script><a href="https://example.org/app.js">',
      'app.js': 'console.log(1);',
      'style.css': 'body{}',
    });
    // WHEN
    const site = fingerprintSite(dir);
    // THEN
    const keys = site.assets.map((a) => a.key);
    expect(keys).toEqual([
      expect.stringMatching(/^assets\/app\.[0-9a-f]{12}\.js$/),
      expect.stringMatching(/^assets\/style\.[0-9a-f]{12}\.css$/),
    ]);
    expect(site.indexHtml).toBe(
      `<link href="/${keys[1]}"><script src="/${keys[0]}"></script><a href="https://example.org/app.js">`,
    );
  });

  test('changes an asset’s name when, and only when, its content changes', () => {
    const keyOf = (js: string) =>
      fingerprintSite(siteFolder({ 'index.html': '', 'app.js': js })).assets[0].key;
    expect(keyOf('a')).toBe(keyOf('a'));
    expect(keyOf('a')).not.toBe(keyOf('b'));
  });

  test('leaves config.json to the deployment', () => {
    const site = fingerprintSite(siteFolder({ 'index.html': '', 'config.json': '{}' }));
    expect(site.assets).toEqual([]);
  });

  test('refuses a folder without index.html, and files that are not text', () => {
    expect(thrownBy(() => fingerprintSite(siteFolder({ 'app.js': '' })))).toMatch(
      /^sourceDirectory must contain index.html, got .* without one$/,
    );
    expect(
      thrownBy(() => fingerprintSite(siteFolder({ 'index.html': '', 'logo.png': 'x' }))),
    ).toContain('logo.png: only text files');
  });
});
