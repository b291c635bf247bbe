import { join } from 'node:path';

import { CfnOutput, Fn, Lazy, Stack, StackProps } from 'aws-cdk-lib';
import { ILoadBalancerV2 } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

import { ResolvedConfig } from '../config';
import { EdgeHealth } from '../constructs/edge-routing/edge-health';
import { defaultZoneName, GeoRouting } from '../constructs/geo-routing/geo-routing';
import { RegionHealthAlarms } from '../constructs/geo-routing/region-health-alarms';
import {
  SiteApiRegion,
  SiteRuntimeConfig,
  StaticSite,
} from '../constructs/static-site/static-site';
import { REGION_COORDINATES } from '../edge-routing/region-coordinates';

import { producerDigest } from './producer-digest';

/** One region's entry point, as the Global stack routes to it. */
export interface GlobalStackRegion {
  /** e.g. `eu-west-1`. */
  readonly region: string;
  /** The region's internet-facing load balancer (from its regional stack). */
  readonly loadBalancer: ILoadBalancerV2;
  /** Geoproximity bias, -99..99. */
  readonly geoproximityBias: number;
  /**
   * What the site's relays send to this load balancer so its WAF limits them per viewer (see
   * `PublicLoadBalancer.relayToken`).
   * @default - no token: the WAF counts relayed requests per CloudFront edge address
   */
  readonly relayToken?: string;
}

export interface GlobalStackProps extends StackProps {
  /** The whole blueprint config (domain, health-check settings, alarm e-mail). */
  readonly config: ResolvedConfig;
  /** Every region's load balancer; their stacks deploy before this one. */
  readonly regions: readonly GlobalStackRegion[];
  /**
   * The site's replica bucket in the failover region (a `SiteReplicaBucket` in that region's stack).
   * @default - no replica: CloudFront reads the site from us-east-1 only
   */
  readonly siteReplicaBucket?: IBucket;
  /**
   * The static site's files.
   * @default - the repository's `web/` folder
   */
  readonly siteDirectory?: string;
}

const READINESS_PATH = '/health/ready';

/**
 * The edge, in us-east-1 (where CloudFront certificates and Route 53 health-check metrics live):
 * geoproximity DNS with body-checking health checks and their alarms, and the static site on
 * CloudFront + S3. It deploys after every regional stack, whose load balancer names reach it
 * through cross-region references (`Fn::GetStackOutput`, which CloudFormation resolves on every
 * update of this stack; the `ProducerDigest` output makes a change to one of those load balancers,
 * or to the replica bucket, an update of this stack).
 *
 * The page calls the API on the distribution's own name: `/api/*` goes, per request, to the
 * nearest region whose health entry (an `EdgeHealth` KeyValueStore, written from the same Route 53
 * health checks' alarms) is not `unhealthy`, by geoproximity with each region's bias. Without a
 * domain the load balancers speak plain HTTP, so the distribution reaches them over HTTP (with
 * their relay token) and also relays `/regions/<region>/*` for the page's readiness column. With
 * a domain it reaches them over HTTPS at `<region>.<api>.<zone>`, and the geoproximity name stays
 * the primary path for API clients other than the page.
 */
export class GlobalStack extends Stack {
  public readonly routing: GeoRouting;
  public readonly alarms: RegionHealthAlarms;
  /** Each region's health at the edge, which the site's `/api/*` routing reads. */
  public readonly edgeHealth: EdgeHealth;
  public readonly site: StaticSite;

