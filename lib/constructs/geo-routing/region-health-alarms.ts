import { Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { IHealthCheck } from 'aws-cdk-lib/aws-route53';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

/** Route 53 publishes health-check metrics only in this region. */
const ROUTE53_METRICS_REGION = 'us-east-1';

/** A region's Route 53 health check. */
export interface RegionHealthCheck {
  readonly region: string;
  readonly healthCheck: IHealthCheck;
}

export interface RegionHealthAlarmsProps {
  /** The health checks to alarm on, one per region. */
  readonly healthChecks: readonly RegionHealthCheck[];
  /**
   * Where alarm and recovery notifications are e-mailed.
   * @default - no e-mail subscription; subscribe to `topic` by other means
   */
  readonly alarmEmail?: string;
}

/**
 * One alarm per region on Route 53's `HealthCheckStatus` metric, raised when Route 53 has found the
 * region unhealthy (and so taken it out of the geoproximity answers), cleared when it recovers.
 * Both notify an SNS topic encrypted with a customer-managed key that CloudWatch may use, and
 * whose policy refuses publishing without TLS. Route 53 publishes these metrics only in us-east-1,
 * so this construct must live in a stack there.
 */
export class RegionHealthAlarms extends Construct {
  public readonly topic: Topic;
  /** The alarm of each region, by region. */
  public readonly alarms: Readonly<Record<string, Alarm>>;

  constructor(scope: Construct, id: string, props: RegionHealthAlarmsProps) {
    super(scope, id);
    const problems: string[] = [];
    const region = Stack.of(this).region;
    if (!Token.isUnresolved(region) && region !== ROUTE53_METRICS_REGION) {
      problems.push(
        `must be in a stack in ${ROUTE53_METRICS_REGION}, where Route 53 publishes health-check metrics, got ${region}`,
      );
    }
    if (
      props.alarmEmail !== undefined &&
      !Token.isUnresolved(props.alarmEmail) &&
      !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(props.alarmEmail)
    ) {
      problems.push(
        `alarmEmail must be an e-mail address such as "ops@example.com", got ${JSON.stringify(props.alarmEmail)}`,
      );
    }
    if (problems.length > 0) {
      throw new Error(
        `RegionHealthAlarms has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n` +
          problems.map((p) => `  - ${p}`).join('\n'),
      );
    }

    const key = new Key(this, 'TopicKey', {
      description: 'Encrypts the region health alarm topic',
      enableKeyRotation: true,
      // It protects alarm notifications, not data at rest: nothing is lost with it, so it goes
      // with the stack (after KMS's shortest waiting period) rather than billing forever.
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // CloudWatch publishes alarm notifications to the encrypted topic, so it needs the key.
    key.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    this.topic = new Topic(this, 'Topic', {
      displayName: 'Region health alarms',
      masterKey: key,
      enforceSSL: true,
    });
    if (props.alarmEmail !== undefined) {
      this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
    }

    const action = new SnsAction(this.topic);
    const alarms: Record<string, Alarm> = {};
    for (const { region: checked, healthCheck } of props.healthChecks) {
      const alarm = new Alarm(this, `Unhealthy-${checked}`, {
        alarmDescription:
          `Route 53 finds ${checked} unhealthy: its load balancer's /health/ready stopped answering ` +
          'with the readiness token, so geoproximity DNS sends its users to other regions.',
        metric: new Metric({
          namespace: 'AWS/Route53',
          metricName: 'HealthCheckStatus',
          dimensionsMap: { HealthCheckId: healthCheck.healthCheckId },
          statistic: 'Minimum',
          period: Duration.minutes(1),
          region: ROUTE53_METRICS_REGION,
        }),
        comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
        threshold: 1,
        evaluationPeriods: 1,
        // No data means Route 53 has not checked yet (a new health check), not that it failed.
        treatMissingData: TreatMissingData.MISSING,
      });
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
      alarms[checked] = alarm;
    }
    this.alarms = alarms;
  }
}
