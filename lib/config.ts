import { DEFAULT_HEALTH_TOKEN } from '../service/src/health-token';

/** One region the service runs in. */
export interface RegionConfig {
  /** The AWS region code, e.g. `eu-west-1`. */
  readonly region: string;
  /**
   * The availability zone names to spread over (at least 2), written out so that synth never asks
   * AWS for them.
   */
  readonly availabilityZones: readonly string[];
  /**
   * Geoproximity bias, -99..99. A positive bias grows the share of users Route 53 sends to this
   * region; a negative one shrinks it.
   * @default 0 - the region's catchment follows geography alone
   */
  readonly geoproximityBias?: number;
}

/** An existing public hosted zone to publish the service under. */
export interface DomainConfig {
  /** The hosted zone id, e.g. `Z0123456789ABCDEFGHIJ`. */
  readonly hostedZoneId: string;
  /**
   * The zone's name, e.g. `example.com`: lower-case DNS labels under a top-level domain of 2-63
   * letters (IDN top-level domains in `xn--` form are not supported).
   */
  readonly zoneName: string;
  /**
   * The record the geoproximity API answers at, under the zone.
   * @default 'api' - the API answers at `api.<zoneName>`
   */
  readonly apiRecordName?: string;
  /**
   * The record the static site answers at, under the zone; not the same as `apiRecordName`.
   * Each `<record>.<zoneName>` may be at most 64 characters (an ACM certificate's limit).
   * @default 'www' - the site answers at `www.<zoneName>`
   */
  readonly siteRecordName?: string;
}

/** How big each region's service and cache are. */
export interface SizingConfig {
  /**
   * Fargate task CPU units (256, 512, 1024, 2048, 4096, 8192 or 16384).
   * @default 512
   */
  readonly taskCpu?: number;
  /**
   * Fargate task memory in MiB; must be a combination Fargate offers for `taskCpu`.
   * @default 1024
   */
  readonly taskMemoryMiB?: number;
  /**
   * Tasks each region runs in steady state.
   * @default 3 - one per availability zone
   */
  readonly desiredTasks?: number;
  /**
   * Fewest tasks autoscaling may leave running in a region.
   * @default 3 - one per availability zone, so losing an AZ never leaves a region without capacity
   */
  readonly minTasks?: number;
  /**
   * Most tasks autoscaling may run in a region.
   * @default 12
   */
  readonly maxTasks?: number;
  /**
   * ElastiCache node type of the memcached cluster (one node per availability zone).
   * @default 'cache.t4g.micro'
   */
  readonly cacheNodeType?: string;
}

/** How fast unhealthy targets and regions are detected. */
export interface HealthCheckConfig {
  /**
   * Seconds between ALB target health checks (AWS allows 5-300).
   * @default 5
   */
  readonly albIntervalSeconds?: number;
  /**
   * Seconds an ALB health check waits for an answer (AWS allows 2-120, below the interval).
   * @default 4
   */
  readonly albTimeoutSeconds?: number;
  /**
   * Consecutive passing checks before a target takes traffic (AWS allows 2-10).
   * @default 2
   */
  readonly albHealthyThreshold?: number;
  /**
   * Consecutive failing checks before a target is ejected (AWS allows 2-10).
   * @default 3 - with the 5 s interval a bad target is ejected within 15 s
   */
  readonly albUnhealthyThreshold?: number;
  /**
   * Consecutive failing Route 53 checks before a region is taken out of DNS (AWS allows 1-10).
   * @default 3 - with the 10 s request interval, 30 s plus the 60 s alias TTL
   */
  readonly route53FailureThreshold?: number;
  /**
   * The text the readiness body must contain. Route 53 string-match checks and the container
   * health check search for it, so an empty 200 fails them. The service takes the same rule
   * (service/src/health-token.ts): the default, or 1-200 ASCII characters without quotes,
   * backslashes, control characters or white space at either end.
   * @default '"status":"ready"'
   */
  readonly token?: string;
}

/** Guardrails for game-day chaos experiments. */
export interface ChaosConfig {
  /**
   * Deploy the chaos functions at all. Turn off in production accounts that never run game days.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * Largest share of a region's tasks one experiment may touch (0 < share <= 1).
   * @default 0.5
   */
  readonly maxTaskShare?: number;
  /**
   * Longest a fault may last before it expires by itself, in minutes (1-720).
   * @default 30
   */
  readonly maxFaultDurationMinutes?: number;
  /**
   * Add the FIS ECS network fault templates (latency, packet loss, a black-holed port) and the
   * SSM agent sidecar they need in every task (docs/chaos.md). Needs `enabled` and
   * `maxFaultDurationMinutes` of at least 2.
   * @default false
   */
  readonly ecsNetworkFaults?: boolean;
}

