import { Duration } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmRule,
  AlarmState,
  AlarmStatusWidget,
  ComparisonOperator,
  CompositeAlarm,
  Dashboard,
  GraphWidget,
  MathExpression,
  Metric,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { FargateService } from 'aws-cdk-lib/aws-ecs';
import {
  ApplicationLoadBalancer,
  ApplicationTargetGroup,
  HttpCodeElb,
  HttpCodeTarget,
} from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface RegionAlarmsProps {
  /** Prefix of every alarm name, e.g. `Blueprint-eu-west-1`; names are fixed so deployments can cite them. */
  readonly alarmNamePrefix: string;
  readonly region: string;
  readonly loadBalancer: ApplicationLoadBalancer;
  readonly targetGroup: ApplicationTargetGroup;
  /**
   * The service's other target group (canary deployments move each new revision between the
   * two). Given, the target alarms watch both groups: target 5xx and latency at the load
   * balancer, which covers every group, and the host counts summed over both.
   * @default - the target alarms watch `targetGroup` alone
   */
  readonly alternateTargetGroup?: ApplicationTargetGroup;
  readonly service: FargateService;
  /** The memcached cluster id (its `ref`). */
  readonly cacheClusterId: string;
  /** Healthy targets below this many means the region has lost capacity it needs. */
  readonly minHealthyHosts: number;
  /** Namespace of the service's EMF metrics (`ZeroLengthResponses`, ... with dimension Region). */
  readonly serviceMetricsNamespace: string;
  /**
   * Where alarm notifications are e-mailed.
   * @default - no e-mail subscription
   */
  readonly alarmEmail?: string;
  /**
   * A canary reads this region's endpoint every minute (the chaos canary does), so the load
   * balancer's request metrics always have data and no data means the region is not known healthy.
   * Then the region-impaired composite fails closed on missing data: its children breach, or, for
   * the alarms that also roll deployments back, count INSUFFICIENT_DATA as impaired (ECS rolls back
   * only on ALARM, so a deployment without traffic is not rolled back for want of data).
   * @default false - missing data counts as healthy, as suits a region nobody probes
   */
  readonly canaryTraffic?: boolean;
  /**
   * p99 target response time above which the region is slow.
   * @default Duration.seconds(1)
   */
  readonly p99LatencyThreshold?: Duration;
}

const ONE_MINUTE = Duration.minutes(1);

/**
 * The signals a game day watches, as alarms on an SNS topic, a composite "region impaired" alarm
 * (the chaos stop condition) and a dashboard.
 */
export class RegionAlarms extends Construct {
  public readonly topic: Topic;
  public readonly regionImpaired: CompositeAlarm;
  /** Metric alarms that roll a deployment back when they fire during it. */
  public readonly deploymentAlarms: readonly Alarm[];
  /** Fewer healthy targets than the service needs: blocks zonal autoshift practice runs. */
  public readonly healthyHostsLow: Alarm;
  public readonly dashboard: Dashboard;
  private readonly alarms: Alarm[] = [];

  /** The fixed names, known before the alarms exist, for the service's deployment alarms. */
  static deploymentAlarmNames(alarmNamePrefix: string): string[] {
    return ['alb-5xx-rate', 'target-5xx-rate', 'zero-length-responses'].map(
      (n) => `${alarmNamePrefix}-${n}`,
    );
  }

