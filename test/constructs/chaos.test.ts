import { CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Alarm, ComparisonOperator, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { ApplicationTargetGroup, TargetType } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { StringParameter } from 'aws-cdk-lib/aws-ssm';
import { AwsSolutionsChecks } from 'cdk-nag';

import { CHAOS_FUNCTION_NAMES } from '../../lib/constructs/chaos/bundling';
import { ChaosFunctions, ChaosFunctionsProps } from '../../lib/constructs/chaos/chaos-functions';
import { minimalRegion } from '../support/minimal-region';
import { nagErrors } from '../support/nag';

const CANARY_TARGETS = [
  { name: 'us-east-1', url: 'https://us-east-1.api.example.com/health/ready' },
  { name: 'eu-west-1', url: 'https://eu-west-1.api.example.com/health/ready' },
  { name: 'global', url: 'https://api.example.com/health/ready' },
];

/** A fresh app and a minimal region: VPC, cluster, Fargate service, fault parameter, alarm, topic. */
function region(props: Partial<ChaosFunctionsProps> = {}, options: { nag?: boolean } = {}) {
  const { app, stack, vpc, cluster, service } = minimalRegion('us-east-1');
  const targetGroup = new ApplicationTargetGroup(stack, 'Targets', {
    vpc,
    port: 8080,
    targetType: TargetType.IP,
  });
  /** The group a canary deployment moves the next revision into, as `CatalogService` has. */
  const alternateTargetGroup = new ApplicationTargetGroup(stack, 'AlternateTargets', {
    vpc,
    port: 8080,
    targetType: TargetType.IP,
  });
  const faultParameter = new StringParameter(stack, 'Faults', { stringValue: '{"faults":[]}' });
  const regionImpairedAlarm = new Alarm(stack, 'RegionImpaired', {
    metric: new Metric({ namespace: 'Test', metricName: 'Impaired' }),
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
  });
  const topic = new Topic(stack, 'Topic', { enforceSSL: true });
  if (options.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  const chaos = new ChaosFunctions(stack, 'Chaos', {
    cluster,
    service,
    targetGroups: [targetGroup, alternateTargetGroup],
    faultParameter,
    regionImpairedAlarm,
    canaryTargets: CANARY_TARGETS,
    healthToken: '"status":"ready"',
    cacheClusterId: 'blueprint-cache',
    alarmTopic: topic,
    ...props,
  });
  return { app, stack, chaos, service, cluster };
}

/** Asymmetric matchers, typed as `unknown` so that they sit in typed literals without `any`. */
const matching = (pattern: RegExp): unknown => expect.stringMatching(pattern) as unknown;
const anything = (): unknown => expect.anything() as unknown;

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
type Statement = {
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, unknown>;
};

const NAMES: Record<string, string> = {
  'stop-tasks': 'StopTasks',
  'az-outage': 'AzOutage',
  'empty-responses': 'EmptyResponses',
  'region-outage': 'RegionOutage',
  'cache-outage': 'CacheOutage',
  latency: 'Latency',
  restore: 'Restore',
  canary: 'Canary',
};

function resources(stack: Stack): Resources {
  return (Template.fromStack(stack).toJSON() as { Resources: Resources }).Resources;
}

/** The function of `name`: its properties and the statements of its role's policy. */
function functionOf(all: Resources, name: string) {
  const id = NAMES[name];
  const [, fn] = Object.entries(all).find(
    ([key, r]) =>
      r.Type === 'AWS::Lambda::Function' && new RegExp(`^Chaos${id}[0-9A-F]{8}$`).test(key),
  )!;
  const roleId = (fn.Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
  const statements = Object.values(all)
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .filter((r) => (r.Properties.Roles as { Ref: string }[]).some((ref) => ref.Ref === roleId))
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
  return {
    props: fn.Properties,
    statements,
    environment: (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables,
  };
}

/** The functions whose planners count healthy targets (`capacityOf`). */
const CAPPED: readonly string[] = [
  'stop-tasks',
  'az-outage',
  'empty-responses',
  'cache-outage',
  'latency',
];

const actionsOf = (statements: Statement[]) =>
  [...new Set(statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])))]
    .filter((a) => !a.startsWith('logs:') && !a.startsWith('xray:'))
    .sort();

describe('the functions', () => {
  test('each runs Node.js 22 on ARM64 with explicit memory and timeout, active tracing and its own log group', () => {
    // GIVEN
    const { stack } = region();

    // WHEN
    const template = Template.fromStack(stack);

    // THEN
    for (const name of CHAOS_FUNCTION_NAMES) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: `Chaos: ${name} (us-east-1)`,
        // The shared bundle holds every function as <folder>.mjs.
        Handler: `${name}.handler`,
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        MemorySize: name === 'canary' ? 128 : 256,
        Timeout: name === 'canary' ? 20 : 50,
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp(`^Chaos${NAMES[name]}Logs`) } },
      });
    }
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  test('guarded functions get the guardrail environment; the canary gets only its targets and token', () => {
    // GIVEN
    const { stack } = region({ maxTaskShare: 0.25, maxFaultDurationMinutes: 10 });

    // WHEN
    const all = resources(stack);

    // THEN
    for (const name of CHAOS_FUNCTION_NAMES.filter((n) => n !== 'canary')) {
      expect(functionOf(all, name).environment).toMatchObject({
        CLUSTER_ARN: { 'Fn::GetAtt': [matching(/^Cluster/), 'Arn'] },
        SERVICE_ARN: { Ref: matching(/^Service/) },
        FAULTS_PARAMETER: { Ref: matching(/^Faults/) },
        REGION_IMPAIRED_ALARM: { Ref: matching(/^RegionImpaired/) },
        STATE_TABLE: { Ref: matching(/^ChaosStateTable/) },
        MAX_TASK_SHARE: '0.25',
        MAX_FAULT_DURATION_MINUTES: '10',
        POWERTOOLS_SERVICE_NAME: `chaos-${name}`,
        POWERTOOLS_METRICS_NAMESPACE: 'Chaos',
      });
    }
    const canary = functionOf(all, 'canary').environment;
    expect(Object.keys(canary).sort()).toEqual([
      'CANARY_TARGETS',
      'HEALTH_TOKEN',
      'POWERTOOLS_METRICS_NAMESPACE',
      'POWERTOOLS_SERVICE_NAME',
    ]);
    expect(JSON.parse(canary.CANARY_TARGETS as string)).toEqual(CANARY_TARGETS);
    expect(canary.HEALTH_TOKEN).toBe('"status":"ready"');
    expect(functionOf(all, 'region-outage').environment.CANARY_TARGETS).toBe(canary.CANARY_TARGETS);
  });

  test("az-outage learns each subnet's AZ from the cluster's VPC", () => {
    const { stack } = region();
    const subnetAzs = JSON.stringify(
      functionOf(resources(stack), 'az-outage').environment.SUBNET_AZS,
    );
    for (const subnet of [
      'VpcPublicSubnet1',
      'VpcPublicSubnet2',
      'VpcPrivateSubnet1',
      'VpcPrivateSubnet2',
    ]) {
      expect(subnetAzs).toMatch(
        new RegExp(`\\{"Ref":"${subnet}Subnet[0-9A-F]{8}"\\},"\\\\":\\\\"us-east-1[ab]`),
      );
    }
  });

  test('the functions whose cap counts healthy targets get both target groups in TARGET_GROUP_ARNS; the others none', () => {
    // GIVEN the service's two target groups (canary deployments move it between them)
    const all = resources(region().stack);

    // THEN both groups' ARNs, comma-joined, go to each function that plans against the cap
    for (const name of CAPPED) {
      const environment = functionOf(all, name).environment;
      expect([name, environment.TARGET_GROUP_ARNS]).toEqual([
        name,
        {
          'Fn::Join': [
            ',',
            [{ Ref: matching(/^Targets/) }, { Ref: matching(/^AlternateTargets/) }],
          ],
        },
      ]);
      expect([name, environment.TARGET_GROUP_ARN]).toEqual([name, undefined]);
    }
    // AND to none of the others
    for (const name of CHAOS_FUNCTION_NAMES.filter((n) => !CAPPED.includes(n))) {
      expect([name, functionOf(all, name).environment.TARGET_GROUP_ARNS]).toEqual([
        name,
        undefined,
      ]);
    }
  });

  test('cache-outage may reboot only the given cache cluster', () => {
    // GIVEN / WHEN
    const withCache = functionOf(resources(region().stack), 'cache-outage');
    const withoutCache = functionOf(
      resources(region({ cacheClusterId: undefined }).stack),
      'cache-outage',
    );

    // THEN
    expect(withCache.environment.CACHE_CLUSTER_ID).toBe('blueprint-cache');
    expect(withCache.statements).toContainEqual({
      Action: ['elasticache:DescribeCacheClusters', 'elasticache:RebootCacheCluster'],
      Effect: 'Allow',
      Resource: 'arn:aws:elasticache:us-east-1:111111111111:cluster:blueprint-cache',
    });
    expect(withoutCache.environment.CACHE_CLUSTER_ID).toBeUndefined();
    expect(actionsOf(withoutCache.statements).filter((a) => a.startsWith('elasticache:'))).toEqual(
      [],
    );
  });
});

