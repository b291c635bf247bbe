import { ResolvedConfig } from '../config';

import { HOURS_PER_MONTH, PRICES, PRICES_AS_OF } from './price-table';

/** Interface endpoints each region runs: ECR API, ECR Docker, CloudWatch Logs, SSM. */
const INTERFACE_ENDPOINTS = 4;
/** Metric alarms per region (see RegionAlarms), plus one composite. */
const METRIC_ALARMS_PER_REGION = 11;
/** The per-IP and per-relayed-viewer rate rules and the AWS common rule group. */
const WAF_RULES = 3;

export interface CostLine {
  readonly item: string;
  readonly monthlyUsd: number;
}

export interface CostEstimate {
  readonly perRegion: readonly { region: string; lines: readonly CostLine[]; totalUsd: number }[];
  readonly global: readonly CostLine[];
  readonly totalUsd: number;
  /** Why the figures are rough, and where the prices come from. */
  readonly basis: string;
}

const round = (usd: number) => Math.round(usd * 100) / 100;
const sum = (lines: readonly CostLine[]) => round(lines.reduce((t, l) => t + l.monthlyUsd, 0));

/**
 * A rough monthly cost for a config: the fixed hourly charges of what it deploys, before traffic.
 * An unknown cache node type is priced as 0 and named in `basis`.
 */
export function estimateMonthlyCost(config: ResolvedConfig): CostEstimate {
  const { sizing } = config;
  const nodePrice = PRICES.cacheNodePerHour[sizing.cacheNodeType];
  const perRegion = config.regions.map(({ region, availabilityZones }) => {
    const azs = availabilityZones.length;
    const nats = config.network.natGateways === 'single' ? 1 : azs;
    const taskHour =
      (sizing.taskCpu / 1024) * PRICES.fargateVcpuPerHour +
      (sizing.taskMemoryMiB / 1024) * PRICES.fargateGbPerHour;
    const lines: CostLine[] = [
      {
        item: `NAT gateways (${nats})`,
        monthlyUsd: nats * PRICES.natGatewayPerHour * HOURS_PER_MONTH,
      },
      {
        item: 'ALB (1 LCU)',
        monthlyUsd: (PRICES.albPerHour + PRICES.albLcuPerHour) * HOURS_PER_MONTH,
      },
      {
        // Every public IPv4 address is billed: each NAT gateway's Elastic IP and one per AZ for
        // the internet-facing ALB.
        item: `public IPv4 addresses (${nats + azs})`,
        monthlyUsd: (nats + azs) * PRICES.publicIpv4PerHour * HOURS_PER_MONTH,
      },
      {
        item: `Fargate tasks (${sizing.desiredTasks})`,
        monthlyUsd: sizing.desiredTasks * taskHour * HOURS_PER_MONTH,
      },
      {
        item: `cache nodes (${azs} × ${sizing.cacheNodeType})`,
        monthlyUsd: azs * (nodePrice ?? 0) * HOURS_PER_MONTH,
      },
      {
        item: `interface endpoints (${INTERFACE_ENDPOINTS} × ${azs} AZs)`,
        monthlyUsd: INTERFACE_ENDPOINTS * azs * PRICES.interfaceEndpointPerHour * HOURS_PER_MONTH,
      },
      {
        item: 'WAF',
        monthlyUsd: config.waf.enabled
          ? PRICES.wafWebAclPerMonth + WAF_RULES * PRICES.wafRulePerMonth
          : 0,
      },
      {
        item: 'CloudWatch alarms + dashboard',
        monthlyUsd:
          METRIC_ALARMS_PER_REGION * PRICES.cloudWatchAlarmPerMonth +
          PRICES.cloudWatchCompositeAlarmPerMonth +
          PRICES.cloudWatchDashboardPerMonth,
      },
    ].map((l) => ({ ...l, monthlyUsd: round(l.monthlyUsd) }));
    return { region, lines, totalUsd: sum(lines) };
  });

  // HTTPS (only with a domain), string matching and the 10 s interval are billed features.
  const features = config.domain ? 3 : 2;
  const healthCheck =
    PRICES.route53HealthCheckPerMonth + features * PRICES.route53HealthCheckFeaturePerMonth;
  const global: CostLine[] = [
    {
      item: `Route 53 health checks (${config.regions.length})`,
      monthlyUsd: round(config.regions.length * healthCheck),
    },
    { item: 'Route 53 hosted zone', monthlyUsd: PRICES.route53HostedZonePerMonth },
    { item: 'CloudFront (small site)', monthlyUsd: PRICES.cloudFrontSmallSitePerMonth },
  ];
  const unknownNode =
    nodePrice === undefined
      ? `; ${sizing.cacheNodeType} is not in the price table and counts as $0`
      : '';
  return {
    perRegion,
    global,
    totalUsd: round(perRegion.reduce((t, r) => t + r.totalUsd, 0) + sum(global)),
    basis: `fixed charges before traffic, ${PRICES_AS_OF}${unknownNode}`,
  };
}

/** Two lines for the synth summary. */
export function renderCostEstimate(estimate: CostEstimate): string {
  const regions = estimate.perRegion.map((r) => `${r.region} $${r.totalUsd.toFixed(0)}`).join(', ');
  return [
    `Rough monthly cost: $${estimate.totalUsd.toFixed(0)} (${regions}, global $${sum(estimate.global).toFixed(0)})`,
    `  basis: ${estimate.basis}`,
  ].join('\n');
}