  constructor(scope: Construct, id: string, props: RegionAlarmsProps) {
    super(scope, id);
    const prefix = props.alarmNamePrefix;
    this.topic = new Topic(this, 'Topic', { enforceSSL: true, displayName: `${prefix} alarms` });
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        actions: ['sns:Publish'],
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        resources: [this.topic.topicArn],
      }),
    );
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));

    const canary = props.canaryTraffic ?? false;
    // See `canaryTraffic`: deployment alarms go INSUFFICIENT_DATA without data, the others breach.
    const deploymentMissing = canary ? TreatMissingData.MISSING : TreatMissingData.NOT_BREACHING;
    const otherMissing = canary ? TreatMissingData.BREACHING : TreatMissingData.NOT_BREACHING;
    const lb = props.loadBalancer.metrics;
    const tg = props.targetGroup.metrics;
    const alternate = props.alternateTargetGroup?.metrics;
    const requests = lb.requestCount({ period: ONE_MINUTE });
    /** A host count over both target groups: the sum of whichever publish. */
    const hosts = (label: string, count: (m: typeof tg) => Metric): Metric | MathExpression =>
      alternate
        ? new MathExpression({
            expression: 'SUM([primary, alternate])',
            usingMetrics: { primary: count(tg), alternate: count(alternate) },
            period: ONE_MINUTE,
            label,
          })
        : count(tg);
    const target5xxCount = (alternate ? lb : tg).httpCodeTarget(HttpCodeTarget.TARGET_5XX_COUNT, {
      period: ONE_MINUTE,
    });
    const rate = (label: string, errors: Metric) =>
      new MathExpression({
        // The ALB publishes a 5xx count only when it is not zero: a missing count is 0. A missing
        // request count leaves the rate missing.
        expression: 'IF(requests > 0, 100 * FILL(errors, 0) / requests, 0)',
        usingMetrics: { errors, requests },
        period: ONE_MINUTE,
        label,
      });
    const zeroLength = new Metric({
      namespace: props.serviceMetricsNamespace,
      metricName: 'ZeroLengthResponses',
      dimensionsMap: { Region: props.region },
      statistic: 'Sum',
      period: ONE_MINUTE,
    });
    const cacheMetric = (metricName: string, statistic: string) =>
      new Metric({
        namespace: 'AWS/ElastiCache',
        metricName,
        dimensionsMap: { CacheClusterId: props.cacheClusterId },
        statistic,
        period: Duration.minutes(5),
      });

    const [alb5xx, target5xx, zeroLengthAlarm] = RegionAlarms.deploymentAlarmNames(prefix);
    const alb5xxRate = this.alarm('Alb5xxRate', alb5xx, {
      metric: rate('ALB 5xx %', lb.httpCodeElb(HttpCodeElb.ELB_5XX_COUNT, { period: ONE_MINUTE })),
      threshold: 5,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      treatMissingData: deploymentMissing,
      description: 'More than 5% of requests got a 5xx from the load balancer itself.',
    });
    const target5xxRate = this.alarm('Target5xxRate', target5xx, {
      metric: rate('Target 5xx %', target5xxCount),
      threshold: 5,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      treatMissingData: deploymentMissing,
      description: 'More than 5% of requests got a 5xx from the service.',
    });
    const zeroLengthResponses = this.alarm('ZeroLength', zeroLengthAlarm, {
      metric: zeroLength,
      threshold: 0,
      evaluationPeriods: 1,
      treatMissingData: deploymentMissing,
      description: 'The service sent a zero-length response: a target may be answering empty.',
    });
    this.alarm('UnhealthyHosts', `${prefix}-unhealthy-hosts`, {
      metric: hosts('Unhealthy hosts', (m) =>
        m.unhealthyHostCount({ period: ONE_MINUTE, statistic: 'Maximum' }),
      ),
      threshold: 0,
      evaluationPeriods: 2,
      description: 'At least one target is failing its readiness check.',
    });
    const healthyHostsLow = this.alarm('HealthyHostsLow', `${prefix}-healthy-hosts-low`, {
      metric: hosts('Healthy hosts', (m) =>
        m.healthyHostCount({ period: ONE_MINUTE, statistic: 'Minimum' }),
      ),
      threshold: props.minHealthyHosts,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 2,
      treatMissingData: TreatMissingData.BREACHING,
      description: `Fewer than ${props.minHealthyHosts} healthy targets.`,
    });
    const p99 = props.p99LatencyThreshold ?? Duration.seconds(1);
    const latency = this.alarm('P99Latency', `${prefix}-p99-latency`, {
      metric: (alternate ? lb : tg).targetResponseTime({ period: ONE_MINUTE, statistic: 'p99' }),
      threshold: p99.toMilliseconds() / 1000,
      evaluationPeriods: 3,
      treatMissingData: otherMissing,
      description: `p99 target response time above ${p99.toSeconds()} s.`,
    });
    this.alarm('EcsCpu', `${prefix}-ecs-cpu`, {
      metric: props.service.metricCpuUtilization({ period: ONE_MINUTE }),
      threshold: 80,
      evaluationPeriods: 5,
      description: 'Service CPU above 80%: autoscaling is not keeping up.',
    });
    this.alarm('EcsMemory', `${prefix}-ecs-memory`, {
      metric: props.service.metricMemoryUtilization({ period: ONE_MINUTE }),
      threshold: 80,
      evaluationPeriods: 5,
      description: 'Service memory above 80%.',
    });
    this.alarm('CacheCpu', `${prefix}-cache-cpu`, {
      metric: cacheMetric('CPUUtilization', 'Average'),
      threshold: 75,
      evaluationPeriods: 2,
      description: 'memcached CPU above 75%.',
    });
    this.alarm('CacheEvictions', `${prefix}-cache-evictions`, {
      metric: cacheMetric('Evictions', 'Sum'),
      threshold: 1000,
      evaluationPeriods: 2,
      description: 'memcached is evicting: the cache is too small for the working set.',
    });
    this.alarm('CacheConnections', `${prefix}-cache-connections`, {
      metric: cacheMetric('CurrConnections', 'Maximum'),
      threshold: 2000,
      evaluationPeriods: 2,
      description: 'Unusually many memcached connections: a client may be leaking them.',
    });
    this.deploymentAlarms = [alb5xxRate, target5xxRate, zeroLengthResponses];
    this.healthyHostsLow = healthyHostsLow;

    // What users feel, not what one task feels: errors, empty bodies, slowness, lost capacity.
    this.regionImpaired = new CompositeAlarm(this, 'RegionImpaired', {
      compositeAlarmName: `${prefix}-region-impaired`,
      alarmDescription:
        'Users of this region are affected. Chaos experiments stop and refuse to start while it fires.',
      alarmRule: AlarmRule.anyOf(
        ...[alb5xxRate, target5xxRate, zeroLengthResponses, healthyHostsLow, latency].map((a) =>
          AlarmRule.fromAlarm(a, AlarmState.ALARM),
        ),
        // Fails closed: a child without data does not vouch for the region.
        ...(canary
          ? [alb5xxRate, target5xxRate, zeroLengthResponses].map((a) =>
              AlarmRule.fromAlarm(a, AlarmState.INSUFFICIENT_DATA),
            )
          : []),
      ),
    });
    this.regionImpaired.addAlarmAction(new SnsAction(this.topic));

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: `${prefix}-gameday`,
      defaultInterval: Duration.hours(1),
    });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown: `# ${prefix}\nWhat a game day watches: traffic, errors, empty bodies, target health, latency, cache.`,
        width: 24,
        height: 2,
      }),
      new AlarmStatusWidget({
        title: 'Alarms',
        alarms: [this.regionImpaired, ...this.alarms],
        width: 24,
      }),
      new GraphWidget({
        title: 'Requests and 5xx',
        left: [requests],
        right: [
          lb.httpCodeElb(HttpCodeElb.ELB_5XX_COUNT),
          tg.httpCodeTarget(HttpCodeTarget.TARGET_5XX_COUNT),
        ],
        width: 12,
      }),
      new GraphWidget({ title: 'Zero-length responses', left: [zeroLength], width: 12 }),
      new GraphWidget({
        title: 'Target health',
        left: [tg.healthyHostCount(), tg.unhealthyHostCount()],
        width: 12,
      }),
      new GraphWidget({
        title: 'Target response time',
        left: [
          tg.targetResponseTime({ statistic: 'p50' }),
          tg.targetResponseTime({ statistic: 'p99' }),
        ],
        width: 12,
      }),
      new GraphWidget({
        title: 'Cache hits and misses',
        left: ['CacheHits', 'CacheMisses'].map(
          (metricName) =>
            new Metric({
              namespace: props.serviceMetricsNamespace,
              metricName,
              dimensionsMap: { Region: props.region },
              statistic: 'Sum',
            }),
        ),
        width: 12,
      }),
      new GraphWidget({
        title: 'Service CPU and memory',
        left: [props.service.metricCpuUtilization(), props.service.metricMemoryUtilization()],
        width: 12,
      }),
      new GraphWidget({
        title: 'memcached',
        left: [cacheMetric('CPUUtilization', 'Average')],
        right: [cacheMetric('Evictions', 'Sum'), cacheMetric('CurrConnections', 'Maximum')],
        width: 24,
      }),
    );
  }

  private alarm(
    id: string,
    alarmName: string,
    props: {
      metric: Metric | MathExpression;
      threshold: number;
      evaluationPeriods: number;
      datapointsToAlarm?: number;
      comparisonOperator?: ComparisonOperator;
      treatMissingData?: TreatMissingData;
      description: string;
    },
  ): Alarm {
    const alarm = new Alarm(this, id, {
      alarmName,
      metric: props.metric,
      threshold: props.threshold,
      evaluationPeriods: props.evaluationPeriods,
      datapointsToAlarm: props.datapointsToAlarm,
      comparisonOperator: props.comparisonOperator ?? ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: props.treatMissingData ?? TreatMissingData.NOT_BREACHING,
      alarmDescription: props.description,
    });
    alarm.addAlarmAction(new SnsAction(this.topic));
    this.alarms.push(alarm);
    return alarm;
  }
}