describe('IAM', () => {
  const READ = [
    'cloudwatch:DescribeAlarms',
    'ecs:DescribeServices',
    'ecs:DescribeTasks',
    'ecs:ListTagsForResource',
    'ecs:ListTasks',
  ];
  const DOCUMENT_AND_STATE = [
    'dynamodb:DeleteItem',
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'ssm:GetParameter',
    'ssm:PutParameter',
  ];

  test('each function may do only what it needs', () => {
    // GIVEN
    const all = resources(region().stack);
    const HEALTH = 'elasticloadbalancing:DescribeTargetHealth';
    const expected: Record<string, string[]> = {
      'stop-tasks': [...READ, HEALTH, ...DOCUMENT_AND_STATE, 'ecs:StopTask'],
      'az-outage': [...READ, HEALTH, ...DOCUMENT_AND_STATE, 'ecs:StopTask', 'ecs:UpdateService'],
      'empty-responses': [...READ, HEALTH, ...DOCUMENT_AND_STATE],
      'region-outage': [...READ, ...DOCUMENT_AND_STATE],
      'cache-outage': [
        ...READ,
        HEALTH,
        ...DOCUMENT_AND_STATE,
        'elasticache:DescribeCacheClusters',
        'elasticache:RebootCacheCluster',
      ],
      latency: [...READ, HEALTH, ...DOCUMENT_AND_STATE],
      restore: [
        'ecs:DescribeServices',
        'ecs:ListTagsForResource',
        'ecs:UpdateService',
        ...DOCUMENT_AND_STATE,
      ],
      canary: [],
    };

    // THEN
    for (const name of CHAOS_FUNCTION_NAMES) {
      expect([name, actionsOf(functionOf(all, name).statements)]).toEqual([
        name,
        [...expected[name]].sort(),
      ]);
    }
  });

  test('resources are the ARNs of the cluster, service, parameter, alarm and table', () => {
    const { statements } = functionOf(resources(region().stack), 'az-outage');
    const resourceOf = (action: string) =>
      statements.find((s) => [s.Action].flat().includes(action))?.Resource;

    expect(resourceOf('cloudwatch:DescribeAlarms')).toEqual({
      'Fn::GetAtt': [matching(/^RegionImpaired/), 'Arn'],
    });
    expect(resourceOf('ecs:UpdateService')).toEqual({ Ref: matching(/^Service/) });
    expect(resourceOf('ssm:PutParameter')).toEqual({
      'Fn::Join': [
        '',
        ['arn:aws:ssm:us-east-1:111111111111:parameter/', { Ref: matching(/^Faults/) }],
      ],
    });
    expect(resourceOf('dynamodb:PutItem')).toEqual({
      'Fn::GetAtt': [matching(/^ChaosStateTable/), 'Arn'],
    });
    expect(statements.find((s) => [s.Action].flat().includes('ecs:StopTask'))).toMatchObject({
      Resource: {
        'Fn::Join': [
          '',
          ['arn:aws:ecs:us-east-1:111111111111:task/', { Ref: matching(/^Cluster/) }, '/*'],
        ],
      },
      Condition: {
        ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': [matching(/^Cluster/), 'Arn'] } },
      },
    });
  });

  test('DescribeTargetHealth, which has no resource-level permission, is granted on * with no scoped action beside it', () => {
    // GIVEN
    const all = resources(region().stack);

    // THEN each capped function has one statement for it, on `*` (IAM allows nothing narrower);
    // CDK merges it with the X-Ray actions, which are unscoped too, and with nothing else
    for (const name of CAPPED) {
      const health = functionOf(all, name).statements.filter((s) =>
        [s.Action].flat().includes('elasticloadbalancing:DescribeTargetHealth'),
      );
      expect([name, health.length]).toEqual([name, 1]);
      expect(health[0]).toMatchObject({ Effect: 'Allow', Resource: '*' });
      expect(health[0].Condition).toBeUndefined();
      expect([health[0].Action].flat().sort()).toEqual([
        'elasticloadbalancing:DescribeTargetHealth',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ]);
    }
  });

  test('no statement has a wildcard resource where the ARN is known', () => {
    // GIVEN every policy of the construct, FIS role with CPU stress included
    const all = resources(region({ taskCpuStress: true }).stack);
    const statements = Object.entries(all)
      .filter(([key, r]) => key.startsWith('Chaos') && r.Type === 'AWS::IAM::Policy')
      .flatMap(([, r]) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
    // Actions that support no resource-level permission at all.
    const unscoped = new Set([
      'xray:PutTraceSegments',
      'xray:PutTelemetryRecords',
      'xray:GetSamplingRules',
      'xray:GetSamplingTargets',
      'ecs:ListTasks',
      'elasticloadbalancing:DescribeTargetHealth',
      'ssm:ListCommands',
      'ssm:CancelCommand',
      'logs:CreateLogDelivery',
      'logs:PutResourcePolicy',
      'logs:DescribeResourcePolicies',
      'logs:DescribeLogGroups',
      'logs:GetLogDelivery',
      'logs:UpdateLogDelivery',
      'logs:DeleteLogDelivery',
      'logs:ListLogDeliveries',
    ]);

    // THEN
    expect(statements.length).toBeGreaterThan(20);
    for (const statement of statements) {
      const wildcard = [statement.Resource].flat().some((r) => r === '*');
      if (!wildcard) continue;
      expect([statement.Action].flat().filter((a) => !unscoped.has(a))).toEqual([]);
      if ([statement.Action].flat().includes('ecs:ListTasks')) {
        expect(statement.Condition).toEqual({ ArnEquals: { 'ecs:cluster': anything() } });
      }
    }
  });
});

describe('state, schedules and alarms', () => {
  test('the state table has partition key pk, TTL on expiresAt, on-demand billing and point-in-time recovery', () => {
    Template.fromStack(region().stack).hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  test('the canary runs every minute, and so does the restore sweep with {"sweep": true}', () => {
    const template = Template.fromStack(region().stack);
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ChaosCanary[0-9A-F]{8}$'), 'Arn'] },
        }),
      ],
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ChaosRestore[0-9A-F]{8}$'), 'Arn'] },
          Input: '{"sweep":true}',
        }),
      ],
    });
  });

  test('each canary target has an alarm on success dropping, missing data included, sent to the topic', () => {
    const template = Template.fromStack(region().stack);
    for (const target of CANARY_TARGETS) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'Chaos',
        MetricName: 'CanarySuccess',
        Dimensions: [
          { Name: 'service', Value: 'chaos-canary' },
          { Name: 'target', Value: target.name },
        ],
        Statistic: 'Average',
        Period: 60,
        ComparisonOperator: 'LessThanThreshold',
        Threshold: 1,
        EvaluationPeriods: 3,
        DatapointsToAlarm: 2,
        TreatMissingData: 'breaching',
        AlarmActions: [{ Ref: Match.stringLikeRegexp('^Topic') }],
        OKActions: [{ Ref: Match.stringLikeRegexp('^Topic') }],
      });
    }
  });

  test('fault: restore keeps failing (a fault left in place): 3 failed sweeps in a row alarm, whether audited failed, internal-error, or ended by Lambda', () => {
    // GIVEN the chaos tooling of one region
    const { stack, chaos } = region();
    const template = Template.fromStack(stack);

    // THEN one alarm sums the restore function's failures per minute and fires after 3 in a row
    const audited = (outcome: string) => ({
      Namespace: 'Chaos',
      MetricName: 'ChaosAction',
      Dimensions: [
        { Name: 'action', Value: 'restore' },
        { Name: 'outcome', Value: outcome },
        { Name: 'service', Value: 'chaos-restore' },
      ],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('restore .* has failed in each of the last 3'),
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      TreatMissingData: 'notBreaching',
      Metrics: Match.arrayWith([
        Match.objectLike({
          Id: 'expr_1',
          Expression: 'FILL(failed, 0) + FILL(crashed, 0) + FILL(errors, 0)',
        }),
        Match.objectLike({
          Id: 'failed',
          MetricStat: Match.objectLike({ Metric: audited('failed'), Period: 60, Stat: 'Sum' }),
          ReturnData: false,
        }),
        Match.objectLike({
          Id: 'crashed',
          MetricStat: Match.objectLike({
            Metric: audited('internal-error'),
            Period: 60,
            Stat: 'Sum',
          }),
          ReturnData: false,
        }),
        Match.objectLike({
          Id: 'errors',
          MetricStat: Match.objectLike({
            Metric: {
              Namespace: 'AWS/Lambda',
              MetricName: 'Errors',
              Dimensions: [
                {
                  Name: 'FunctionName',
                  Value: { Ref: Match.stringLikeRegexp('^ChaosRestore[0-9A-F]{8}$') },
                },
              ],
            },
            Period: 60,
            Stat: 'Sum',
          }),
          ReturnData: false,
        }),
      ]),
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^Topic') }],
      OKActions: [{ Ref: Match.stringLikeRegexp('^Topic') }],
    });
    expect(chaos.restoreFailingAlarm).toBeDefined();
  });

  test('without an alarm topic the canary alarms have no actions', () => {
    const { stack, chaos } = region({ alarmTopic: undefined });
    expect(chaos.canaryAlarms).toHaveLength(3);
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'CanarySuccess',
      AlarmActions: Match.absent(),
    });
  });
});

