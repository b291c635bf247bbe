import { Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import { Certificate, CertificateValidation } from 'aws-cdk-lib/aws-certificatemanager';
import {
  AllowedMethods,
  BehaviorOptions,
  CachePolicy,
  Distribution,
  Function as CloudFrontFunction,
  FunctionCode,
  FunctionEventType,
  FunctionRuntime,
  HttpVersion,
  IKeyValueStore,
  IOrigin,
  OriginProtocolPolicy,
  OriginRequestCookieBehavior,
  OriginRequestHeaderBehavior,
  OriginRequestPolicy,
  OriginRequestQueryStringBehavior,
  ResponseHeadersPolicy,
  S3OriginAccessControl,
  SecurityPolicyProtocol,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin, OriginGroup, S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { ILoadBalancerV2 } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { AaaaRecord, ARecord, IHostedZone, RecordTarget } from 'aws-cdk-lib/aws-route53';
import { CloudFrontTarget } from 'aws-cdk-lib/aws-route53-targets';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  IBucket,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, CacheControl, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';

import { buildApiRouterFunctionCode } from '../../edge-routing/function-code';
import type { EdgeRegion } from '../../edge-routing/geoproximity';
import { RELAY_TOKEN_HEADER, VIEWER_IP_HEADER } from '../load-balancer/relay-headers';

import { acknowledgeExpectedWildcards } from './expected-wildcards';
import { ReplicaBucketOrigin } from './replica-bucket-origin';
import { fingerprintSite, RUNTIME_CONFIG_FILE } from './site-files';

/** One region as the page shows it. */
export interface SiteRegion {
  /** e.g. `eu-west-1`. */
  readonly region: string;
  /** Where the page reads the region's readiness, e.g. `https://eu-west-1.api.example.com/health/ready`. */
  readonly healthUrl: string;
}

/** What the page reads from `/config.json`. */
export interface SiteRuntimeConfig {
  /**
   * Base URL of the API, without a trailing slash; the page calls `<apiUrl>/api/whoami`. An empty
   * string means the site's own origin (see `StaticSiteProps.apiOrigin`).
   */
  readonly apiUrl: string;
  /** Text a healthy readiness body contains, as in the Route 53 string-match checks. */
  readonly healthToken: string;
  /** Every region, in the order the page lists them. */
  readonly regions: readonly SiteRegion[];
}

/** A region's load balancer that the distribution forwards `/regions/<region>/*` to. */
export interface SiteRegionOrigin {
  readonly region: string;
  readonly loadBalancer: ILoadBalancerV2;
  /**
   * Sent to the load balancer in the `x-blueprint-relay` header, so that its WAF can tell
   * relayed requests from direct ones (see `PublicLoadBalancer.relayToken`).
   * @default - no token header
   */
  readonly relayToken?: string;
}

/**
 * A region the distribution's `/api/*` path routes to: a viewer's request goes to the nearest
 * region whose entry in `apiHealthStore` does not say `unhealthy`, by Route 53's geoproximity rule.
 */
export interface SiteApiRegion extends SiteRegionOrigin {
  /** Where the region is, in degrees north (-90..90). */
  readonly latitude: number;
  /** Where the region is, in degrees east (-180..180). */
  readonly longitude: number;
  /**
   * Geoproximity bias, -99..99, as in Route 53: positive grows the region's catchment.
   * @default 0
   */
  readonly bias?: number;
  /**
   * A name on the load balancer's certificate (e.g. `eu-west-1.api.example.com`): the
   * distribution then reaches the region over HTTPS at that name.
   * @default - the load balancer's own name, over plain HTTP (it has no certificate CloudFront
   * would trust for that name)
   */
  readonly originDomainName?: string;
}

export interface StaticSiteProps {
  /** The folder holding `index.html` and the files it references (see `fingerprintSite`). */
  readonly sourceDirectory: string;
  /** Written to `/config.json` next to the page. */
  readonly runtimeConfig: SiteRuntimeConfig;
  /**
   * A bucket in another region to replicate the site into and fail over to when the primary
   * bucket's region does not answer. Use a `SiteReplicaBucket`: its policy already admits this
   * account's distributions through Origin Access Control.
   * @default - no replica and no origin failover
   */
  readonly failoverBucket?: IBucket;
  /**
   * A custom name for the site, e.g. `www.example.com`. Requires `hostedZone` and a stack in
   * us-east-1 (CloudFront takes certificates only from there).
   * @default - the site answers only at the distribution's `*.cloudfront.net` name
   */
  readonly domainName?: string;
  /**
   * The zone that validates the certificate and holds the alias records for `domainName`.
   * @default - none; required when `domainName` is set
   */
  readonly hostedZone?: IHostedZone;
  /**
   * A load balancer that answers `/api/*` on the distribution's own name, over plain HTTP. For
   * load balancers with no certificate: a page served over HTTPS may not call plain HTTP, so the
   * distribution relays the calls. Set `runtimeConfig.apiUrl` to `''` to use it.
   * @default - the distribution serves no `/api/*` path
   */
  readonly apiOrigin?: ILoadBalancerV2;
  /**
   * Sent to `apiOrigin` in the `x-blueprint-relay` header (see `SiteRegionOrigin.relayToken`).
   * @default - no token header
   */
  readonly apiOriginRelayToken?: string;
  /**
   * Load balancers that answer `/api/*` on the distribution's own name, over plain HTTP like
   * `apiOrigin`, chosen per request at the edge: a viewer-request CloudFront Function sends each
   * request to the nearest region (geoproximity, with each region's bias) whose entry in
   * `apiHealthStore` is not `unhealthy`. Instead of `apiOrigin`; requires `apiHealthStore`. Each
   * region also answers at `/regions/<region>/*`, as with `regionOrigins` (the routing function
   * can select only origins that a behavior of the distribution targets).
   * @default - `/api/*` goes to `apiOrigin` alone, if set
   */
  readonly apiRegions?: readonly SiteApiRegion[];
  /**
   * The KeyValueStore holding each `apiRegions` region's health under its name (`healthy` or
   * `unhealthy`), which the routing function reads.
   * @default - none; required with `apiRegions`
   */
  readonly apiHealthStore?: IKeyValueStore;
  /**
   * Load balancers the distribution relays `/regions/<region>/<path>` to (as `/<path>`), over
   * plain HTTP, so the page can read each region's readiness from the site's own name.
   * @default - the distribution serves no `/regions/*` paths
   */
  readonly regionOrigins?: readonly SiteRegionOrigin[];
  /**
   * What happens to the site and log buckets when they leave the stack. With `DESTROY` both are
   * emptied first (every object version), so `cdk destroy` leaves nothing behind; with `RETAIN`
   * or `SNAPSHOT` they and their objects outlive the stack (and keep being billed for storage).
   * @default RemovalPolicy.DESTROY - the page and its assets are rebuilt from `sourceDirectory` on
   * every deploy, and the access logs expire after 90 days anyway
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * How long the log group of the CDK's file-deployment function keeps its logs.
   * @default RetentionDays.ONE_MONTH
   */
  readonly deploymentLogRetention?: RetentionDays;
}

/** Hashed file names change with their content, so a year-long cache is never stale. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** The page and its config: browsers revalidate each time; CloudFront keeps them a minute. */
const SHORT = 'public, max-age=0, s-maxage=60, must-revalidate';
const CERTIFICATE_REGION = 'us-east-1';
/** What makes the origin group try the replica bucket. */
export const FAILOVER_STATUS_CODES = [403, 404, 500, 502, 503, 504] as const;

/**
 * The static site: a private S3 bucket (versioned, encrypted, TLS-only) behind CloudFront with
 * Origin Access Control, AWS's managed security-headers policy and compression.
 * Hashed assets are cached for a year and `index.html`/`config.json` for a minute; every deploy
 * invalidates the distribution. With `failoverBucket`, the bucket replicates into it and an origin
 * group fails over to it on 403, 404 and 5xx or when the primary region does not answer. By default
 * `cdk destroy` empties and deletes both buckets and the deployment function's log group.
 */
export class StaticSite extends Construct {
  public readonly bucket: Bucket;
  public readonly logBucket: Bucket;
  public readonly distribution: Distribution;
  /** `https://<domainName or the distribution's name>`. */
  public readonly url: string;
  /** The viewer-request function that routes `/api/*` between `apiRegions`; only with them. */
  public readonly apiRouter?: CloudFrontFunction;

  constructor(scope: Construct, id: string, props: StaticSiteProps) {
    super(scope, id);
    validate(this, props);
    const site = fingerprintSite(props.sourceDirectory);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;
    const autoDeleteObjects = removalPolicy === RemovalPolicy.DESTROY;

    this.logBucket = new Bucket(this, 'LogBucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // CloudFront standard logging writes with ACLs.
      objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy,
      autoDeleteObjects,
    });
    Validations.of(this.logBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This is the access-log bucket of the site bucket and the distribution; logging it into ' +
        'itself would log every log delivery.',
    });

    // Our own role rather than the bucket's implicit one, so its wildcards can be acknowledged.
    const replicationRole = props.failoverBucket
      ? new Role(this, 'ReplicationRole', {
          assumedBy: new ServicePrincipal('s3.amazonaws.com'),
          description: 'S3 replicates the static site into its failover bucket',
        })
      : undefined;
    this.bucket = new Bucket(this, 'Bucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.logBucket,
      serverAccessLogsPrefix: 's3/',
      removalPolicy,
      autoDeleteObjects,
      replicationRole,
      replicationRules: props.failoverBucket
        ? [
            {
              id: 'ToFailoverRegion',
              destination: props.failoverBucket,
              priority: 1,
              deleteMarkerReplication: true,
            },
          ]
        : undefined,
    });

    if (replicationRole && props.failoverBucket) {
      this.bucket.grantReplicationPermission(replicationRole, {
        destinations: [{ bucket: props.failoverBucket }],
      });
      acknowledgeExpectedWildcards(
        replicationRole,
        {
          resources: [this.bucket.arnForObjects('*'), props.failoverBucket.arnForObjects('*')],
        },
        'Replication reads every object version of the site bucket and writes it into the ' +
          'failover bucket: object ARNs of exactly these two buckets.',
      );
    }

    const originAccessControl = new S3OriginAccessControl(this, 'OriginAccessControl', {
      description: 'CloudFront reads the site buckets',
    });
    const primary = S3BucketOrigin.withOriginAccessControl(this.bucket, { originAccessControl });
    const origin: IOrigin = props.failoverBucket
      ? new OriginGroup({
          primaryOrigin: primary,
          fallbackOrigin: new ReplicaBucketOrigin(props.failoverBucket, originAccessControl),
          // An impaired S3 region answers 403 as well as 5xx, and an object missing from the
          // primary answers 403 (no ListBucket) or 404: the replica may still have it.
          fallbackStatusCodes: [...FAILOVER_STATUS_CODES],
        })
      : primary;

    const certificate =
      props.domainName !== undefined && props.hostedZone !== undefined
        ? new Certificate(this, 'Certificate', {
            domainName: props.domainName,
            validation: CertificateValidation.fromDns(props.hostedZone),
          })
        : undefined;

    const relays = this.relayBehaviors(props);
    this.apiRouter = relays.apiRouter;
    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'Static site of the multi-region blueprint',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin,
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: ResponseHeadersPolicy.SECURITY_HEADERS,
        compress: true,
      },
      additionalBehaviors: relays.behaviors,
      // No error-page rewriting: the page has no client-side routes, and a distribution-wide
      // rewrite would turn a WAF 403 or an API 404 on the relays into a cached 200 text/html.
      httpVersion: HttpVersion.HTTP2_AND_3,
      minimumProtocolVersion: certificate ? SecurityPolicyProtocol.TLS_V1_2_2021 : undefined,
      domainNames: certificate ? [props.domainName as string] : undefined,
      certificate,
      enableLogging: true,
      logBucket: this.logBucket,
      logFilePrefix: 'cloudfront/',
    });
    this.acknowledgeDistributionChoices(
      certificate !== undefined,
      props.apiOrigin !== undefined ||
        (props.apiRegions ?? []).some((r) => r.originDomainName === undefined) ||
        (props.regionOrigins ?? []).length > 0,
    );

    if (certificate && props.hostedZone) {
      const target = RecordTarget.fromAlias(new CloudFrontTarget(this.distribution));
      const alias = { zone: props.hostedZone, recordName: props.domainName, target };
      new ARecord(this, 'AliasRecord', alias);
      new AaaaRecord(this, 'AliasRecordIpv6', alias);
    }
    this.url = `https://${props.domainName ?? this.distribution.distributionDomainName}`;

    // Both deployments share the CDK's one deployment function per stack; without a log group of
    // our own, Lambda (or the CDK, under @aws-cdk/aws-lambda:useCdkManagedLogGroup) would create
    // one that outlives the stack.
    const deploymentLogs = new LogGroup(this, 'DeploymentLogs', {
      retention: props.deploymentLogRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Assets first, so a new page never names a file that is not there yet. Old hashed assets
    // stay (no prune) for browsers still holding the previous page.
    const assets = new BucketDeployment(this, 'DeployAssets', {
      logGroup: deploymentLogs,
      sources: site.assets.map((file) => Source.data(file.key, file.content)),
      destinationBucket: this.bucket,
      prune: false,
      cacheControl: [CacheControl.fromString(IMMUTABLE)],
    });
    const pages = new BucketDeployment(this, 'DeployPage', {
      logGroup: deploymentLogs,
      sources: [
        Source.data('index.html', site.indexHtml),
        Source.jsonData(RUNTIME_CONFIG_FILE, props.runtimeConfig),
      ],
      destinationBucket: this.bucket,
      exclude: ['assets/*'],
      cacheControl: [CacheControl.fromString(SHORT)],
      distribution: this.distribution,
      distributionPaths: ['/*'],
    });
    pages.node.addDependency(assets);
    // S3 replicates an object only if the role may when it is written: objects written before the
    // role's policy exists would never reach the replica.
    if (replicationRole) assets.node.addDependency(replicationRole);
    this.acknowledgeDeploymentHandler(pages);
  }

  /**
   * `/api/*` and `/regions/<region>/*` relayed to load balancers over plain HTTP, never cached. A
   * region's load balancer is one origin (id `relay-<region>`) that both paths share.
   */
  private relayBehaviors(props: StaticSiteProps): {
    behaviors: Record<string, BehaviorOptions>;
    apiRouter?: CloudFrontFunction;
  } {
    const behaviors: Record<string, BehaviorOptions> = {};
    const apiRegions = props.apiRegions ?? [];
    if (!props.apiOrigin && apiRegions.length === 0 && (props.regionOrigins ?? []).length === 0) {
      return { behaviors };
    }
    let relayFunction: CloudFrontFunction | undefined;
    // Created on first use: a site whose only relay is the API router has no need of it.
    const relayRequest = (): CloudFrontFunction =>
      (relayFunction ??= new CloudFrontFunction(this, 'RelayViewerRequest', {
        comment: `Relays carry the viewer's address in ${VIEWER_IP_HEADER}; /regions/<region>/<path> goes to that region as /<path>`,
        code: FunctionCode.fromInline(
          [
            'function handler(event) {',
            '  var request = event.request;',
            // Replaces whatever the viewer sent under this name: only CloudFront's value counts.
            `  request.headers['${VIEWER_IP_HEADER}'] = { value: event.viewer.ip };`,
            "  request.uri = request.uri.replace(/^\\/regions\\/[a-z0-9-]+/, '') || '/';",
            '  return request;',
            '}',
          ].join('\n'),
        ),
      }));
    const apiRegionNames = new Set(apiRegions.map((r) => r.region));
    const origins = new Map<string, IOrigin>();
    const originOf = (
      region: string | undefined,
      loadBalancer: ILoadBalancerV2,
      relayToken: string | undefined,
      httpsDomainName?: string,
    ): IOrigin => {
      const cached = region === undefined ? undefined : origins.get(region);
      if (cached) return cached;
      const api = region === undefined || apiRegionNames.has(region);
      // The API waits up to 10 s for an answer; readiness answers fast or the region counts as
      // down (3 s). A region the API routes to gets one origin for both, with the API's read timeout.
      const origin = new HttpOrigin(httpsDomainName ?? loadBalancer.loadBalancerDnsName, {
        originId: region !== undefined && api ? relayOriginId(region) : undefined,
        protocolPolicy:
          httpsDomainName === undefined
            ? OriginProtocolPolicy.HTTP_ONLY
            : OriginProtocolPolicy.HTTPS_ONLY,
        connectionAttempts: 1,
        connectionTimeout: Duration.seconds(api && region === undefined ? 10 : 3),
        readTimeout: Duration.seconds(api ? 10 : 3),
        customHeaders: relayToken ? { [RELAY_TOKEN_HEADER]: relayToken } : undefined,
      });
      if (region !== undefined) origins.set(region, origin);
      return origin;
    };
    const relay = (
      origin: IOrigin,
      viewerRequest: CloudFrontFunction,
      originRequestPolicy = OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
    ): BehaviorOptions => ({
      origin,
      viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
      cachePolicy: CachePolicy.CACHING_DISABLED,
      originRequestPolicy,
      responseHeadersPolicy: ResponseHeadersPolicy.SECURITY_HEADERS,
      functionAssociations: [
        { function: viewerRequest, eventType: FunctionEventType.VIEWER_REQUEST },
      ],
    });
    let apiRouter: CloudFrontFunction | undefined;
    if (apiRegions.length > 0 && props.apiHealthStore) {
      const apiOrigins = apiRegions.map((r) =>
        originOf(r.region, r.loadBalancer, r.relayToken, r.originDomainName),
      );
      apiRouter = new CloudFrontFunction(this, 'ApiRouterViewerRequest', {
        comment:
          'Sends /api/* to the nearest region not marked unhealthy in the KeyValueStore (geoproximity with bias)',
        runtime: FunctionRuntime.JS_2_0,
        keyValueStore: props.apiHealthStore,
        code: FunctionCode.fromInline(
          withViewerIpHeader(
            buildApiRouterFunctionCode({
              regions: apiRegions.map(edgeRegionOf),
              keyValueStoreId: props.apiHealthStore.keyValueStoreId,
            }),
          ),
        ),
      });
      // CloudFront adds its viewer-location headers only when a policy names them, and only then
      // does the routing function see them. Every other header the API reads is named too (the
      // Host header is not: an HTTPS origin is checked against the name CloudFront sends).
      const apiRequest = new OriginRequestPolicy(this, 'ApiOriginRequest', {
        comment: 'The API relay: the viewer location for the router, and the headers the API reads',
        headerBehavior: OriginRequestHeaderBehavior.allowList(...API_ORIGIN_HEADERS),
        queryStringBehavior: OriginRequestQueryStringBehavior.all(),
        cookieBehavior: OriginRequestCookieBehavior.none(),
      });
      // The behavior's own origin is the first region's; the function selects per request.
      behaviors['/api/*'] = relay(apiOrigins[0], apiRouter, apiRequest);
    } else if (props.apiOrigin) {
      behaviors['/api/*'] = relay(
        originOf(undefined, props.apiOrigin, props.apiOriginRelayToken),
        relayRequest(),
      );
    }
    // CloudFront Functions select only origins the distribution has, and the distribution has
    // only origins a behavior targets: every API region also answers at /regions/<region>/*.
    const relayed = [
      ...(props.regionOrigins ?? []),
      ...apiRegions.filter((a) => !(props.regionOrigins ?? []).some((r) => r.region === a.region)),
    ];
    for (const { region, loadBalancer, relayToken } of relayed) {
      behaviors[`/regions/${region}/*`] = relay(
        originOf(region, loadBalancer, relayToken),
        relayRequest(),
      );
    }
    return { behaviors, apiRouter };
  }

  /**
   * The BucketDeployment handler is one Lambda function per stack, written by the CDK: its
   * runtime, logging policy and grants (read the CDK asset bucket, write the site bucket,
   * invalidate the distribution) are the CDK's.
   */
  private acknowledgeDeploymentHandler(deployment: BucketDeployment): void {
    const role = deployment.handlerRole;
    const handler = role.node.scope;
    if (handler !== undefined) {
      Validations.of(handler).acknowledge({
        id: 'AwsSolutions-L1',
        reason:
          'The CDK pins the runtime of its BucketDeployment function; it moves with aws-cdk-lib.',
      });
    }
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        'The CDK-written BucketDeployment function logs through the AWS basic execution policy.',
    });
    acknowledgeExpectedWildcards(
      role,
      {
        actions: ['s3:GetBucket*', 's3:GetObject*', 's3:List*', 's3:Abort*', 's3:DeleteObject*'],
        resources: [this.bucket.arnForObjects('*'), '*'],
        // The CDK's file-asset bucket, `cdk-<qualifier>-assets-<account>-<region>`.
        resourcePatterns: [
          /^arn:(?:aws[a-z-]*|<AWS::Partition>):s3:::cdk-[a-z0-9]+-assets-[^/]+\/\*$/,
        ],
      },
      "The CDK BucketDeployment grants: read the CDK asset bucket, replace the site bucket's " +
        'files, and create invalidations (which CloudFront grants only on *).',
    );
  }

  private acknowledgeDistributionChoices(customCertificate: boolean, httpRelays: boolean): void {
    const validations = Validations.of(this.distribution);
    validations.acknowledge({
      id: 'AwsSolutions-CFR1',
      reason:
        'Served worldwide on purpose: geoproximity routing exists to serve users on every continent.',
    });
    validations.acknowledge({
      id: 'AwsSolutions-CFR2',
      reason:
        'The distribution serves public static files; its only dynamic paths (/api/*, /regions/*) ' +
        'go to the regional load balancers, which carry their own WAF web ACL (config.waf). A ' +
        'CloudFront web ACL would cost more than the site for no added protection of these files.',
    });
    if (httpRelays) {
      validations.acknowledge({
        id: 'AwsSolutions-CFR5',
        reason:
          'The /api/* and /regions/* relays exist only for load balancers without a certificate, ' +
          'which answer plain HTTP alone; viewers still reach CloudFront over HTTPS only.',
      });
    }
    if (!customCertificate) {
      validations.acknowledge({
        id: 'AwsSolutions-CFR4',
        reason:
          'No domain is configured, so the site uses the *.cloudfront.net certificate, whose TLS ' +
          'floor CloudFront fixes. With a domain, the ACM certificate and TLSv1.2_2021 apply.',
      });
    }
  }
}