  constructor(scope: Construct, id: string, props: GlobalStackProps) {
    super(scope, id, props);
    const { config, regions } = props;
    const domain = config.domain;
    const home = regions.find((r) => r.region === config.homeRegion);
    if (home === undefined) {
      const given = regions.map((r) => r.region).join(', ') || 'none given';
      throw new Error(
        `homeRegion ${config.homeRegion} must be one of the regions given to the Global stack (${given})`,
      );
    }
    for (const { loadBalancer } of regions) {
      const regional = Stack.of(loadBalancer);
      if (regional !== this) this.addStackDependency(regional, 'routes to its load balancer');
    }

    this.routing = new GeoRouting(this, 'GeoRouting', {
      zoneName: domain?.zoneName ?? defaultZoneName(config.projectName),
      hostedZoneId: domain?.hostedZoneId,
      recordName: domain?.apiRecordName,
      endpoints: regions.map((r) => ({
        region: r.region,
        loadBalancer: r.loadBalancer,
        bias: r.geoproximityBias,
      })),
      https: domain !== undefined,
      healthCheckPath: READINESS_PATH,
      healthCheckSearchString: config.healthCheck.token,
      failureThreshold: config.healthCheck.route53FailureThreshold,
    });

    this.alarms = new RegionHealthAlarms(this, 'RegionHealthAlarms', {
      healthChecks: this.routing.regions,
      alarmEmail: config.alarmEmail,
    });

    this.edgeHealth = new EdgeHealth(this, 'EdgeHealth', {
      regions: regions.map((r) => ({ region: r.region, alarm: this.alarms.alarms[r.region] })),
    });
    const regionDomainNames = new Map(
      this.routing.regions.map((r) => [r.region, r.regionDomainName]),
    );
    // The home region first: the /api/* behavior's own origin, should the function not run.
    const homeFirst = [home, ...regions.filter((r) => r !== home)];
    const apiRegions: SiteApiRegion[] = homeFirst.map((r) => {
      const location = REGION_COORDINATES[r.region];
      if (location === undefined) {
        throw new Error(
          `region ${r.region} has no location in REGION_COORDINATES (lib/edge-routing/region-coordinates.ts); add its latitude and longitude`,
        );
      }
      return {
        region: r.region,
        loadBalancer: r.loadBalancer,
        relayToken: r.relayToken,
        latitude: location.latitude,
        longitude: location.longitude,
        bias: r.geoproximityBias,
        originDomainName: domain ? regionDomainNames.get(r.region) : undefined,
      };
    });

    const runtimeConfig: SiteRuntimeConfig = domain
      ? {
          apiUrl: '',
          healthToken: config.healthCheck.token,
          regions: this.routing.regions.map((r) => ({
            region: r.region,
            healthUrl: `https://${r.regionDomainName}${READINESS_PATH}`,
          })),
        }
      : {
          apiUrl: '',
          healthToken: config.healthCheck.token,
          regions: regions.map((r) => ({
            region: r.region,
            healthUrl: `/regions/${r.region}${READINESS_PATH}`,
          })),
        };
    this.site = new StaticSite(this, 'Site', {
      sourceDirectory: props.siteDirectory ?? join(__dirname, '..', '..', 'web'),
      runtimeConfig,
      failoverBucket: props.siteReplicaBucket,
      domainName: domain ? `${domain.siteRecordName}.${domain.zoneName}` : undefined,
      hostedZone: domain ? this.routing.hostedZone : undefined,
      apiRegions,
      apiHealthStore: this.edgeHealth.keyValueStore,
      regionOrigins: domain ? undefined : regions,
    });

    new CfnOutput(this, 'SiteUrl', { value: this.site.url });
    new CfnOutput(this, 'EdgeHealthStoreArn', {
      description: "Each region's health as the site's /api/* routing reads it",
      value: this.edgeHealth.keyValueStore.keyValueStoreArn,
    });
    new CfnOutput(this, 'ApiDomainName', {
      description: 'The geoproximity name: answers with the nearest healthy region',
      value: this.routing.domainName,
    });
    if (this.routing.nameServers) {
      new CfnOutput(this, 'NameServers', {
        description: 'The created zone is not delegated: query these directly, e.g. with dig',
        value: Fn.join(' ', this.routing.nameServers),
      });
    }
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn });
    // See producerDigest: a replaced load balancer or replica bucket changes this template, so
    // `cdk deploy --all` updates this stack and CloudFormation re-reads their names.
    const producers = [
      ...regions.map((r) => r.loadBalancer),
      ...(props.siteReplicaBucket ? [props.siteReplicaBucket] : []),
    ];
    new CfnOutput(this, 'ProducerDigest', {
      description:
        'Digest of the regional load balancers and replica bucket this stack reads from other regions',
      value: Lazy.string({ produce: () => producerDigest(producers) }),
    });
  }
}
