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

/**
 * Failover at the edge (the site's `/api/*` routing), past the health check itself:
 * - EventBridge delivers the alarm's state change and the writer makes three KeyValueStore calls
 *   (describe, read, conditional write), cold start included. An allowance of ours, not an AWS
 *   figure.
 * - The write reaches every edge location. AWS states no propagation figure in the KeyValueStore
 *   documentation (docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/kvs-with-functions.html)
 *   or its launch post; third-party write-ups report "seconds to low tens of seconds". This is an
 *   allowance at the top of that range.
 */
export const EDGE_WRITE_SECONDS = 5;
export const KVS_PROPAGATION_SECONDS = 30;

export interface EdgeFailoverBudget {
  /** Route 53 request interval × failure threshold. */
  readonly detectSeconds: number;
  /** The health-check alarm's period × evaluation periods. */
  readonly alarmSeconds: number;
  /** EventBridge + the writer function + the KeyValueStore write (`EDGE_WRITE_SECONDS`). */
  readonly writeSeconds: number;
  /** The write reaching every edge location (`KVS_PROPAGATION_SECONDS`). */
  readonly propagationSeconds: number;
  /** The sum: the routing function stops choosing the region. No resolver cache follows. */
  readonly totalSeconds: number;
  /**
   * How often the writer reconciles every entry with its alarm: the extra delay when the alarm's
   * event is lost. Undefined when the template has no reconcile schedule.
   */
  readonly reconcileSeconds?: number;
}

function rateSeconds(expression: unknown): number | undefined {
  const match = /^rate\((\d+) (minute|minutes|hour|hours)\)$/.exec(String(expression));
  if (!match) return undefined;
  return Number(match[1]) * (match[2].startsWith('minute') ? 60 : 3600);
}

/**
 * One budget per Route 53 health check whose alarm feeds the edge's health store: the template
 * has a CloudFront KeyValueStore, an EventBridge rule on alarm state changes, and an alarm on the
 * check's `HealthCheckStatus`. None for a template without edge routing.
 */
export function edgeFailoverBudgets(template: CloudFormationTemplate): EdgeFailoverBudget[] {
  const all = Object.entries(template.Resources ?? {});
  const rules = all
    .filter(([, r]) => r.Type === 'AWS::Events::Rule')
    .map(([, r]) => r.Properties ?? {});
  const onAlarmChange = rules.some(
    (rule) =>
      JSON.stringify(
        (rule.EventPattern as Record<string, unknown> | undefined)?.['detail-type'],
      ) === JSON.stringify(['CloudWatch Alarm State Change']),
  );
  if (!onAlarmChange || !all.some(([, r]) => r.Type === 'AWS::CloudFront::KeyValueStore')) {
    return [];
  }
  const reconcileSeconds = rules
    .map((rule) => rateSeconds(rule.ScheduleExpression))
    .find((s) => s !== undefined);
  const alarms = all
    .filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm')
    .map(([, r]) => r.Properties ?? {});
  return all
    .filter(([, r]) => r.Type === 'AWS::Route53::HealthCheck')
    .flatMap(([id, r]) => {
      const alarm = alarms.find(
        (a) =>
          a.MetricName === 'HealthCheckStatus' &&
          JSON.stringify(a.Dimensions ?? []).includes(JSON.stringify({ Ref: id })),
      );
      if (alarm === undefined) return [];
      const config = (r.Properties?.HealthCheckConfig ?? {}) as Record<string, unknown>;
      const detectSeconds =
        numberOr(config.RequestInterval, ROUTE53_DEFAULTS.requestIntervalSeconds) *
        numberOr(config.FailureThreshold, ROUTE53_DEFAULTS.failureThreshold);
      const alarmSeconds = numberOr(alarm.Period, 60) * numberOr(alarm.EvaluationPeriods, 1);
      return [
        {
          detectSeconds,
          alarmSeconds,
          writeSeconds: EDGE_WRITE_SECONDS,
          propagationSeconds: KVS_PROPAGATION_SECONDS,
          totalSeconds: detectSeconds + alarmSeconds + EDGE_WRITE_SECONDS + KVS_PROPAGATION_SECONDS,
          reconcileSeconds,
        },
      ];
    });
}