/**
 * How a new service revision reaches users: ECS starts it beside the old one, the deployment gate
 * checks it through the test listener, then production traffic shifts to it in steps while the
 * deployment alarms watch; an alarm until the bake time ends shifts traffic back.
 */
export interface DeploymentConfig {
  /**
   * `canary`: `canaryPercent` of production traffic for `stepBakeTimeMinutes`, then the rest.
   * `linear`: `linearStepPercent` more every `stepBakeTimeMinutes` until all of it.
   * @default 'canary' - a small share long enough for the alarms to judge it, then all at once
   */
  readonly strategy?: 'canary' | 'linear';
  /**
   * Share of production traffic the canary step takes, in percent (0.1-100, multiples of 0.1);
   * only with `strategy` `canary`. Keep it above the 5% error-rate alarms' threshold, or a canary
   * that fails every request cannot trip them.
   * @default 10
   */
  readonly canaryPercent?: number;
  /**
   * Share of production traffic each linear step adds, in percent (3-100, multiples of 0.1); only
   * with `strategy` `linear`.
   * @default 10
   */
  readonly linearStepPercent?: number;
  /**
   * Minutes each traffic step runs before the next (0-1440). The error-rate alarms need 2 of 3
   * one-minute periods, so below 3 a bad step can pass before they can fire.
   * @default 5
   */
  readonly stepBakeTimeMinutes?: number;
  /**
   * Minutes the old revision keeps running after all traffic has shifted, while an alarm still
   * shifts traffic straight back to it (0-1440).
   * @default 10
   */
  readonly bakeTimeMinutes?: number;
  /**
   * Port of the load balancer's test listener, on which the new revision answers the gate before
   * users see it (1-65535, not 80 or 443). Open only to the region's NAT gateway addresses.
   * @default 9000
   */
  readonly testListenerPort?: number;
}

/** The network of each region. */
export interface NetworkConfig {
  /**
   * `one-per-az`: a NAT gateway in every AZ, so losing an AZ never cuts the others off the
   * internet. `single`: one NAT gateway per region, cheaper, but its AZ is a single point of
   * failure for every task's outbound traffic.
   * @default 'one-per-az'
   */
  readonly natGateways?: 'one-per-az' | 'single';
}

/** The AWS WAF web ACL in front of each region's load balancer. */
export interface WafConfig {
  /**
   * Attach a web ACL with AWS managed common rules and a per-IP rate limit.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * Requests one client IP may make in any 5-minute window before it is blocked (AWS allows
   * 10-2,000,000,000).
   * @default 2000
   */
  readonly requestsPerFiveMinutesPerIp?: number;
}

/** ARC zonal shift on each region's load balancer (zonal shift itself is always enabled). */
export interface ZonalShiftConfig {
  /**
   * Let AWS shift each region's load balancer away from an impaired AZ on its own (zonal
   * autoshift), with weekly practice runs that end early when the region-impaired alarm fires and
   * do not start while healthy capacity is already low. See docs/zonal-shift.md.
   * @default false - only the operator (or the az-outage game day) starts a zonal shift
   */
  readonly autoshift?: boolean;
}

/** The catalog's DynamoDB global table. */
export interface DataConfig {
  /**
   * Refuse to delete the table. Switch off only for throwaway environments, so that
   * `cdk destroy --all` removes it.
   * @default true
   */
  readonly deletionProtection?: boolean;
}

/** The static site on CloudFront + S3. */
export interface SiteConfig {
  /**
   * Replicate the site's bucket to a second region and let CloudFront fail over to it.
   * @default true
   */
  readonly originFailover?: boolean;
  /**
   * The region of the replica bucket; must be a configured region other than us-east-1. Refused
   * when `originFailover` is false, since nothing would use it.
   * @default - the first configured region other than us-east-1
   */
  readonly failoverRegion?: string;
}

/**
 * Everything a fork chooses. Every field is optional: the defaults deploy a working three-region
 * system. Override any part with `-c config=path/to/file.json`.
 */
