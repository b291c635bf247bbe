import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Vpc } from 'aws-cdk-lib/aws-ec2';
import {
  ApplicationProtocol,
  ApplicationTargetGroup,
  TargetType,
} from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { CfnHealthCheck } from 'aws-cdk-lib/aws-route53';

import { regionFailoverBudgets, targetEjectionBudgets } from '../lib/budgets';

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
