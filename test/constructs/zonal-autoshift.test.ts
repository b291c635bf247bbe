import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Alarm, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { Vpc } from 'aws-cdk-lib/aws-ec2';
import { ApplicationLoadBalancer } from 'aws-cdk-lib/aws-elasticloadbalancingv2';

import {
  ZonalAutoshift,
  ZonalAutoshiftProps,
} from '../../lib/constructs/load-balancer/zonal-autoshift';

function fixture(extra: Partial<ZonalAutoshiftProps> = {}) {
  const stack = new Stack(new App(), 'Test', {
    env: { account: '111122223333', region: 'eu-west-1' },
  });
  const vpc = new Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
  const loadBalancer = new ApplicationLoadBalancer(stack, 'Alb', { vpc, internetFacing: true });
  const alarm = (id: string) =>
    new Alarm(stack, id, {
      metric: new Metric({ namespace: 'Test', metricName: id }),
      threshold: 1,
      evaluationPeriods: 1,
    });
  const outcomeAlarm = alarm('Outcome');
  const blockingAlarm = alarm('Blocking');
  const make = () =>
    new ZonalAutoshift(stack, 'Autoshift', { loadBalancer, outcomeAlarm, blockingAlarm, ...extra });
  return { stack, make, outcomeAlarm, blockingAlarm };
}

describe('ZonalAutoshift', () => {
  test('enables autoshift on the load balancer with the outcome and blocking alarms as practice-run controls', () => {
    // GIVEN a load balancer and two alarms
    const { stack, make } = fixture();
    // WHEN autoshift is configured
    make();
    // THEN the configuration names the ALB and wires each alarm by ARN, as CLOUDWATCH conditions
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ARCZonalShift::ZonalAutoshiftConfiguration', {
      ResourceIdentifier: { Ref: Match.stringLikeRegexp('^Alb') },
      ZonalAutoshiftStatus: 'ENABLED',
      PracticeRunConfiguration: {
        OutcomeAlarms: [
          {
            AlarmIdentifier: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Outcome'), 'Arn'] },
            Type: 'CLOUDWATCH',
          },
        ],
        BlockingAlarms: [
          {
            AlarmIdentifier: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Blocking'), 'Arn'] },
            Type: 'CLOUDWATCH',
          },
        ],
      },
    });
  });

  test('emits only the properties the CloudFormation schema knows, and no empty blocked lists', () => {
    // GIVEN no blocked windows or dates
    const { stack, make } = fixture();
    make();
    // THEN the practice-run configuration holds only the alarms
    const [config] = Object.values(
      Template.fromStack(stack).findResources('AWS::ARCZonalShift::ZonalAutoshiftConfiguration'),
    ) as { Properties: Record<string, Record<string, unknown>> }[];
    expect(Object.keys(config.Properties).sort()).toEqual([
      'PracticeRunConfiguration',
      'ResourceIdentifier',
      'ZonalAutoshiftStatus',
    ]);
    expect(Object.keys(config.Properties.PracticeRunConfiguration).sort()).toEqual([
      'BlockingAlarms',
      'OutcomeAlarms',
    ]);
  });

  test('passes blocked windows and dates through', () => {
    const { stack, make } = fixture({
      blockedWindows: ['Mon:09:00-Mon:17:00'],
      blockedDates: ['2026-12-24'],
    });
    make();
    Template.fromStack(stack).hasResourceProperties(
      'AWS::ARCZonalShift::ZonalAutoshiftConfiguration',
      {
        PracticeRunConfiguration: Match.objectLike({
          BlockedWindows: ['Mon:09:00-Mon:17:00'],
          BlockedDates: ['2026-12-24'],
        }),
      },
    );
  });

  test('depends on the load balancer, whose zonal shift attribute ARC needs first', () => {
    const { stack, make } = fixture();
    make();
    const [config] = Object.values(
      Template.fromStack(stack).findResources('AWS::ARCZonalShift::ZonalAutoshiftConfiguration'),
    ) as { DependsOn?: string[] }[];
    expect(config.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^Alb/)]));
  });

  test('refuses a malformed blocked window and date, naming both with the format allowed', () => {
    const { make } = fixture({ blockedWindows: ['monday 9-5'], blockedDates: ['24/12/2026'] });
    expect(make).toThrow(
      'ZonalAutoshift: blockedWindows must hold UTC windows such as "Mon:09:00-Mon:17:00", got "monday 9-5"; ' +
        'blockedDates must hold dates such as "2026-12-24", got "24/12/2026"',
    );
  });

  test('refuses the same alarm as outcome and blocking alarm', () => {
    // GIVEN the outcome alarm passed again as the blocking alarm
    const stack = new Stack(new App(), 'Same');
    const vpc = new Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
    const loadBalancer = new ApplicationLoadBalancer(stack, 'Alb', { vpc });
    const alarm = new Alarm(stack, 'A', {
      metric: new Metric({ namespace: 'Test', metricName: 'A' }),
      threshold: 1,
      evaluationPeriods: 1,
    });
    // WHEN / THEN
    expect(
      () =>
        new ZonalAutoshift(stack, 'Autoshift', {
          loadBalancer,
          outcomeAlarm: alarm,
          blockingAlarm: alarm,
        }),
    ).toThrow(
      'ZonalAutoshift: blockingAlarm must differ from outcomeAlarm, got the same alarm for both',
    );
  });
});
