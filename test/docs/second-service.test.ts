import { readFileSync } from 'node:fs';

import { App, Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ContainerImage } from 'aws-cdk-lib/aws-ecs';

import { OrdersService, OrdersServiceProps } from '../../examples/second-service/orders-service';
import { createBlueprint } from '../../lib/blueprint';
import { CATALOG_RULE_PRIORITY } from '../../lib/constructs/service/catalog-service';
import { loadConfig, resolveConfig } from '../../lib/load-config';
import { RegionalStack } from '../../lib/stacks/regional-stack';
import { nagErrors } from '../support/nag';

/** The image stands in for `ContainerImage.fromAsset` of the new app's folder. */
const IMAGE = ContainerImage.fromRegistry('public.ecr.aws/docker/library/node:22-alpine');

/**
 * The fork of docs/fork.md section 10: the two-region example with the orders service wired into
 * each regional stack as the guide's snippet does (the snippet's `edge.listener` is the regional
 * stack's only listener).
 */
function forkWithOrders(healthCheck?: Record<string, number>) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const example = loadConfig('examples/fork-two-regions.json');
  // The file's own fields, not the resolved config: resolving fills in both deployment shares,
  // and a share for the other strategy is refused.
  const raw = JSON.parse(readFileSync('examples/fork-two-regions.json', 'utf8')) as object;
  const config = healthCheck ? resolveConfig({ ...raw, healthCheck }) : example;
  const hc = config.healthCheck;
  const blueprint = createBlueprint(app, config);
  const orders = blueprint.regional.map(
    (stack) =>
      new OrdersService(stack, 'Orders', {
        cluster: stack.catalog.cluster,
        listener: stack.loadBalancer.listeners[0],
        image: IMAGE,
        priority: 10,
        pathPatterns: ['/orders', '/orders/*'],
        healthToken: hc.token,
        healthCheckIntervalSeconds: hc.albIntervalSeconds,
        healthCheckTimeoutSeconds: hc.albTimeoutSeconds,
        healthyThresholdCount: hc.albHealthyThreshold,
        unhealthyThresholdCount: hc.albUnhealthyThreshold,
      }),
  );
  return { app, stack: blueprint.regional[0], orders: orders[0] };
}

function logicalIdOf(stack: RegionalStack, construct: { node: { defaultChild?: unknown } }) {
  return stack.getLogicalId(construct.node.defaultChild as never);
}

