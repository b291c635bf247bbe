/**
 * Failure-detection budgets read from synthesized CloudFormation, so that they state what would be
 * deployed rather than what the config meant. Values CloudFormation leaves unset take AWS's
 * documented defaults.
 */

interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

export interface CloudFormationTemplate {
  readonly Resources?: Record<string, TemplateResource>;
}

/** AWS's defaults for an ALB target group health check with IP targets. */
const ALB_DEFAULTS = {
  intervalSeconds: 30,
  unhealthyThreshold: 2,
  deregistrationDelaySeconds: 300,
};
/** Route 53's health-check defaults; an alias record to an ALB has the ALB's 60 s TTL. */
const ROUTE53_DEFAULTS = { requestIntervalSeconds: 30, failureThreshold: 3 };
export const ALIAS_TTL_SECONDS = 60;

export interface TargetEjectionBudget {
  /** Health-check interval × unhealthy threshold: a bad target stops getting new requests. */
  readonly detectSeconds: number;
  /** The deregistration delay during which in-flight requests on the target may finish. */
  readonly drainSeconds: number;
}

export interface RegionFailoverBudget {
  /** Request interval × failure threshold: Route 53 declares the endpoint unhealthy. */
  readonly detectSeconds: number;
  /** Detection plus the alias TTL: resolvers have moved the region's users elsewhere. */
  readonly totalSeconds: number;
  /** Whether the check reads the body (a string match), so an empty 200 fails it. */
  readonly matchesBody: boolean;
}

function resourcesOfType(
  template: CloudFormationTemplate,
  type: string,
): Record<string, unknown>[] {
  return Object.values(template.Resources ?? {})
    .filter((r) => r.Type === type)
    .map((r) => r.Properties ?? {});
}

function numberOr(value: unknown, fallback: number): number {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : fallback;
}

/** One budget per ALB target group in the template. */
export function targetEjectionBudgets(template: CloudFormationTemplate): TargetEjectionBudget[] {
  return resourcesOfType(template, 'AWS::ElasticLoadBalancingV2::TargetGroup').map((tg) => {
    const attributes = (tg.TargetGroupAttributes ?? []) as { Key: string; Value: unknown }[];
    const delay = attributes.find((a) => a.Key === 'deregistration_delay.timeout_seconds');
    return {
      detectSeconds:
        numberOr(tg.HealthCheckIntervalSeconds, ALB_DEFAULTS.intervalSeconds) *
        numberOr(tg.UnhealthyThresholdCount, ALB_DEFAULTS.unhealthyThreshold),
      drainSeconds: numberOr(delay?.Value, ALB_DEFAULTS.deregistrationDelaySeconds),
    };
  });
}

/** One budget per Route 53 health check in the template. */
export function regionFailoverBudgets(template: CloudFormationTemplate): RegionFailoverBudget[] {
  return resourcesOfType(template, 'AWS::Route53::HealthCheck').map((hc) => {
    const config = (hc.HealthCheckConfig ?? {}) as Record<string, unknown>;
    const detectSeconds =
      numberOr(config.RequestInterval, ROUTE53_DEFAULTS.requestIntervalSeconds) *
      numberOr(config.FailureThreshold, ROUTE53_DEFAULTS.failureThreshold);
    return {
      detectSeconds,
      totalSeconds: detectSeconds + ALIAS_TTL_SECONDS,
      matchesBody: typeof config.Type === 'string' && config.Type.endsWith('_STR_MATCH'),
    };
  });
}
