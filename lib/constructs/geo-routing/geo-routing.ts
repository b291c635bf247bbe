import { Duration, Token } from 'aws-cdk-lib';
import { ILoadBalancerV2 } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import {
  ARecord,
  CfnHealthCheck,
  HealthCheck,
  HealthCheckType,
  HostedZone,
  IHostedZone,
  PublicHostedZone,
  RecordTarget,
} from 'aws-cdk-lib/aws-route53';
import { LoadBalancerTarget } from 'aws-cdk-lib/aws-route53-targets';
import { Construct } from 'constructs';

import { GeoproximityAliasRecord } from './geoproximity-record';

/** One region's load balancer, as geoproximity routing sees it. */
export interface GeoRoutingEndpoint {
  /** The region the load balancer is in, e.g. `eu-west-1`. */
  readonly region: string;
  /** The region's internet-facing load balancer. */
  readonly loadBalancer: ILoadBalancerV2;
  /**
   * Geoproximity bias, -99..99: positive grows the region's catchment, negative shrinks it.
   * @default 0 - the catchment follows geography alone
   */
  readonly bias?: number;
}

export interface GeoRoutingProps {
  /** The zone's DNS name, e.g. `example.com`. */
  readonly zoneName: string;
  /**
   * The id of an existing public hosted zone named `zoneName`. It is imported by its attributes,
   * so synth never looks anything up.
   * @default - a new public hosted zone named `zoneName` (not delegated: query its name servers)
   */
  readonly hostedZoneId?: string;
  /**
   * The record, under the zone, that answers with the nearest healthy region.
   * @default 'api'
   */
  readonly recordName?: string;
  /** The regions to route between: one health check and one geoproximity record each. */
  readonly endpoints: readonly GeoRoutingEndpoint[];
  /**
   * Check the load balancers over HTTPS on port 443 (HTTPS_STR_MATCH) rather than HTTP on port 80
   * (HTTP_STR_MATCH).
   * @default false - the load balancers answer plain HTTP
   */
  readonly https?: boolean;
  /**
   * The path Route 53 health checkers request on each load balancer.
   * @default '/health/ready'
   */
  readonly healthCheckPath?: string;
  /**
   * Text the first 5,120 bytes of the response body must contain, so that an empty 200 fails
   * the check. Route 53 allows 1-255 characters.
   * @default '"status":"ready"'
   */
  readonly healthCheckSearchString?: string;
  /**
   * Time between two requests of one Route 53 health checker: 10 or 30 seconds.
   * @default Duration.seconds(10)
   */
  readonly requestInterval?: Duration;
  /**
   * Consecutive failed requests before Route 53 takes a region out of answers (1-10).
   * @default 3
   */
  readonly failureThreshold?: number;
}

/** What geoproximity routing created for one region. */
export interface GeoRoutedRegion {
  readonly region: string;
  /** The string-match health check against the region's load balancer. */
  readonly healthCheck: HealthCheck;
  /** The region's geoproximity record at `domainName`. */
  readonly record: GeoproximityAliasRecord;
  /** A plain alias that always answers with this region, e.g. `eu-west-1.api.example.com`. */
  readonly regionDomainName: string;
}

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const DNS_NAME = /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/**
 * The zone name used when no domain is configured: `<project>-multi-region.com`. The blueprint
 * creates the zone but nothing delegates to it, so only direct queries to its name servers reach
 * it (`dig @<name server> api.<zone>`); whoever owns the name on the internet is never affected.
 */
export function defaultZoneName(projectName: string): string {
  const suffix = '-multi-region.com';
  const slug = projectName
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63 - '-multi-region'.length)
    .replace(/-+$/, '');
  return `${slug || 'blueprint'}${suffix}`;
}

/**
 * Geoproximity routing over every region's load balancer. Each region gets a Route 53 health check
 * that fetches `/health/ready` from its load balancer and searches the body for the readiness
 * token, and a geoproximity alias record at `<recordName>.<zoneName>` tied to that check. A region
 * whose check fails leaves the answers; its users go to the next-nearest healthy region once
 * their resolvers' cached answer (the ALB alias's 60 s TTL) expires. Each region also gets a plain
 * alias `<region>.<recordName>.<zoneName>` for reaching one region on purpose.
 */
export class GeoRouting extends Construct {
  public readonly hostedZone: IHostedZone;
  /** True when this construct created the zone (then `nameServers` lists its name servers). */
  public readonly createdZone: boolean;
  /** The zone's four name servers; only known for a zone this construct created. */
  public readonly nameServers?: string[];
  /** The geoproximity name, e.g. `api.example.com`. */
  public readonly domainName: string;
  public readonly regions: readonly GeoRoutedRegion[];

