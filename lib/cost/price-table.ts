/**
 * On-demand list prices used for the rough monthly estimate in the synth summary. They are
 * us-east-1 prices as published by AWS in 2025; other regions cost up to ~30 % more. Update the
 * figures and `PRICES_AS_OF` together.
 */
export const PRICES_AS_OF = '2025, us-east-1 on-demand list prices';

export const HOURS_PER_MONTH = 730;

export const PRICES = {
  natGatewayPerHour: 0.045,
  albPerHour: 0.0225,
  /** One LCU, the floor a lightly used ALB pays. */
  albLcuPerHour: 0.008,
  /** Each public IPv4 address, in use or not (since February 2024). */
  publicIpv4PerHour: 0.005,
  /** Fargate Linux/ARM64. */
  fargateVcpuPerHour: 0.03238,
  fargateGbPerHour: 0.00356,
  /** Per interface endpoint per AZ. */
  interfaceEndpointPerHour: 0.01,
  wafWebAclPerMonth: 5,
  wafRulePerMonth: 1,
  cloudWatchAlarmPerMonth: 0.1,
  cloudWatchCompositeAlarmPerMonth: 0.5,
  cloudWatchDashboardPerMonth: 3,
  /** Health check of an AWS endpoint, before optional features. */
  route53HealthCheckPerMonth: 0.5,
  /** Each optional feature: HTTPS, string matching, the 10 s interval. */
  route53HealthCheckFeaturePerMonth: 1,
  route53HostedZonePerMonth: 0.5,
  /** A distribution serving a small site: the free tier's floor is 0; count a token $1. */
  cloudFrontSmallSitePerMonth: 1,
  cacheNodePerHour: {
    'cache.t4g.micro': 0.016,
    'cache.t4g.small': 0.032,
    'cache.t4g.medium': 0.065,
    'cache.t3.micro': 0.017,
    'cache.t3.small': 0.034,
    'cache.t3.medium': 0.068,
    'cache.m7g.large': 0.158,
    'cache.r7g.large': 0.219,
  } as Record<string, number>,
} as const;