describe('FIS experiment templates', () => {
  test('target one task of this cluster and service (not every tagged task), log to CloudWatch, and stop when the region is impaired', () => {
    // GIVEN
    const { stack } = region({ maxTaskShare: 0.3 });
    const template = Template.fromStack(stack);

    // THEN
    template.resourceCountIs('AWS::FIS::ExperimentTemplate', 1);
    template.hasResourceProperties('AWS::FIS::ExperimentTemplate', {
      Actions: { StopTasks: { ActionId: 'aws:ecs:stop-task', Targets: { Tasks: 'Tasks' } } },
      Targets: {
        Tasks: {
          ResourceType: 'aws:ecs:task',
          Parameters: {
            cluster: { Ref: Match.stringLikeRegexp('^Cluster') },
            service: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Service'), 'Name'] },
          },
          SelectionMode: 'COUNT(1)',
          ResourceTags: Match.absent(),
        },
      },
      LogConfiguration: {
        LogSchemaVersion: 2,
        CloudWatchLogsConfiguration: {
          LogGroupArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ChaosFisExperimentLogs'), 'Arn'] },
        },
      },
      StopConditions: [
        {
          Source: 'aws:cloudwatch:alarm',
          Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RegionImpaired'), 'Arn'] },
        },
      ],
      RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ChaosFisRole'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'fis.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': '111111111111' } },
          }),
        ],
      },
    });
  });

  test('starts an experiment only through a guard that reserves with stop-tasks (lease and cap) first, as a dry run unless told', () => {
    // GIVEN
    const { stack, chaos } = region();
    const machines = Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine');
    const [guard] = Object.values(machines) as {
      Properties: { DefinitionString: { 'Fn::Join': [string, unknown[]] } };
    }[];
    expect(Object.keys(machines)).toHaveLength(1);
    const text = guard.Properties.DefinitionString['Fn::Join'][1]
      .map((part) => (typeof part === 'string' ? part : JSON.stringify(part).replace(/"/g, "'")))
      .join('');
    const asl = JSON.parse(text) as {
      StartAt: string;
      States: Record<string, Record<string, unknown>>;
    };

    // THEN it starts by deciding dry run or not: only a boolean false acts
    expect(asl.StartAt).toBe('Act?');
    expect(asl.States['Act?'].Default).toBe('Dry run');
    expect(asl.States['Dry run']).toMatchObject({
      Result: true,
      ResultPath: '$.dryRun',
      Next: 'Reserve',
    });
    // AND it reserves through the stop-tasks function, for FIS, one task
    expect(asl.States.Reserve.Parameters).toMatchObject({
      'experimentId.$': '$$.Execution.Name',
      'dryRun.$': '$.dryRun',
      count: 1,
      fisExperiment: true,
    });
    expect(JSON.stringify(asl.States.Reserve.Resource)).toContain(
      stack.getLogicalId(chaos.functions['stop-tasks'].node.defaultChild as CfnElement),
    );
    // AND FIS starts only after an applied reservation; a refusal or a failure never reaches it
    const reachesStart = Object.entries(asl.States)
      .filter(([, state]) => JSON.stringify(state).includes('"Start experiment"'))
      .map(([name]) => name);
    expect(reachesStart).toEqual(['Applied?']);
    expect(asl.States['Applied?'].Choices).toEqual([
      expect.objectContaining({ Next: 'Start experiment' }),
      expect.objectContaining({ Next: 'Dry run done' }),
    ]);
    expect(asl.States['Reserved?']).toMatchObject({
      Choices: [{ Variable: '$.reserve.ok', BooleanEquals: true, Next: 'Applied?' }],
      Default: 'Refused',
    });
    expect(asl.States['Start experiment'].Parameters).toMatchObject({
      'ClientToken.$': '$$.Execution.Name',
    });
  });

  test('CPU stress is added only on request, with the SSM permissions FIS needs', () => {
    // GIVEN / WHEN
    const { stack } = region({ taskCpuStress: true });
    const template = Template.fromStack(stack);

    // THEN
    template.resourceCountIs('AWS::FIS::ExperimentTemplate', 2);
    template.hasResourceProperties('AWS::FIS::ExperimentTemplate', {
      Actions: {
        CpuStress: {
          ActionId: 'aws:ecs:task-cpu-stress',
          Parameters: { duration: 'PT5M', percent: '80', installDependencies: 'true' },
          Targets: { Tasks: 'Tasks' },
        },
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'ssm:SendCommand',
            Resource: [
              'arn:aws:ssm:us-east-1:111111111111:managed-instance/*',
              'arn:aws:ssm:us-east-1::document/AWSFIS-Run-CPU-Stress',
            ],
          }),
        ]),
      },
    });
  });
});

