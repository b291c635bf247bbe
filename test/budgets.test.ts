import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ImportSource, KeyValueStore } from 'aws-cdk-lib/aws-cloudfront';
import { Alarm, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { Vpc } from 'aws-cdk-lib/aws-ec2';
import {
  ApplicationProtocol,
  ApplicationTargetGroup,
  TargetType,
} from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { CfnHealthCheck } from 'aws-cdk-lib/aws-route53';

import {
  EDGE_WRITE_SECONDS,
  edgeFailoverBudgets,
  KVS_PROPAGATION_SECONDS,
  regionFailoverBudgets,
  targetEjectionBudgets,
} from '../lib/budgets';

function templateOf(build: (stack: Stack, vpc: Vpc) => void) {
  const stack = new Stack(new App(), 'Budgets');
  build(stack, new Vpc(stack, 'Vpc', { availabilityZones: ['us-east-1a', 'us-east-1b'] }));
  return Template.fromStack(stack).toJSON();
}

describe('targetEjectionBudgets', () => {
  test('multiplies the interval by the unhealthy threshold and reports the drain', () => {
    // GIVEN a target group checked every 5 s, ejected after 3 failures, drained for 20 s
    const template = templateOf((stack, vpc) => {
      new ApplicationTargetGroup(stack, 'Tg', {
        vpc,
        port: 8080,
        protocol: ApplicationProtocol.HTTP,
        targetType: TargetType.IP,
        healthCheck: { interval: Duration.seconds(5), unhealthyThresholdCount: 3 },
        deregistrationDelay: Duration.seconds(20),
      });
    });
    // WHEN / THEN
    expect(targetEjectionBudgets(template)).toEqual([{ detectSeconds: 15, drainSeconds: 20 }]);
  });

  test("falls back to AWS's defaults where the template is silent", () => {
    const template = templateOf((stack, vpc) => {
      new ApplicationTargetGroup(stack, 'Tg', { vpc, port: 80, targetType: TargetType.IP });
    });
    expect(targetEjectionBudgets(template)).toEqual([{ detectSeconds: 60, drainSeconds: 300 }]);
  });
});

describe('regionFailoverBudgets', () => {
  test('adds the 60 s alias TTL and notices a body match', () => {
    const template = templateOf((stack) => {
      new CfnHealthCheck(stack, 'Hc', {
        healthCheckConfig: {
          type: 'HTTPS_STR_MATCH',
          fullyQualifiedDomainName: 'example.com',
          resourcePath: '/health/ready',
          searchString: '"status":"ready"',
          requestInterval: 10,
          failureThreshold: 3,
        },
      });
    });
    expect(regionFailoverBudgets(template)).toEqual([
      { detectSeconds: 30, totalSeconds: 90, matchesBody: true },
    ]);
  });

  test('flags a status-only check, which an empty 200 passes', () => {
    const template = templateOf((stack) => {
      new CfnHealthCheck(stack, 'Hc', {
        healthCheckConfig: { type: 'HTTP', fullyQualifiedDomainName: 'example.com' },
      });
    });
    expect(regionFailoverBudgets(template)).toEqual([
      { detectSeconds: 90, totalSeconds: 150, matchesBody: false },
    ]);
  });
});

describe('edgeFailoverBudgets', () => {
  /** A health check, its alarm, and (unless `edge` is false) the edge's store and rules. */
  function edgeTemplate(options: { edge: boolean; period: number; evaluationPeriods: number }) {
    return templateOf((stack) => {
      const hc = new CfnHealthCheck(stack, 'Hc', {
        healthCheckConfig: {
          type: 'HTTP_STR_MATCH',
          fullyQualifiedDomainName: 'example.com',
          searchString: 'ready',
          requestInterval: 10,
          failureThreshold: 2,
        },
      });
      new Alarm(stack, 'Alarm', {
        metric: new Metric({
          namespace: 'AWS/Route53',
          metricName: 'HealthCheckStatus',
          dimensionsMap: { HealthCheckId: hc.ref },
          period: Duration.seconds(options.period),
          statistic: 'Minimum',
        }),
        threshold: 1,
        evaluationPeriods: options.evaluationPeriods,
      });
      if (!options.edge) return;
      new KeyValueStore(stack, 'Store', { source: ImportSource.fromInline('{"data":[]}') });
      new Rule(stack, 'OnAlarm', {
        eventPattern: { source: ['aws.cloudwatch'], detailType: ['CloudWatch Alarm State Change'] },
      });
      new Rule(stack, 'Reconcile', { schedule: Schedule.rate(Duration.minutes(2)) });
    });
  }

  test('adds the alarm evaluation, the write and the KVS propagation to the health check', () => {
    // GIVEN a 10 s × 2 check whose alarm evaluates 2 periods of 60 s, feeding the edge store
    const template = edgeTemplate({ edge: true, period: 60, evaluationPeriods: 2 });
    // WHEN / THEN
    expect(edgeFailoverBudgets(template)).toEqual([
      {
        detectSeconds: 20,
        alarmSeconds: 120,
        writeSeconds: EDGE_WRITE_SECONDS,
        propagationSeconds: KVS_PROPAGATION_SECONDS,
        totalSeconds: 20 + 120 + EDGE_WRITE_SECONDS + KVS_PROPAGATION_SECONDS,
        reconcileSeconds: 120,
      },
    ]);
  });

  test('is empty for a template without edge routing (no store, no alarm rule)', () => {
    expect(
      edgeFailoverBudgets(edgeTemplate({ edge: false, period: 60, evaluationPeriods: 1 })),
    ).toEqual([]);
  });
});
