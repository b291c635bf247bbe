import { App, CfnWaitConditionHandle, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ImportSource, KeyValueStore } from 'aws-cdk-lib/aws-cloudfront';
import { Alarm, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { Vpc } from 'aws-cdk-lib/aws-ec2';
import { ContainerImage, FargateTaskDefinition } from 'aws-cdk-lib/aws-ecs';
import { ApplicationTargetGroup, TargetType } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Rule } from 'aws-cdk-lib/aws-events';
import { CfnHealthCheck } from 'aws-cdk-lib/aws-route53';

import { createBaseline } from '../../bench/baseline/baseline';
import { detectionBudgets } from '../../bench/detection';

describe('the stock-pattern baseline', () => {
  // One synth for the file: the three regions' templates, as `cdk synth` would write them.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stacks = createBaseline(app);
  const templates = stacks.map((stack) => Template.fromStack(stack).toJSON());

  test('spreads each region over the AZs it was given, never the placeholders of a lookup', () => {
    const azs = (template: ReturnType<Template['toJSON']>) =>
      Object.values(
        template.Resources as Record<
          string,
          { Type: string; Properties: { AvailabilityZone?: string } }
        >,
      )
        .filter((r) => r.Type === 'AWS::EC2::Subnet')
        .map((r) => r.Properties.AvailabilityZone);
    expect(new Set(azs(templates[2]))).toEqual(new Set(['ap-northeast-1a', 'ap-northeast-1c']));
  });

  test("ejects a target after the ALB's default 30 s × 2 checks, then drains it for 300 s", () => {
    // WHEN
    const budgets = detectionBudgets(templates);
    // THEN
    expect(budgets.targetDetect).toEqual({ unit: 's', runs: 3, min: 60, median: 60, max: 60 });
    expect(budgets.targetDrain).toMatchObject({ min: 300, median: 300, max: 300 });
    expect(budgets.targetTotal).toMatchObject({ median: 360 });
  });

  test("moves a region's users after Route 53's default 30 s × 3 checks plus the 60 s alias TTL", () => {
    const budgets = detectionBudgets(templates);
    expect(budgets.regionDetect).toMatchObject({ runs: 3, median: 90 });
    expect(budgets.regionTotal).toMatchObject({ runs: 3, min: 150, max: 150 });
  });

  test('never detects a zero-length 200: its checks read only the status code', () => {
    const { zeroLength } = detectionBudgets(templates);
    expect(zeroLength).toMatchObject({
      detected: false,
      byTargetHealthCheck: false,
      byRoute53: false,
    });
    expect(zeroLength.evidence).toEqual([
      expect.stringContaining('0 of 3 target groups check /health/ready'),
      expect.stringContaining(
        '0 of 3 Route 53 health checks match a string in the body (types: HTTPS)',
      ),
    ]);
  });
});

describe('detectionBudgets', () => {
  function contractTemplate(options: { healthToken: boolean; edge?: boolean }) {
    // GIVEN a service on the blueprint's contract: a deep readiness check and a string match
    const stack = new Stack(new App(), 'Contract');
    const vpc = new Vpc(stack, 'Vpc', { availabilityZones: ['us-east-1a', 'us-east-1b'] });
    new ApplicationTargetGroup(stack, 'Tg', {
      vpc,
      port: 8080,
      targetType: TargetType.IP,
      healthCheck: {
        path: '/health/ready',
        interval: Duration.seconds(5),
        unhealthyThresholdCount: 3,
      },
      deregistrationDelay: Duration.seconds(20),
    });
    new FargateTaskDefinition(stack, 'TaskDef').addContainer('App', {
      image: ContainerImage.fromRegistry('example/app'),
      environment: options.healthToken ? { HEALTH_TOKEN: '"status":"ready"' } : {},
    });
    const hc = new CfnHealthCheck(stack, 'Hc', {
      healthCheckConfig: {
        type: 'HTTP_STR_MATCH',
        fullyQualifiedDomainName: 'example.com',
        resourcePath: '/health/ready',
        searchString: '"status":"ready"',
        requestInterval: 10,
        failureThreshold: 3,
      },
    });
    if (options.edge) {
      // The edge routing as the Global stack builds it: the check's alarm feeds a KeyValueStore.
      new Alarm(stack, 'Alarm', {
        metric: new Metric({
          namespace: 'AWS/Route53',
          metricName: 'HealthCheckStatus',
          dimensionsMap: { HealthCheckId: hc.ref },
          period: Duration.minutes(1),
          statistic: 'Minimum',
        }),
        threshold: 1,
        evaluationPeriods: 1,
      });
      new KeyValueStore(stack, 'Store', { source: ImportSource.fromInline('{"data":[]}') });
      new Rule(stack, 'OnAlarm', {
        eventPattern: { source: ['aws.cloudwatch'], detailType: ['CloudWatch Alarm State Change'] },
      });
    }
    return Template.fromStack(stack).toJSON();
  }

  test('detects a zero-length 200 at both layers for a contract service', () => {
    // WHEN
    const budgets = detectionBudgets([contractTemplate({ healthToken: true })]);
    // THEN
    expect(budgets.targetTotal).toMatchObject({ runs: 1, median: 35 });
    expect(budgets.regionTotal).toMatchObject({ runs: 1, median: 90 });
    // and no edge routing in this template, so no edge budget
    expect(budgets.edgeTotal).toBeUndefined();
    expect(budgets.zeroLength).toMatchObject({
      detected: true,
      byTargetHealthCheck: true,
      byRoute53: true,
    });
  });

  test('adds the edge budget (check + alarm + write + KVS propagation) when the alarm feeds a KeyValueStore', () => {
    const budgets = detectionBudgets([contractTemplate({ healthToken: true, edge: true })]);
    expect(budgets.edgeTotal).toMatchObject({
      runs: 1,
      median: 30 + 60 + budgets.edgeWriteSeconds + budgets.kvsPropagationSeconds,
    });
  });

  test('does not credit the target check when the service is not on the contract', () => {
    const { zeroLength } = detectionBudgets([contractTemplate({ healthToken: false })]);
    expect(zeroLength).toMatchObject({
      detected: true,
      byTargetHealthCheck: false,
      byRoute53: true,
    });
  });

  test('refuses templates without a target group or a health check', () => {
    const stack = new Stack(new App(), 'NoBalancer');
    new CfnWaitConditionHandle(stack, 'Placeholder');
    const empty = Template.fromStack(stack).toJSON();
    expect(() => detectionBudgets([empty])).toThrow('no ALB target group in the templates');
  });
});