export interface BlueprintConfig {
  /**
   * Prefix of every stack name, and the value of the `project` tag on every resource: a letter,
   * then up to 29 letters, digits or hyphens, not starting with "aws", "amazon" or "ssm" (AWS
   * reserves those for SSM parameter names and metric namespaces, which the project prefixes).
   * @default 'Blueprint'
   */
  readonly projectName?: string;
  /**
   * The 12-digit AWS account to deploy to, as a string (a JSON number would lose leading zeros).
   * @default - the account of the credentials `cdk deploy` runs with
   */
  readonly account?: string;
  /**
   * The region that holds the global table's first copy and whose load balancer the static site
   * calls when no domain is configured. Must be one of `regions`. (The Global stack itself always
   * lives in us-east-1, where CloudFront certificates and Route 53 health-check metrics are.)
   * @default 'us-east-1'
   */
  readonly homeRegion?: string;
  /**
   * The regions the service runs in, each with its availability zones.
   * @default - us-east-1, eu-west-1 and ap-northeast-1, three AZs each
   */
  readonly regions?: readonly RegionConfig[];
  /**
   * An existing public hosted zone to publish under.
   * @default - no domain: the ALBs answer plain HTTP at their AWS names, and the blueprint creates
   * its own hosted zone for the geoproximity records
   */
  readonly domain?: DomainConfig;
  /** @default - see each field of SizingConfig */
  readonly sizing?: SizingConfig;
  /** @default - see each field of HealthCheckConfig */
  readonly healthCheck?: HealthCheckConfig;
  /**
   * Where alarm notifications are e-mailed.
   * @default - no e-mail subscription; alarms still publish to each region's SNS topic
   */
  readonly alarmEmail?: string;
  /** @default - see each field of ChaosConfig */
  readonly chaos?: ChaosConfig;
  /** @default - see each field of DeploymentConfig */
  readonly deployment?: DeploymentConfig;
  /** @default - see each field of NetworkConfig */
  readonly network?: NetworkConfig;
  /** @default - see each field of WafConfig */
  readonly waf?: WafConfig;
  /** @default - see each field of DataConfig */
  readonly data?: DataConfig;
  /** @default - see each field of ZonalShiftConfig */
  readonly zonalShift?: ZonalShiftConfig;
  /** @default - see each field of SiteConfig */
  readonly site?: SiteConfig;
}

/** The config with every default filled in: what stacks and constructs read. */
export interface ResolvedConfig {
  readonly projectName: string;
  readonly account?: string;
  readonly homeRegion: string;
  readonly regions: readonly Required<RegionConfig>[];
  readonly domain?: Required<DomainConfig>;
  readonly sizing: Required<SizingConfig>;
  readonly healthCheck: Required<HealthCheckConfig>;
  readonly alarmEmail?: string;
  readonly chaos: Required<ChaosConfig>;
  readonly deployment: Required<DeploymentConfig>;
  readonly network: Required<NetworkConfig>;
  readonly waf: Required<WafConfig>;
  readonly data: Required<DataConfig>;
  readonly zonalShift: Required<ZonalShiftConfig>;
  /** `failoverRegion` is undefined when origin failover is off. */
  readonly site: { readonly originFailover: boolean; readonly failoverRegion?: string };
}

/** CloudFront certificates and Route 53 health-check metrics exist only in us-east-1. */
export const GLOBAL_STACK_REGION = 'us-east-1';

export const DEFAULT_CONFIG: ResolvedConfig = {
  projectName: 'Blueprint',
  homeRegion: 'us-east-1',
  regions: [
    {
      region: 'us-east-1',
      availabilityZones: ['us-east-1a', 'us-east-1b', 'us-east-1c'],
      geoproximityBias: 0,
    },
    {
      region: 'eu-west-1',
      availabilityZones: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'],
      geoproximityBias: 0,
    },
    {
      region: 'ap-northeast-1',
      availabilityZones: ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d'],
      geoproximityBias: 0,
    },
  ],
  sizing: {
    taskCpu: 512,
    taskMemoryMiB: 1024,
    desiredTasks: 3,
    minTasks: 3,
    maxTasks: 12,
    cacheNodeType: 'cache.t4g.micro',
  },
  healthCheck: {
    albIntervalSeconds: 5,
    albTimeoutSeconds: 4,
    albHealthyThreshold: 2,
    albUnhealthyThreshold: 3,
    route53FailureThreshold: 3,
    token: DEFAULT_HEALTH_TOKEN,
  },
  chaos: {
    enabled: true,
    maxTaskShare: 0.5,
    maxFaultDurationMinutes: 30,
    ecsNetworkFaults: false,
  },
  deployment: {
    strategy: 'canary',
    canaryPercent: 10,
    linearStepPercent: 10,
    stepBakeTimeMinutes: 5,
    bakeTimeMinutes: 10,
    testListenerPort: 9000,
  },
  network: { natGateways: 'one-per-az' },
  waf: { enabled: true, requestsPerFiveMinutesPerIp: 2000 },
  data: { deletionProtection: true },
  zonalShift: { autoshift: false },
  site: { originFailover: true, failoverRegion: 'eu-west-1' },
};

/** Thrown when the config is invalid. `problems` holds one readable line per problem. */
export class ConfigError extends Error {
  public override readonly name = 'ConfigError';

  constructor(
    public readonly source: string,
    public readonly problems: readonly string[],
  ) {
    super(
      `${source} has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
  }
}