  constructor(scope: Construct, id: string, props: GeoRoutingProps) {
    super(scope, id);
    const recordName = props.recordName ?? 'api';
    const healthCheckPath = props.healthCheckPath ?? '/health/ready';
    const searchString = props.healthCheckSearchString ?? '"status":"ready"';
    const requestInterval = props.requestInterval ?? Duration.seconds(10);
    const failureThreshold = props.failureThreshold ?? 3;
    validate(props, {
      recordName,
      healthCheckPath,
      searchString,
      requestInterval,
      failureThreshold,
    });

    if (props.hostedZoneId !== undefined) {
      this.hostedZone = HostedZone.fromHostedZoneAttributes(this, 'Zone', {
        hostedZoneId: props.hostedZoneId,
        zoneName: props.zoneName,
      });
      this.createdZone = false;
    } else {
      const zone = new PublicHostedZone(this, 'Zone', {
        zoneName: props.zoneName,
        comment:
          'Geoproximity records of the multi-region blueprint; query its name servers directly',
      });
      this.hostedZone = zone;
      this.nameServers = zone.hostedZoneNameServers;
      this.createdZone = true;
    }
    this.domainName = `${recordName}.${props.zoneName}`;

    const https = props.https ?? false;
    this.regions = props.endpoints.map((endpoint) => {
      const healthCheck = new HealthCheck(this, `HealthCheck-${endpoint.region}`, {
        type: https ? HealthCheckType.HTTPS_STR_MATCH : HealthCheckType.HTTP_STR_MATCH,
        // The load balancer's own name, not a record of ours: the check sees exactly this region,
        // whatever DNS answers.
        fqdn: endpoint.loadBalancer.loadBalancerDnsName,
        port: https ? 443 : 80,
        // The ALB's name is not on its certificate, so SNI would name a host the ALB has no
        // certificate for. Without SNI the ALB presents its default certificate, and Route 53
        // does not validate certificates, so the check reaches the body either way.
        enableSNI: https ? false : undefined,
        resourcePath: healthCheckPath,
        searchString,
        requestInterval,
        failureThreshold,
      });
      (healthCheck.node.defaultChild as CfnHealthCheck).healthCheckTags = [
        { key: 'Name', value: `${endpoint.region} ${healthCheckPath}` },
      ];

      const target = {
        dnsName: `dualstack.${endpoint.loadBalancer.loadBalancerDnsName}`,
        hostedZoneId: endpoint.loadBalancer.loadBalancerCanonicalHostedZoneId,
      };
      const record = new GeoproximityAliasRecord(this, `Record-${endpoint.region}`, {
        zone: this.hostedZone,
        recordName: this.domainName,
        region: endpoint.region,
        bias: endpoint.bias,
        target,
        healthCheck,
        evaluateTargetHealth: true,
      });

      const regionDomainName = `${endpoint.region}.${this.domainName}`;
      new ARecord(this, `RegionRecord-${endpoint.region}`, {
        zone: this.hostedZone,
        recordName: regionDomainName,
        target: RecordTarget.fromAlias(new LoadBalancerTarget(endpoint.loadBalancer)),
      });

      return { region: endpoint.region, healthCheck, record, regionDomainName };
    });
  }
}

interface Resolved {
  readonly recordName: string;
  readonly healthCheckPath: string;
  readonly searchString: string;
  readonly requestInterval: Duration;
  readonly failureThreshold: number;
}

/** Collects every problem with the props and throws them together. */
function validate(props: GeoRoutingProps, r: Resolved): void {
  const problems: string[] = [];
  const known = (value: string | number) => !Token.isUnresolved(value);

  if (known(props.zoneName) && !DNS_NAME.test(props.zoneName)) {
    problems.push(
      `zoneName must be a lower-case DNS name such as "example.com", got ${JSON.stringify(props.zoneName)}`,
    );
  }
  if (
    props.hostedZoneId !== undefined &&
    known(props.hostedZoneId) &&
    !/^Z[A-Z0-9]{1,31}$/.test(props.hostedZoneId)
  ) {
    problems.push(
      `hostedZoneId must be a Route 53 hosted zone id such as "Z0123456789ABCDEFGHIJ", got ${JSON.stringify(props.hostedZoneId)}`,
    );
  }
  if (known(r.recordName) && !r.recordName.split('.').every((l) => DNS_LABEL.test(l))) {
    problems.push(
      `recordName must be lower-case DNS labels such as "api", got ${JSON.stringify(r.recordName)}`,
    );
  }
  if (known(r.healthCheckPath) && !/^\/\S{0,254}$/.test(r.healthCheckPath)) {
    problems.push(
      `healthCheckPath must start with "/" and have no spaces, got ${JSON.stringify(r.healthCheckPath)}`,
    );
  }
  if (known(r.searchString) && (r.searchString.length < 1 || r.searchString.length > 255)) {
    problems.push(
      `healthCheckSearchString must be 1-255 characters, got ${r.searchString.length}; an empty string would let an empty 200 pass`,
    );
  }
  if (!r.requestInterval.isUnresolved() && ![10, 30].includes(r.requestInterval.toSeconds())) {
    problems.push(
      `requestInterval must be 10 or 30 seconds (Route 53 offers no other), got ${r.requestInterval.toSeconds()}`,
    );
  }
  if (
    known(r.failureThreshold) &&
    (!Number.isInteger(r.failureThreshold) || r.failureThreshold < 1 || r.failureThreshold > 10)
  ) {
    problems.push(`failureThreshold must be an integer from 1 to 10, got ${r.failureThreshold}`);
  }
  if (props.endpoints.length === 0) {
    problems.push('endpoints must list at least one region to route to, got none');
  }
  const seen = new Set<string>();
  for (const endpoint of props.endpoints) {
    if (!known(endpoint.region)) continue;
    if (seen.has(endpoint.region)) {
      problems.push(`endpoints must name each region once, got ${endpoint.region} twice`);
    }
    seen.add(endpoint.region);
    const bias = endpoint.bias ?? 0;
    if (known(bias) && (!Number.isInteger(bias) || bias < -99 || bias > 99)) {
      problems.push(`bias of ${endpoint.region} must be an integer from -99 to 99, got ${bias}`);
    }
  }

  if (problems.length > 0) {
    throw new Error(
      `GeoRouting has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
  }
}