describe('cdk-nag', () => {
  test.each([
    ['the defaults', {}],
    ['CPU stress and no cache', { taskCpuStress: true, cacheClusterId: undefined }],
  ])('AwsSolutions finds nothing unacknowledged in the construct with %s', (_label, props) => {
    const { app } = region(props, { nag: true });
    expect(nagErrors(app).filter((line) => line.includes('/Chaos/'))).toEqual([]);
  });
});

describe('props validation', () => {
  const problemsOf = (props: Partial<ChaosFunctionsProps>) => {
    try {
      region(props);
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error('expected the props to be refused');
  };

  test.each([
    [
      { maxTaskShare: 1.5 },
      'maxTaskShare must be above 0 and at most 1 (a share of the tasks), got 1.5',
    ],
    [
      { maxTaskShare: 0 },
      'maxTaskShare must be above 0 and at most 1 (a share of the tasks), got 0',
    ],
    [
      { maxFaultDurationMinutes: 2.5 },
      'maxFaultDurationMinutes must be a whole number of minutes from 1 to 720, got 2.5',
    ],
    [
      { maxFaultDurationMinutes: 1000 },
      'maxFaultDurationMinutes must be a whole number of minutes from 1 to 720, got 1000',
    ],
    [
      { targetGroups: [] },
      "targetGroups must list the service's target groups (both, with canary deployments), got none",
    ],
    [
      { canaryTargets: [] },
      'canaryTargets must list at least one endpoint (each region and the global name)',
    ],
    [
      { canaryTargets: [{ name: 'Europe', url: 'https://eu.example.com/' }] },
      'canaryTargets name must be a region code (e.g. eu-west-1) or "global", got "Europe"',
    ],
    [
      { canaryTargets: [CANARY_TARGETS[2], CANARY_TARGETS[2]] },
      'canaryTargets names must be unique, got global twice',
    ],
    [
      { canaryTargets: [{ name: 'global', url: 'ftp://example.com/' }] },
      'canaryTargets url of global must be an http(s) URL, got "ftp://example.com/"',
    ],
    [
      { healthToken: ' ' },
      'healthToken must be the text a healthy readiness body contains, got an empty string',
    ],
    [
      { cacheClusterId: '' },
      'cacheClusterId must be the memcached cluster id, or left out; got an empty string',
    ],
  ])('%j is refused with a message naming the fix', (props, message) => {
    expect(problemsOf(props)).toContain(message);
  });

  test('a target group listed twice is refused: the other group would go unread', () => {
    // GIVEN a region whose first target group is passed twice instead of both groups
    const refused = () => {
      const { stack, vpc, cluster, service } = minimalRegion('us-east-1');
      const group = new ApplicationTargetGroup(stack, 'Targets', {
        vpc,
        port: 8080,
        targetType: TargetType.IP,
      });
      return new ChaosFunctions(stack, 'Chaos', {
        cluster,
        service,
        targetGroups: [group, group],
        faultParameter: new StringParameter(stack, 'Faults', { stringValue: '{"faults":[]}' }),
        regionImpairedAlarm: new Alarm(stack, 'RegionImpaired', {
          metric: new Metric({ namespace: 'Test', metricName: 'Impaired' }),
          threshold: 1,
          evaluationPeriods: 1,
        }),
        canaryTargets: CANARY_TARGETS,
        healthToken: '"status":"ready"',
      });
    };

    // WHEN / THEN
    expect(refused).toThrow('targetGroups must list each target group once, got one twice');
  });

  test('every problem is reported at once', () => {
    expect(problemsOf({ maxTaskShare: 2, healthToken: '' })).toBe(
      'ChaosFunctions: 2 invalid prop(s):\n' +
        '  - maxTaskShare must be above 0 and at most 1 (a share of the tasks), got 2\n' +
        '  - healthToken must be the text a healthy readiness body contains, got an empty string',
    );
  });
});
