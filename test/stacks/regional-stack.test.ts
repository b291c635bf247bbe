import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { Match, Template } from 'aws-cdk-lib/assertions';

import { targetEjectionBudgets } from '../../lib/budgets';
import { estimateMonthlyCost } from '../../lib/cost/estimate';
import { resolveConfig } from '../../lib/load-config';
import { nagErrors } from '../support/nag';
import { regionalStack } from '../support/regional-stack';

type Resource = { Properties: Record<string, unknown> };
const onlyResource = (template: Template, type: string): Resource => {
  const found = Object.values(template.findResources(type)) as Resource[];
  expect(found).toHaveLength(1);
  return found[0];
};

describe('the default regional stack', () => {
  const { app, stack } = regionalStack();
  const violations = nagErrors(app);
  const template = Template.fromStack(stack);
  const json = template.toJSON() as { Resources: Record<string, { Type: string }> };

  test('passes every AwsSolutions check', () => {
    expect(violations).toEqual([]);
  });

  test('holds the public IPv4 addresses and WAF rules the cost estimate bills', () => {
    // GIVEN the estimate's lines for this region
    const lines = estimateMonthlyCost(resolveConfig({})).perRegion.find(
      (r) => r.region === 'eu-west-1',
    )?.lines;
    const ipv4Line = lines?.find((l) => l.item.startsWith('public IPv4 addresses'));
    // WHEN the public addresses are counted in the template: one Elastic IP per NAT gateway, one
    // per subnet of the internet-facing load balancer
    const eips = Object.keys(template.findResources('AWS::EC2::EIP')).length;
    const alb = onlyResource(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer');
    expect(alb.Properties.Scheme).toBe('internet-facing');
    const albAddresses = (alb.Properties.Subnets as unknown[]).length;
    // THEN
    expect(ipv4Line?.item).toBe(`public IPv4 addresses (${eips + albAddresses})`);
    expect(ipv4Line?.monthlyUsd).toBe(Math.round((eips + albAddresses) * 0.005 * 730 * 100) / 100);
    const rules = onlyResource(template, 'AWS::WAFv2::WebACL').Properties.Rules as unknown[];
    expect(lines?.find((l) => l.item === 'WAF')?.monthlyUsd).toBe(5 + rules.length);
  });

  test('creates the ECS service-linked roles before the cluster and service, for a fresh account', () => {
    const roles = Object.keys(template.findResources('Custom::ServiceLinkedRole'));
    expect(roles).toHaveLength(2);
    for (const type of ['AWS::ECS::Cluster', 'AWS::ECS::Service']) {
      const [resource] = Object.values(template.findResources(type)) as { DependsOn?: string[] }[];
      expect(resource.DependsOn).toEqual(expect.arrayContaining(roles));
    }
  });

  test('stays under 250 CloudFormation resources, leaving forks room below the 500 limit', () => {
    expect(Object.keys(json.Resources).length).toBeLessThan(250);
  });

  describe('load balancer', () => {
    test('checks /health/ready every 5 s and ejects after 3 failures: within 15 s', () => {
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
        HealthCheckPath: '/health/ready',
        HealthCheckIntervalSeconds: 5,
        HealthCheckTimeoutSeconds: 4,
        HealthyThresholdCount: 2,
        UnhealthyThresholdCount: 3,
        Matcher: { HttpCode: '200' },
        TargetType: 'ip',
      });
      const [budget] = targetEjectionBudgets(json);
      expect(budget.detectSeconds).toBeLessThanOrEqual(15);
    });

    test('routes round robin and drains a target for the service drain time, at most 30 s', () => {
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
        TargetGroupAttributes: Match.arrayWith([
          { Key: 'deregistration_delay.timeout_seconds', Value: '20' },
          { Key: 'load_balancing.algorithm.type', Value: 'round_robin' },
        ]),
      });
      const [budget] = targetEjectionBudgets(json);
      expect(budget.drainSeconds).toBeLessThanOrEqual(30);
    });

    test('drops invalid header fields and writes access logs', () => {
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
        Scheme: 'internet-facing',
        LoadBalancerAttributes: Match.arrayWith([
          { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
          { Key: 'access_logs.s3.enabled', Value: 'true' },
        ]),
      });
    });

    test('keeps access logs in an encrypted, private, TLS-only bucket', () => {
      template.hasResourceProperties('AWS::S3::Bucket', {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
          ],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
      });
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    });

    test('answers plain HTTP on port 80 when no domain is configured', () => {
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
        Protocol: 'HTTP',
        Port: 80,
        // The service's weighted rule (test/constructs/canary-deployment.test.ts) matches every path.
        DefaultActions: [Match.objectLike({ Type: 'fixed-response' })],
      });
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
        Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/*'] } }],
        Actions: [Match.objectLike({ Type: 'forward' })],
      });
      template.resourceCountIs('AWS::CertificateManager::Certificate', 0);
    });

    test('sits behind a WAF web ACL with AWS common rules and a per-IP rate limit', () => {
      template.hasResourceProperties('AWS::WAFv2::WebACL', {
        Scope: 'REGIONAL',
        DefaultAction: { Allow: {} },
        Rules: Match.arrayWith([
          Match.objectLike({
            Name: 'RatePerIp',
            Action: { Block: {} },
            Statement: {
              RateBasedStatement: Match.objectLike({ Limit: 2000, AggregateKeyType: 'IP' }),
            },
          }),
          Match.objectLike({
            Name: 'AwsCommonRules',
            Statement: {
              ManagedRuleGroupStatement: {
                VendorName: 'AWS',
                Name: 'AWSManagedRulesCommonRuleSet',
              },
            },
          }),
        ]),
      });
      const association = onlyResource(template, 'AWS::WAFv2::WebACLAssociation');
      expect(JSON.stringify(association.Properties.ResourceArn)).toContain('LoadBalancer');
    });

    test("limits CloudFront's relayed requests per viewer, not per shared CloudFront address", () => {
      // GIVEN the relay token: the unique part of the stack id, which CloudFront's relays send
      const relayed = {
        ByteMatchStatement: {
          FieldToMatch: { SingleHeader: { Name: 'x-blueprint-relay' } },
          PositionalConstraint: 'EXACTLY',
          SearchString: stack.resolve(stack.relayToken) as unknown,
          TextTransformations: [{ Priority: 0, Type: 'NONE' }],
        },
      };
      expect(stack.resolve(stack.relayToken)).toEqual({
        'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }],
      });
      // THEN requests with it count per x-viewer-ip (set by CloudFront), all others per source IP
      const rules = (
        onlyResource(template, 'AWS::WAFv2::WebACL').Properties.Rules as {
          Name: string;
          Statement: { RateBasedStatement?: Record<string, unknown> };
        }[]
      ).filter((r) => r.Statement.RateBasedStatement);
      expect(rules.map((r) => [r.Name, r.Statement.RateBasedStatement])).toEqual([
        [
          'RatePerIp',
          {
            Limit: 2000,
            AggregateKeyType: 'IP',
            ScopeDownStatement: { NotStatement: { Statement: relayed } },
          },
        ],
        [
          'RatePerRelayedViewer',
          {
            Limit: 2000,
            AggregateKeyType: 'FORWARDED_IP',
            ForwardedIPConfig: { HeaderName: 'x-viewer-ip', FallbackBehavior: 'MATCH' },
            ScopeDownStatement: relayed,
          },
        ],
      ]);
    });
  });

  describe('service', () => {
    test('runs ARM64 tasks of the configured size', () => {
      template.hasResourceProperties('AWS::ECS::TaskDefinition', {
        Cpu: '512',
        Memory: '1024',
        RequiresCompatibilities: ['FARGATE'],
        RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      });
    });

    test('turns on Container Insights for the cluster', () => {
      template.hasResourceProperties('AWS::ECS::Cluster', {
        ClusterSettings: [{ Name: 'containerInsights', Value: 'enhanced' }],
      });
    });

    test('spreads tasks over the AZs with rebalancing, in private subnets', () => {
      template.hasResourceProperties('AWS::ECS::Service', {
        LaunchType: 'FARGATE',
        DesiredCount: 3,
        AvailabilityZoneRebalancing: 'ENABLED',
        NetworkConfiguration: {
          AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }),
        },
      });
    });

    test('deploys by canary, gated and rolled back by alarm, never dropping below 100%', () => {
      template.hasResourceProperties('AWS::ECS::Service', {
        DeploymentConfiguration: {
          MinimumHealthyPercent: 100,
          MaximumPercent: 200,
          Strategy: 'CANARY',
          CanaryConfiguration: { CanaryPercent: 10, CanaryBakeTimeInMinutes: 5 },
          BakeTimeInMinutes: 10,
          LifecycleHooks: [Match.objectLike({ LifecycleStages: ['POST_TEST_TRAFFIC_SHIFT'] })],
          Alarms: {
            Enable: true,
            Rollback: true,
            AlarmNames: [
              'Blueprint-eu-west-1-alb-5xx-rate',
              'Blueprint-eu-west-1-target-5xx-rate',
              'Blueprint-eu-west-1-zero-length-responses',
            ],
          },
        },
        HealthCheckGracePeriodSeconds: 30,
      });
    });

    test('is tagged for chaos experiments when chaos is enabled', () => {
      template.hasResourceProperties('AWS::ECS::Service', {
        Tags: Match.arrayWith([{ Key: 'chaos-enabled', Value: 'true' }]),
        PropagateTags: 'SERVICE',
      });
    });

    test('scales between the configured bounds on CPU and on requests per target', () => {
      template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
        MinCapacity: 3,
        MaxCapacity: 12,
        ScalableDimension: 'ecs:service:DesiredCount',
      });
      template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
        TargetTrackingScalingPolicyConfiguration: Match.objectLike({
          PredefinedMetricSpecification: {
            PredefinedMetricType: 'ECSServiceAverageCPUUtilization',
          },
          TargetValue: 60,
        }),
      });
      template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
        TargetTrackingScalingPolicyConfiguration: Match.objectLike({
          PredefinedMetricSpecification: Match.objectLike({
            PredefinedMetricType: 'ALBRequestCountPerTarget',
          }),
          TargetValue: 1000,
        }),
      });
    });
  });

  describe('container', () => {
    test('checks liveness only (the bundled /health/live script), 3 x 10 s: a dependency outage fails the ALB check, not this one', () => {
      // The script the command runs asks /health/live only (test/service/process.test.ts runs it
      // against the bundle with DynamoDB down).
      template.hasResourceProperties('AWS::ECS::TaskDefinition', {
        ContainerDefinitions: [
          Match.objectLike({
            HealthCheck: {
              Command: ['CMD', 'node', '/app/healthcheck.js'],
              Interval: 10,
              Timeout: 5,
              Retries: 3,
              StartPeriod: 30,
            },
            Environment: Match.arrayWith([{ Name: 'HEALTH_TOKEN', Value: '"status":"ready"' }]),
          }),
        ],
      });
    });

    test('stops within its drain time plus margin, on a read-only root filesystem', () => {
      template.hasResourceProperties('AWS::ECS::TaskDefinition', {
        ContainerDefinitions: [
          Match.objectLike({
            StopTimeout: 30,
            ReadonlyRootFilesystem: true,
            Environment: Match.arrayWith([{ Name: 'SHUTDOWN_DRAIN_SECONDS', Value: '20' }]),
            // Nothing is writable: a bind mount on Fargate is root-owned (0755), so the image's
            // non-root user could not write it anyway.
            MountPoints: Match.absent(),
          }),
        ],
        Volumes: Match.absent(),
      });
    });

    test('runs a service that writes no files, as its read-only root filesystem requires', () => {
      // GIVEN every source file of the service
      const sourceDir = join(__dirname, '..', '..', 'service', 'src');
      const sources = readdirSync(sourceDir, { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.ts'))
        .map((f) => ({ file: f, text: readFileSync(join(sourceDir, f), 'utf8') }));
      // THEN none writes to disk or asks for a temporary directory
      const writers =
        /\b(writeFile|writeFileSync|appendFile|appendFileSync|createWriteStream|mkdtemp|mkdtempSync|mkdir|mkdirSync|tmpdir)\s*\(|['"]\/tmp\b/;
      expect(sources.length).toBeGreaterThan(0);
      expect(sources.filter((s) => writers.test(s.text)).map((s) => s.file)).toEqual([]);
    });

    test('logs to CloudWatch with a retention period', () => {
      template.hasResourceProperties('AWS::ECS::TaskDefinition', {
        ContainerDefinitions: [
          Match.objectLike({
            LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }),
          }),
        ],
      });
      template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    });

    test('is configured through plain settings and the SSM fault parameter, with no secrets', () => {
      const taskDefinition = onlyResource(template, 'AWS::ECS::TaskDefinition');
      const [container] = taskDefinition.Properties.ContainerDefinitions as {
        Environment: { Name: string }[];
        Secrets?: unknown;
      }[];
      expect(container.Environment.map((e) => e.Name).sort()).toEqual([
        'FAULTS_PARAMETER',
        'HEALTH_TOKEN',
        'MEMCACHED_CONFIG_ENDPOINT',
        'MEMCACHED_TLS',
        'METRICS_NAMESPACE',
        'PORT',
        'SHUTDOWN_DRAIN_SECONDS',
        'TABLE_NAME',
      ]);
      expect(container.Secrets).toBeUndefined();
    });
  });

  describe('memcached', () => {
    test('runs one node per AZ, cross-AZ, of the configured type', () => {
      template.hasResourceProperties('AWS::ElastiCache::CacheCluster', {
        Engine: 'memcached',
        CacheNodeType: 'cache.t4g.micro',
        NumCacheNodes: 3,
        AZMode: 'cross-az',
        PreferredAvailabilityZones: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'],
        Port: 11211,
      });
    });

    test('encrypts traffic to the nodes and tells the tasks to speak TLS', () => {
      template.hasResourceProperties('AWS::ElastiCache::CacheCluster', {
        TransitEncryptionEnabled: true,
      });
      template.hasResourceProperties('AWS::ECS::TaskDefinition', {
        ContainerDefinitions: [
          Match.objectLike({
            Environment: Match.arrayWith([{ Name: 'MEMCACHED_TLS', Value: 'true' }]),
          }),
        ],
      });
    });

    test('lives in the isolated subnets', () => {
      const group = onlyResource(template, 'AWS::ElastiCache::SubnetGroup');
      const isolated = Object.entries(template.findResources('AWS::EC2::Subnet'))
        .filter(([id]) => id.includes('Isolated'))
        .map(([id]) => ({ Ref: id }));
      expect(isolated).toHaveLength(3);
      expect(group.Properties.SubnetIds).toEqual(isolated);
    });

    test("admits only the service's tasks, on 11211", () => {
      const ingress = Object.values(
        template.findResources('AWS::EC2::SecurityGroupIngress'),
      ) as Resource[];
      const toCache = ingress.filter((r) => JSON.stringify(r.Properties.GroupId).includes('Cache'));
      expect(toCache).toHaveLength(1);
      expect(toCache[0].Properties).toMatchObject({
        IpProtocol: 'tcp',
        FromPort: 11211,
        ToPort: 11211,
      });
      expect(JSON.stringify(toCache[0].Properties.SourceSecurityGroupId)).toContain(
        'CatalogService',
      );
    });

    test('reaches the tasks as the configuration endpoint in MEMCACHED_CONFIG_ENDPOINT, no built node names', () => {
      const taskDefinition = onlyResource(template, 'AWS::ECS::TaskDefinition');
      const [container] = taskDefinition.Properties.ContainerDefinitions as {
        Environment: { Name: string; Value: unknown }[];
      }[];
      const cluster = Object.keys(template.findResources('AWS::ElastiCache::CacheCluster'))[0];
      expect(container.Environment.find((e) => e.Name === 'MEMCACHED_CONFIG_ENDPOINT')).toEqual({
        Name: 'MEMCACHED_CONFIG_ENDPOINT',
        Value: {
          'Fn::Join': [
            ':',
            [
              { 'Fn::GetAtt': [cluster, 'ConfigurationEndpoint.Address'] },
              { 'Fn::GetAtt': [cluster, 'ConfigurationEndpoint.Port'] },
            ],
          ],
        },
      });
      expect(container.Environment.map((e) => e.Name)).not.toContain('MEMCACHED_ENDPOINTS');
      expect(JSON.stringify(container.Environment)).not.toMatch(/\.000[1-9]\.|\.cfg\./);
    });
  });

  describe('chaos', () => {
    test('stops FIS experiments on the "region impaired" alarm', () => {
      template.hasResourceProperties('AWS::FIS::ExperimentTemplate', {
        StopConditions: [
          {
            Source: 'aws:cloudwatch:alarm',
            Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('AlarmsRegionImpaired'), 'Arn'] },
          },
        ],
      });
    });

    test("lets the chaos functions write this region's fault parameter and read its alarm", () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({
            FAULTS_PARAMETER: { Ref: Match.stringLikeRegexp('FaultDocument') },
            REGION_IMPAIRED_ALARM: Match.anyValue(),
            MAX_TASK_SHARE: '0.5',
            MAX_FAULT_DURATION_MINUTES: '30',
          }),
        },
      });
    });

    test("gives the chaos functions both of this region's target groups, whose healthy targets the cap counts", () => {
      // GIVEN the catalog's two target groups (canary deployments move the service between them)
      const groups = Object.keys(
        template.findResources('AWS::ElasticLoadBalancingV2::TargetGroup'),
      );
      const first = groups.find((id) => /^CatalogTargetGroup/.test(id));
      const alternate = groups.find((id) => /^CatalogAlternateTargetGroup/.test(id));
      expect([first, alternate]).toEqual([expect.any(String), expect.any(String)]);

      // THEN stop-tasks reads both, the first group first
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: Match.stringLikeRegexp('^Chaos: stop-tasks'),
        Environment: {
          Variables: Match.objectLike({
            TARGET_GROUP_ARNS: { 'Fn::Join': [',', [{ Ref: first }, { Ref: alternate }]] },
          }),
        },
      });
    });

    test("probes this region's own readiness with the canary when no domain is configured", () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({
            CANARY_TARGETS: {
              'Fn::Join': Match.arrayWith([Match.arrayWith([Match.stringLikeRegexp('eu-west-1')])]),
            },
          }),
        },
      });
    });
  });

  describe('fault document', () => {
    test('starts empty in a per-region SSM parameter', () => {
      template.hasResourceProperties('AWS::SSM::Parameter', {
        Name: '/Blueprint/faults',
        Type: 'String',
        Value: '{"faults":[]}',
      });
    });
  });

  describe('least privilege', () => {
    const taskRolePolicy = () => {
      const policies = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([id]) =>
        id.includes('TaskRole'),
      ) as [string, Resource][];
      expect(policies).toHaveLength(1);
      return (policies[0][1].Properties.PolicyDocument as { Statement: Record<string, unknown>[] })
        .Statement;
    };

    test('lets the tasks use only their table replica', () => {
      const dynamo = taskRolePolicy().filter((s) => JSON.stringify(s.Action).includes('dynamodb:'));
      expect(dynamo).toHaveLength(1);
      expect(JSON.stringify(dynamo[0].Resource)).toContain(':dynamodb:eu-west-1:');
      expect(JSON.stringify(dynamo[0].Resource)).toContain(':table/Blueprint-catalog');
      expect(dynamo[0].Action).not.toContain('dynamodb:*');
    });

    test('lets the tasks only read their fault parameter', () => {
      const ssm = taskRolePolicy().filter((s) => JSON.stringify(s.Action).includes('ssm:'));
      expect(ssm).toHaveLength(1);
      expect(JSON.stringify(ssm[0].Action)).not.toMatch(/ssm:Put|ssm:Delete/);
      // ...:parameter joined with the parameter's name, /Blueprint/faults
      expect(JSON.stringify(ssm[0].Resource)).toMatch(
        /:parameter",\{"Ref":"FaultDocument[0-9A-F]+"\}/,
      );
    });

    test('grants the tasks no wildcard resource', () => {
      for (const statement of taskRolePolicy()) expect(statement.Resource).not.toBe('*');
    });
  });

  describe('alarms', () => {
    test.each([
      ['alb-5xx-rate', 5],
      ['target-5xx-rate', 5],
      ['unhealthy-hosts', 0],
      ['healthy-hosts-low', 1],
      ['p99-latency', 1],
      ['zero-length-responses', 0],
      ['ecs-cpu', 80],
      ['ecs-memory', 80],
      ['cache-cpu', 75],
      ['cache-evictions', 1000],
      ['cache-connections', 2000],
    ])('has %s with threshold %d, notifying the topic', (name, threshold) => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `Blueprint-eu-west-1-${name}`,
        Threshold: threshold,
        AlarmActions: [{ Ref: Match.stringLikeRegexp('AlarmsTopic') }],
      });
    });

    test("counts the service's zero-length responses per region", () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: 'Blueprint-eu-west-1-zero-length-responses',
        Namespace: 'Blueprint/Service',
        MetricName: 'ZeroLengthResponses',
        Dimensions: [{ Name: 'Region', Value: 'eu-west-1' }],
        Statistic: 'Sum',
      });
    });

    test('combines what users feel into a "region impaired" composite alarm', () => {
      const composite = onlyResource(template, 'AWS::CloudWatch::CompositeAlarm');
      expect(composite.Properties.AlarmName).toBe('Blueprint-eu-west-1-region-impaired');
      const rule = JSON.stringify(composite.Properties.AlarmRule);
      for (const part of [
        'Alb5xxRate',
        'Target5xxRate',
        'ZeroLength',
        'HealthyHostsLow',
        'P99Latency',
      ]) {
        expect(rule).toContain(part);
      }
    });

    test('draws a game-day dashboard', () => {
      template.hasResourceProperties('AWS::CloudWatch::Dashboard', {
        DashboardName: 'Blueprint-eu-west-1-gameday',
      });
    });

    test('subscribes no e-mail when none is configured', () => {
      template.resourceCountIs('AWS::SNS::Subscription', 0);
    });
  });
});

describe('a regional stack with a domain', () => {
  const { app, stack } = regionalStack({
    domain: { hostedZoneId: 'Z0123456789ABC', zoneName: 'example.com' },
    alarmEmail: 'oncall@example.com',
  });
  const violations = nagErrors(app);
  const template = Template.fromStack(stack);

  test('passes every AwsSolutions check', () => {
    expect(violations).toEqual([]);
  });

  test('serves HTTPS with a DNS-validated certificate for the API name and each region under it', () => {
    template.hasResourceProperties('AWS::CertificateManager::Certificate', {
      DomainName: 'api.example.com',
      SubjectAlternativeNames: ['*.api.example.com'],
      ValidationMethod: 'DNS',
      DomainValidationOptions: Match.arrayWith([
        { DomainName: 'api.example.com', HostedZoneId: 'Z0123456789ABC' },
      ]),
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Protocol: 'HTTPS',
      Port: 443,
      Certificates: [{ CertificateArn: Match.anyValue() }],
    });
  });

  test('redirects HTTP to HTTPS permanently', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Protocol: 'HTTP',
      Port: 80,
      DefaultActions: [
        {
          Type: 'redirect',
          RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' },
        },
      ],
    });
  });

  test('e-mails alarms to the configured address', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
    });
  });
});

describe('a regional stack configured down', () => {
  test('attaches no WAF when it is switched off', () => {
    const { stack } = regionalStack({ waf: { enabled: false } });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::WAFv2::WebACL', 0);
    template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 0);
  });

  test('neither tags the service for chaos nor deploys chaos functions when chaos is off', () => {
    const { stack } = regionalStack({ chaos: { enabled: false } });
    const template = Template.fromStack(stack);
    const service = onlyResource(template, 'AWS::ECS::Service');
    expect(JSON.stringify(service.Properties.Tags ?? [])).not.toContain('chaos-enabled');
    const chaosFunctions = Object.values(template.findResources('AWS::Lambda::Function')).filter(
      (f) => JSON.stringify(f).includes('FAULTS_PARAMETER'),
    );
    expect(chaosFunctions).toEqual([]);
    expect(stack.chaos).toBeUndefined();
    template.resourceCountIs('AWS::FIS::ExperimentTemplate', 0);
  });

  test('runs the bad-deploy game day only with chaos, next to the gate, its state machine an output', () => {
    // GIVEN a stack with chaos (the default) and one without
    const withChaos = Template.fromStack(regionalStack().stack);
    const withoutChaos = Template.fromStack(regionalStack({ chaos: { enabled: false } }).stack);
    // THEN only the first has the bad-deploy state machine and says where it is
    const output = withChaos.findOutputs('BadDeployStateMachineArn') as Record<
      string,
      { Value: { Ref?: string } }
    >;
    expect(output.BadDeployStateMachineArn?.Value.Ref).toMatch(/^BadDeploy/);
    expect(withoutChaos.findOutputs('BadDeployStateMachineArn')).toEqual({});
    const gateHooks = (t: Template) =>
      Object.values(t.findResources('AWS::ECS::Service')).map(
        (r) =>
          ((r as Resource).Properties.DeploymentConfiguration as { LifecycleHooks?: unknown })
            .LifecycleHooks,
      );
    // AND the deployment gate is the service's lifecycle hook in both
    for (const t of [withChaos, withoutChaos]) {
      expect(JSON.stringify(gateHooks(t))).toContain('POST_TEST_TRAFFIC_SHIFT');
    }
  });

  test('uses the configured health-check numbers', () => {
    const { stack } = regionalStack({
      healthCheck: { albIntervalSeconds: 10, albTimeoutSeconds: 5, albUnhealthyThreshold: 2 },
    });
    Template.fromStack(stack).hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      HealthCheckIntervalSeconds: 10,
      HealthCheckTimeoutSeconds: 5,
      UnhealthyThresholdCount: 2,
    });
  });
});