function validate(scope: Construct, props: StaticSiteProps): void {
  const problems: string[] = [];
  if (props.domainName !== undefined && props.hostedZone === undefined) {
    problems.push(
      `hostedZone is required with domainName (it validates the certificate and holds the alias), got domainName ${JSON.stringify(props.domainName)} without one`,
    );
  }
  if (props.hostedZone !== undefined && props.domainName === undefined) {
    problems.push('domainName is required with hostedZone: name the record the site answers at');
  }
  const region = Stack.of(scope).region;
  if (
    props.domainName !== undefined &&
    !Token.isUnresolved(region) &&
    region !== CERTIFICATE_REGION
  ) {
    problems.push(
      `domainName needs a stack in ${CERTIFICATE_REGION}, where CloudFront takes certificates from, got a stack in ${region}`,
    );
  }
  const failoverRegion = props.failoverBucket?.env.region;
  if (
    failoverRegion !== undefined &&
    !Token.isUnresolved(failoverRegion) &&
    !Token.isUnresolved(region) &&
    failoverRegion === region
  ) {
    problems.push(
      `failoverBucket must be in another region than the site bucket (${region}), got one in ${failoverRegion}`,
    );
  }
  const seen = new Set<string>();
  for (const { region: r } of props.regionOrigins ?? []) {
    if (Token.isUnresolved(r)) continue;
    if (!/^[a-z0-9-]+$/.test(r)) {
      problems.push(
        `regionOrigins region must be a region code such as "eu-west-1", got ${JSON.stringify(r)}`,
      );
    }
    if (seen.has(r)) problems.push(`regionOrigins must name each region once, got ${r} twice`);
    seen.add(r);
  }
  if (!Token.isUnresolved(props.runtimeConfig.apiUrl) && props.runtimeConfig.apiUrl.endsWith('/')) {
    problems.push(
      `runtimeConfig.apiUrl must not end with "/" (the page appends /api/whoami), got ${JSON.stringify(props.runtimeConfig.apiUrl)}`,
    );
  }
  const apiRegions = props.apiRegions ?? [];
  if (
    props.runtimeConfig.apiUrl === '' &&
    props.apiOrigin === undefined &&
    apiRegions.length === 0
  ) {
    problems.push(
      "runtimeConfig.apiUrl is empty (the site's own origin) but neither apiOrigin nor apiRegions serves /api/* there; set one of them",
    );
  }
  if (props.apiOrigin !== undefined && apiRegions.length > 0) {
    problems.push(
      'apiOrigin and apiRegions both serve /api/*; set one of them (apiRegions routes between regions)',
    );
  }
  if (apiRegions.length > 0 && props.apiHealthStore === undefined) {
    problems.push(
      `apiRegions need apiHealthStore, the KeyValueStore holding each region's health, got ${apiRegions.length} regions without one`,
    );
  }
  if (props.apiHealthStore !== undefined && apiRegions.length === 0) {
    problems.push('apiHealthStore is only read with apiRegions; set apiRegions or drop it');
  }
  const apiSeen = new Set<string>();
  for (const r of apiRegions) {
    if (Token.isUnresolved(r.region)) continue;
    if (!/^[a-z0-9-]+$/.test(r.region)) {
      problems.push(
        `apiRegions region must be a region code such as "eu-west-1", got ${JSON.stringify(r.region)}`,
      );
    }
    if (apiSeen.has(r.region))
      problems.push(`apiRegions must name each region once, got ${r.region} twice`);
    apiSeen.add(r.region);
    if (!(r.latitude >= -90 && r.latitude <= 90)) {
      problems.push(`latitude of ${r.region} must be -90 to 90 degrees, got ${r.latitude}`);
    }
    if (!(r.longitude >= -180 && r.longitude <= 180)) {
      problems.push(`longitude of ${r.region} must be -180 to 180 degrees, got ${r.longitude}`);
    }
    const bias = r.bias ?? 0;
    if (!Number.isInteger(bias) || bias < -99 || bias > 99) {
      problems.push(`bias of ${r.region} must be an integer from -99 to 99, got ${bias}`);
    }
    const relay = (props.regionOrigins ?? []).find((o) => o.region === r.region);
    if (
      relay &&
      (relay.loadBalancer !== r.loadBalancer ||
        relay.relayToken !== r.relayToken ||
        r.originDomainName !== undefined)
    ) {
      problems.push(
        `${r.region} is in apiRegions and regionOrigins with a different load balancer, relay token or origin name; both paths share one origin per region, so give the same ones (and no originDomainName)`,
      );
    }
  }
  if (problems.length > 0) {
    throw new Error(
      `StaticSite has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
  }
}

/**
 * What the routed `/api/*` path sends its origins: the viewer location CloudFront adds (which the
 * routing function reads), the relay's viewer address, and the request headers the service reads.
 */
export const API_ORIGIN_HEADERS = [
  'CloudFront-Viewer-Latitude',
  'CloudFront-Viewer-Longitude',
  'CloudFront-Viewer-Country',
  VIEWER_IP_HEADER,
  'accept',
  'x-request-id',
  'if-match',
  'idempotency-key',
] as const;

/** The id of a region's relay origin, which the API router selects by. */
export function relayOriginId(region: string): string {
  return `relay-${region}`;
}

function edgeRegionOf(r: SiteApiRegion): EdgeRegion {
  return {
    region: r.region,
    latitude: r.latitude,
    longitude: r.longitude,
    bias: r.bias ?? 0,
    originId: relayOriginId(r.region),
  };
}

/**
 * CloudFront runs one viewer-request function per behavior, and the relays' WAF needs the viewer's
 * address on `/api/*` too: the router's own `handler` is renamed and called from one that first
 * sets the header (replacing any value the viewer sent).
 */
export function withViewerIpHeader(routerCode: string): string {
  const declaration = /\bfunction\s+handler\s*\(/g;
  const found = routerCode.match(declaration) ?? [];
  if (found.length !== 1) {
    throw new Error(
      `the API router code must declare "function handler(" exactly once, got ${found.length}; cannot add the ${VIEWER_IP_HEADER} header`,
    );
  }
  return [
    routerCode.replace(declaration, 'function routeToRegion('),
    'async function handler(event) {',
    `  event.request.headers['${VIEWER_IP_HEADER}'] = { value: event.viewer.ip };`,
    '  return routeToRegion(event);',
    '}',
    '',
  ].join('\n');
}