describe('the second service of the forking guide', () => {
  const { app, stack, orders } = forkWithOrders();
  // Synthesize with cdk-nag first; the template tests only read the result.
  const violations = nagErrors(app);
  const template = Template.fromStack(stack);

  test('gets /orders and /orders/* by a listener rule matched before the catalog’s catch-all rule', () => {
    // THEN
    const ordersGroup = logicalIdOf(stack, orders.targetGroup);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Priority: 10,
      Conditions: [
        { Field: 'path-pattern', PathPatternConfig: { Values: ['/orders', '/orders/*'] } },
      ],
      Actions: [{ Type: 'forward', TargetGroupArn: { Ref: ordersGroup } }],
    });
    // AND the catalog keeps everything else through its `/*` rule, evaluated after the orders rule
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Priority: CATALOG_RULE_PRIORITY,
      Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/*'] } }],
      Actions: [
        Match.objectLike({
          Type: 'forward',
          ForwardConfig: Match.objectLike({
            TargetGroups: Match.arrayWith([
              {
                TargetGroupArn: { Ref: logicalIdOf(stack, stack.catalog.targetGroup) },
                Weight: 100,
              },
            ]),
          }),
        }),
      ],
    });
  });

  test('checks the new service’s readiness on its own target group', () => {
    // THEN
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 8080,
      TargetType: 'ip',
      HealthCheckPath: '/health/ready',
      Matcher: { HttpCode: '200' },
    });
    expect(Object.keys(template.findResources('AWS::ElasticLoadBalancingV2::TargetGroup'))).toEqual(
      expect.arrayContaining([logicalIdOf(stack, orders.targetGroup)]),
    );
  });

  test('runs ARM64 tasks in the catalog’s cluster, with the contract’s environment', () => {
    // THEN
    template.hasResourceProperties('AWS::ECS::Service', {
      Cluster: { Ref: logicalIdOf(stack, stack.catalog.cluster) },
      DesiredCount: 2,
      DeploymentConfiguration: Match.objectLike({
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
        MinimumHealthyPercent: 100,
      }),
    });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      ContainerDefinitions: [
        Match.objectLike({
          Image: 'public.ecr.aws/docker/library/node:22-alpine',
          ReadonlyRootFilesystem: true,
          StopTimeout: 30,
          Environment: Match.arrayWith([
            { Name: 'PORT', Value: '8080' },
            { Name: 'HEALTH_TOKEN', Value: '"status":"ready"' },
            { Name: 'SHUTDOWN_DRAIN_SECONDS', Value: '20' },
          ]),
        }),
      ],
    });
  });

  test('checks the body as the catalog does: a container health check running the token script', () => {
    // THEN the orders task's container health check is the contract's script, as patient as the
    // catalog's
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          Image: 'public.ecr.aws/docker/library/node:22-alpine',
          HealthCheck: {
            Command: ['CMD', 'node', '/app/healthcheck.js'],
            Interval: 10,
            Timeout: 5,
            Retries: 5,
            StartPeriod: 30,
          },
        }),
      ],
    });
  });

  test('passes every AwsSolutions check in the blueprint', () => {
    // THEN
    expect(violations).toEqual([]);
  });
});

describe('the second service with the config’s own health-check timings', () => {
  test('its target group checks at the configured interval, timeout and thresholds', () => {
    // GIVEN a fork whose health checks are slower than the defaults
    const { stack, orders } = forkWithOrders({
      albIntervalSeconds: 10,
      albTimeoutSeconds: 6,
      albHealthyThreshold: 4,
      albUnhealthyThreshold: 5,
    });
    // WHEN
    const template = Template.fromStack(stack);
    // THEN
    const group = template.findResources('AWS::ElasticLoadBalancingV2::TargetGroup')[
      logicalIdOf(stack, orders.targetGroup)
    ] as { Properties: Record<string, unknown> };
    expect(group.Properties).toMatchObject({
      HealthCheckPath: '/health/ready',
      HealthCheckIntervalSeconds: 10,
      HealthCheckTimeoutSeconds: 6,
      HealthyThresholdCount: 4,
      UnhealthyThresholdCount: 5,
    });
  });
});

describe('OrdersService validation', () => {
  test('names every problem at once: priority, missing routes and counts', () => {
    // GIVEN
    const { stack } = forkWithOrders();
    const props: OrdersServiceProps = {
      cluster: stack.catalog.cluster,
      listener: stack.loadBalancer.listeners[0],
      image: IMAGE,
      priority: 0,
      healthToken: 'ok',
      desiredCount: 5,
      maxCount: 2,
      drainTime: Duration.seconds(45),
    };
    // WHEN / THEN
    expect(() => new OrdersService(stack, 'Bad', props)).toThrow(
      [
        'OrdersService has 4 problems:',
        '  - priority must be an integer from 1 to 50000, got 0',
        '  - pathPatterns or hostHeaders must name what this service answers, got neither',
        '  - desiredCount must not exceed maxCount, got 5 > 2',
        '  - drainTime must be 0-30 seconds, got 45',
      ].join('\n'),
    );
  });

  test('refuses health-check timings the ALB would refuse at deploy', () => {
    // GIVEN
    const { stack } = forkWithOrders();
    // WHEN / THEN
    expect(
      () =>
        new OrdersService(stack, 'BadChecks', {
          cluster: stack.catalog.cluster,
          listener: stack.loadBalancer.listeners[0],
          image: IMAGE,
          priority: 30,
          healthToken: 'ok',
          pathPatterns: ['/x'],
          healthCheckIntervalSeconds: 5,
          healthCheckTimeoutSeconds: 5,
          unhealthyThresholdCount: 1,
          healthCheckCommand: [],
        }),
    ).toThrow(
      [
        'OrdersService has 3 problems:',
        '  - healthCheckTimeoutSeconds must be an integer from 2 to 120 below the interval 5, got 5',
        '  - unhealthyThresholdCount must be an integer from 2 to 10, got 1',
        "  - healthCheckCommand must be a command such as ['CMD', 'node', '/app/healthcheck.js'], got []",
      ].join('\n'),
    );
  });

  test('refuses more than the five values an ALB rule takes', () => {
    // GIVEN
    const { stack } = forkWithOrders();
    // WHEN / THEN
    expect(
      () =>
        new OrdersService(stack, 'TooMany', {
          cluster: stack.catalog.cluster,
          listener: stack.loadBalancer.listeners[0],
          image: IMAGE,
          priority: 20,
          healthToken: 'ok',
          pathPatterns: ['/a', '/b', '/c', '/d'],
          hostHeaders: ['a.example.com', 'b.example.com'],
        }),
    ).toThrow(
      "pathPatterns and hostHeaders may hold 5 values together (an ALB rule's limit), got 6",
    );
  });
});
