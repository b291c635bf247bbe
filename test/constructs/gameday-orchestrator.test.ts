import { App, CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Alarm, ComparisonOperator, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { ContainerImage } from 'aws-cdk-lib/aws-ecs';
import { ApplicationTargetGroup, TargetType } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { StringParameter } from 'aws-cdk-lib/aws-ssm';
import { AwsSolutionsChecks } from 'cdk-nag';

import { SCENARIO_RUNS } from '../../lambda/gameday-shared/run';
import { ChaosFunctions } from '../../lib/constructs/chaos/chaos-functions';
import { GAMEDAY_OUTPUTS, STATES } from '../../lib/constructs/gameday/contract';
import {
  GameDayOrchestrator,
  GameDayOrchestratorProps,
} from '../../lib/constructs/gameday/gameday-orchestrator';
import { SCENARIO_NAMES } from '../../lib/gameday/scenarios';
import { resolveConfig } from '../../lib/load-config';
import { RegionalStack } from '../../lib/stacks/regional-stack';
import { minimalRegion } from '../support/minimal-region';
import { nagErrors } from '../support/nag';

/** A fresh app with a minimal region (VPC, service, target group, alarm, chaos) and the orchestrator. */
function region(props: Partial<GameDayOrchestratorProps> = {}, options: { nag?: boolean } = {}) {
  const { app, stack, vpc, cluster, service } = minimalRegion('eu-west-1');
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
  const targetGroups = [targetGroup, alternateTargetGroup];
  const regionImpairedAlarm = new Alarm(stack, 'RegionImpaired', {
    alarmName: 'Blueprint-eu-west-1-region-impaired',
    metric: new Metric({ namespace: 'Test', metricName: 'Impaired' }),
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
  });
  if (options.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  const chaos = new ChaosFunctions(stack, 'Chaos', {
    cluster,
    service,
    targetGroups,
    faultParameter: new StringParameter(stack, 'Faults', { stringValue: '{"faults":[]}' }),
    regionImpairedAlarm,
    canaryTargets: [{ name: 'eu-west-1', url: 'https://eu-west-1.api.example.com/health/ready' }],
    healthToken: '"status":"ready"',
  });
  const gameDay = new GameDayOrchestrator(stack, 'GameDay', {
    chaos,
    service,
    targetGroups,
    regionImpairedAlarm,
    watchedAlarmNames: ['Blueprint-eu-west-1-unhealthy-hosts'],
    regionEndpoint: 'https://eu-west-1.api.example.com',
    globalEndpoint: 'https://api.example.com',
    availabilityZones: ['eu-west-1a', 'eu-west-1b'],
    ...props,
  });
  return { app, stack, chaos, gameDay };
}

interface AslState {
  readonly Type: string;
  readonly Next?: string;
  readonly End?: boolean;
  readonly Default?: string;
  readonly Choices?: readonly { readonly Next: string }[];
  readonly Catch?: readonly { readonly ErrorEquals: readonly string[]; readonly Next: string }[];
  readonly Resource?: string;
  readonly Parameters?: Record<string, unknown>;
  readonly InputPath?: string;
  /** A Parallel state's branches. */
  readonly Branches?: readonly Asl[];
  readonly [key: string]: unknown;
}
interface Asl {
  readonly StartAt: string;
  readonly TimeoutSeconds?: number;
  readonly States: Record<string, AslState>;
}

/**
 * The state machine's definition as CloudFormation renders it: an `Fn::Join` of JSON text and
 * references. References become `<ref:N>` strings (kept in `refs`) so that the JSON parses.
 */
function renderedAsl(stack: Stack): { asl: Asl; refs: unknown[] } {
  const template = Template.fromStack(stack);
  // The game day's own state machine (the chaos construct has FIS guard machines too).
  const [machine] = Object.entries(template.findResources('AWS::StepFunctions::StateMachine'))
    .filter(([id]) => id.startsWith('GameDay'))
    .map(([, resource]) => resource) as {
    Properties: { DefinitionString: { 'Fn::Join': [string, unknown[]] } };
  }[];
  const refs: unknown[] = [];
  const text = machine.Properties.DefinitionString['Fn::Join'][1]
    .map((part) => (typeof part === 'string' ? part : `<ref:${refs.push(part) - 1}>`))
    .join('');
  return { asl: JSON.parse(text) as Asl, refs };
}

const successors = (state: AslState): string[] => [
  ...(state.Next ? [state.Next] : []),
  ...(state.Choices ?? []).map((c) => c.Next),
  ...(state.Default ? [state.Default] : []),
  ...(state.Catch ?? []).map((c) => c.Next),
];

/**
 * Walks every state reachable from an inject (following Next, Choices, Default and Catch) without
 * passing through `restore`, and lists what would let a run end with the fault in place: a state
 * that ends the execution, a task that can fail without a catch-all, a Choice without a Default (a
 * failed match ends the execution), or a state from which restore cannot be reached at all.
 */
function pathsAfterInjectThatSkipRestore(asl: Asl, restore: string): string[] {
  const injects = Object.keys(asl.States).filter((n) => n.startsWith(STATES.injectPrefix));
  const problems: string[] = injects.length === 0 ? ['no inject state'] : [];
  const seen = new Set<string>();
  const queue = [...injects];
  while (queue.length > 0) {
    const name = queue.shift() as string;
    if (name === restore || seen.has(name)) continue;
    seen.add(name);
    const state = asl.States[name];
    if (!state) {
      problems.push(`${name} is named but not defined`);
      continue;
    }
    if (state.Type === 'Succeed' || state.Type === 'Fail' || state.End === true) {
      problems.push(`${name} ends the execution without restoring`);
    }
    const canFail = ['Task', 'Parallel', 'Map'].includes(state.Type);
    if (canFail && !state.Catch?.some((c) => c.ErrorEquals.includes('States.ALL'))) {
      problems.push(`${name} can fail without a catch-all`);
    }
    if (state.Type === 'Choice' && !state.Default) {
      problems.push(`${name} has no Default: an unmatched choice would end the execution`);
    }
    queue.push(...successors(state));
  }
  const reaches = (from: string): boolean => {
    const visited = new Set<string>();
    const stack = [from];
    while (stack.length > 0) {
      const name = stack.pop() as string;
      if (name === restore) return true;
      if (visited.has(name) || !asl.States[name]) continue;
      visited.add(name);
      stack.push(...successors(asl.States[name]));
    }
    return false;
  };
  for (const name of seen) {
    if (!reaches(name)) problems.push(`${name} never leads to ${restore}`);
  }
  return problems;
}

describe('the game-day state machine definition', () => {
  const { stack, chaos } = region();
  const { asl, refs } = renderedAsl(stack);
  const resolvedRef = (value: unknown) => {
    const match = typeof value === 'string' ? /^<ref:(\d+)>$/.exec(value) : null;
    return match ? refs[Number(match[1])] : value;
  };
  const logicalIdOf = (fn: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(fn.node.defaultChild as Parameters<Stack['getLogicalId']>[0]);

  test('reaches the restore from every state after an inject, including through catches', () => {
    expect(pathsAfterInjectThatSkipRestore(asl, STATES.restore)).toEqual([]);
  });

  test('has an inject state for every scenario, each caught into the restore', () => {
    for (const name of SCENARIO_NAMES) {
      const inject = asl.States[`${STATES.injectPrefix}${name}`];
      expect(inject?.Catch).toEqual([
        { ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: STATES.restore },
      ]);
    }
  });

  test("invokes each scenario's own chaos function with the event the preflight planned", () => {
    for (const name of SCENARIO_NAMES) {
      const inject = asl.States[`${STATES.injectPrefix}${name}`];
      const fn = chaos.functions[SCENARIO_RUNS[name].inject];
      expect(resolvedRef(inject.Resource)).toEqual({
        'Fn::GetAtt': [logicalIdOf(fn), 'Arn'],
      });
      expect(inject.InputPath).toBe('$.preflight.run.injectEvent');
    }
  });

  test('restores the experiment the preflight named, with the restore function', () => {
    const restore = asl.States[STATES.restore];
    expect(resolvedRef(restore.Resource)).toEqual({
      'Fn::GetAtt': [logicalIdOf(chaos.functions.restore), 'Arn'],
    });
    expect(restore.Parameters).toEqual({
      'experimentId.$': '$.preflight.run.experimentId',
      'dryRun.$': '$.preflight.run.dryRun',
    });
  });

  test('starts with the steady-state checks and injects only when they pass', () => {
    expect(asl.StartAt).toBe(STATES.baselineTargets);
    expect(asl.States[STATES.steadyState]).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.preflight.ok', BooleanEquals: true, Next: STATES.whichScenario }],
      Default: STATES.report,
    });
  });

  const polls = [STATES.baselineTargets, STATES.faultTargets, STATES.recoveryTargets];

  test('keeps only the id, port and state of each target a poll reads, so polls cannot reach States.DataLimitExceeded', () => {
    for (const name of polls) {
      expect(asl.States[name]).toMatchObject({ Type: 'Parallel', ResultPath: '$.targetHealth' });
      for (const branch of asl.States[name].Branches ?? []) {
        const [read] = Object.values(branch.States);
        expect(read.ResultSelector).toEqual({
          'ids.$': '$.TargetHealthDescriptions[*].Target.Id',
          'ports.$': '$.TargetHealthDescriptions[*].Target.Port',
          'states.$': '$.TargetHealthDescriptions[*].TargetHealth.State',
        });
      }
    }
  });

  test('reads both target groups in every poll, as canary deployments move the service between them', () => {
    // GIVEN the service's two target groups
    const groupRef = (id: RegExp) => ({ Ref: expect.stringMatching(id) as unknown });

    // THEN each poll reads the first group and the alternate one, one branch each, with retries
    for (const name of polls) {
      const branches = asl.States[name].Branches ?? [];
      const reads = branches.map((b) => b.States[b.StartAt]);
      expect(reads.map((r) => resolvedRef(r.Parameters?.TargetGroupArn))).toEqual([
        groupRef(/^Targets/),
        groupRef(/^AlternateTargets/),
      ]);
      for (const read of reads) {
        expect(read.Type).toBe('Task');
        expect(read.Resource).toMatch(
          /:states:::aws-sdk:elasticloadbalancingv2:describeTargetHealth$/,
        );
        expect(read.Retry).toEqual([
          expect.objectContaining({ ErrorEquals: ['States.ALL'] }) as unknown,
        ]);
      }
    }
  });

  test('hands the preflight the execution name, which the end-of-execution restore uses', () => {
    expect(asl.States[STATES.preflight].Parameters).toMatchObject({
      'execution.$': '$$.Execution.Name',
    });
  });

  test('has no execution timeout, which would end a run without its restore', () => {
    expect(asl.TimeoutSeconds).toBeUndefined();
  });

  test('gives every Lambda task a timeout, so that a hung call is caught like a failure', () => {
    const tasks = Object.entries(asl.States).filter(([, s]) => s.Type === 'Task');
    expect(tasks.filter(([, s]) => typeof s.TimeoutSeconds !== 'number')).toEqual([]);
  });
});

describe('the path walk', () => {
  const { stack } = region();
  const { asl } = renderedAsl(stack);
  interface EditableState {
    Catch?: { Next: string }[];
    Choices: { Next: string }[];
  }
  const mutated = (change: (states: Record<string, EditableState>) => void): Asl => {
    const copy = JSON.parse(JSON.stringify(asl)) as { States: Record<string, EditableState> };
    change(copy.States);
    return copy as unknown as Asl;
  };

  test('finds an observe step that could fail without being caught', () => {
    const broken = mutated((states) => {
      delete states[STATES.observe].Catch;
    });
    expect(pathsAfterInjectThatSkipRestore(broken, STATES.restore)).toContain(
      `${STATES.observe} can fail without a catch-all`,
    );
  });

  test('finds a choice that ends the run before the restore', () => {
    const broken = mutated((states) => {
      states[STATES.observedEnough].Choices[0].Next = STATES.done;
    });
    expect(pathsAfterInjectThatSkipRestore(broken, STATES.restore)).toContain(
      `${STATES.done} ends the execution without restoring`,
    );
  });

  test('finds a loop with no way out to the restore', () => {
    const broken = mutated((states) => {
      states[STATES.observedEnough].Choices[0].Next = STATES.faultWait;
      for (const name of [STATES.observe, STATES.faultTargets]) {
        const caught = states[name].Catch ?? [];
        caught[0].Next = STATES.faultWait;
      }
    });
    expect(pathsAfterInjectThatSkipRestore(broken, STATES.restore)).toContain(
      `${STATES.observe} never leads to ${STATES.restore}`,
    );
  });
});

describe('the game-day orchestrator', () => {
  const { stack, gameDay, chaos } = region();
  const template = Template.fromStack(stack);

  test('leaves nothing unacknowledged for AwsSolutions in the construct', () => {
    // The minimal region around it is not nag-clean; the regional stack test checks the whole.
    const { app } = region({}, { nag: true });
    expect(nagErrors(app).filter((line) => line.includes('/GameDay/'))).toEqual([]);
  });

  test('logs every state with its data and traces with X-Ray', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }),
      TracingConfiguration: { Enabled: true },
    });
  });

  test('keeps reports in an encrypted, private, TLS-only bucket that expires them', () => {
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
      LifecycleConfiguration: {
        Rules: [Match.objectLike({ ExpirationInDays: 365, Status: 'Enabled' })],
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

  test('deletes the bucket and its reports with the stack, so that cdk destroy leaves nothing', () => {
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Delete',
    });
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 1);
  });

  test('restores the experiment of an execution that ends ABORTED, TIMED_OUT or FAILED (exits the definition cannot catch)', () => {
    // GIVEN the orchestrator, WHEN synthesized, THEN one rule matches the bad ends of its executions
    const rules = template.findResources('AWS::Events::Rule', {
      Properties: { EventPattern: { source: ['aws.states'] } },
    }) as Record<string, { Properties: Record<string, unknown> }>;
    const [rule] = Object.values(rules);
    expect(Object.keys(rules)).toHaveLength(1);
    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: {
        status: ['ABORTED', 'TIMED_OUT', 'FAILED'],
        stateMachineArn: [
          { Ref: stack.getLogicalId(gameDay.stateMachine.node.defaultChild as CfnElement) },
        ],
      },
    });
    // AND it invokes restore with the execution's name as the experiment id, for real
    const [target] = rule.Properties.Targets as Record<string, unknown>[];
    expect(target.Arn).toEqual({
      'Fn::GetAtt': [
        stack.getLogicalId(chaos.functions.restore.node.defaultChild as CfnElement),
        'Arn',
      ],
    });
    expect(target.InputTransformer).toEqual({
      InputPathsMap: { 'detail-name': '$.detail.name' },
      InputTemplate: '{"experimentId":<detail-name>,"dryRun":false}',
    });
  });

  test('runs its functions on Node.js 22, ARM64, traced', () => {
    for (const name of ['gameday-observe', 'gameday-reporter']) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        Environment: {
          Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: name }),
        },
      });
    }
  });

  test('lets the observe function read only the alarms it watches and the lease table', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'cloudwatch:DescribeAlarms',
            // Exactly the two alarms: the region-impaired one and the one watched.
            Resource: [
              'arn:aws:cloudwatch:eu-west-1:111111111111:alarm:Blueprint-eu-west-1-unhealthy-hosts',
              { 'Fn::GetAtt': [Match.stringLikeRegexp('^RegionImpaired'), 'Arn'] },
            ],
          }),
          Match.objectLike({
            Action: 'dynamodb:GetItem',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('ChaosStateTable'), 'Arn'] },
          }),
        ]),
      },
      Roles: [{ Ref: Match.stringLikeRegexp('GameDayObserveRole') }],
    });
  });

  test('lets the report function write report objects only', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 's3:PutObject',
            Resource: {
              'Fn::Join': [
                '',
                [{ 'Fn::GetAtt': [Match.stringLikeRegexp('GameDayReports'), 'Arn'] }, '/reports/*'],
              ],
            },
          }),
        ]),
      },
      Roles: [{ Ref: Match.stringLikeRegexp('GameDayReportRole') }],
    });
  });

  test('derives the budgets from the health-check settings it is given', () => {
    // GIVEN a region that checks every 10 s and ejects after 2 failures
    const { gameDay: tuned, stack: tunedStack } = region({
      albIntervalSeconds: 10,
      albUnhealthyThreshold: 2,
      albHealthyThreshold: 3,
    });
    // THEN a lost task is ejected within 20 s, and the observe function computes from the same
    expect(tuned.budgets['task-loss'].detectSeconds).toBe(20);
    expect(tuned.budgets['task-loss'].recoverSeconds).toBe(90 + 30);
    Template.fromStack(tunedStack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          DEPLOYED_SETTINGS: Match.serializedJson(
            Match.objectLike({
              albIntervalSeconds: 10,
              albUnhealthyThreshold: 2,
              albHealthyThreshold: 3,
            }),
          ),
        }),
      },
    });
  });

  test('uses the default settings for the default budgets', () => {
    expect(gameDay.budgets['region-evacuation'].detectSeconds).toBe(7 + 10 * 3 + 60);
    expect(gameDay.budgets['zero-length-responder'].detectSeconds).toBe(7 + 10 + 15);
  });

  test('outputs the state machine ARN and the report bucket under fixed keys the CLI looks up', () => {
    template.hasOutput(GAMEDAY_OUTPUTS.stateMachineArn, {
      Value: { Ref: Match.stringLikeRegexp('^GameDayStateMachine') },
    });
    template.hasOutput(GAMEDAY_OUTPUTS.reportBucket, {
      Value: { Ref: Match.stringLikeRegexp('^GameDayReports') },
    });
  });
});

describe('the game-day orchestrator refuses bad props', () => {
  const problemsOf = (props: Partial<GameDayOrchestratorProps>): string => {
    try {
      region(props);
    } catch (error) {
      return (error as Error).message;
    }
    return 'no error';
  };

  test('names every health-check setting outside what AWS allows', () => {
    const message = problemsOf({ albIntervalSeconds: 2, albUnhealthyThreshold: 11 });
    expect(message).toContain(
      'albIntervalSeconds must be an integer from 5 to 300 (seconds), got 2',
    );
    expect(message).toContain('albUnhealthyThreshold must be an integer from 2 to 10, got 11');
  });

  test('refuses an endpoint with a path', () => {
    expect(problemsOf({ regionEndpoint: 'https://eu-west-1.api.example.com/health' })).toContain(
      'regionEndpoint must be a base URL without a path, such as https://api.example.com, got "https://eu-west-1.api.example.com/health"',
    );
  });

  test('refuses no target groups, and a target group listed twice (the other would go unread)', () => {
    // GIVEN a target group from elsewhere, listed twice
    const other = new Stack(new App(), 'Other');
    const group = ApplicationTargetGroup.fromTargetGroupAttributes(other, 'Group', {
      targetGroupArn:
        'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/api/0123456789abcdef',
    });

    // WHEN / THEN
    expect(problemsOf({ targetGroups: [] })).toContain(
      "targetGroups must list the service's target groups (both, with canary deployments), got none",
    );
    expect(problemsOf({ targetGroups: [group, group] })).toContain(
      'targetGroups must list each target group once, got one twice',
    );
  });

  test('refuses a poll interval below a second and AZ names that are not AZs', () => {
    const message = problemsOf({
      pollInterval: Duration.millis(500),
      availabilityZones: ['eu-west-1'],
    });
    expect(message).toContain('pollInterval must be 1-60 seconds, got 0.5');
    expect(message).toContain(
      'availabilityZones must hold AZ names such as us-east-1a, got "eu-west-1"',
    );
  });
});

describe('the game day in a regional stack', () => {
  test('watches only alarms the stack has, by their fixed names', () => {
    // GIVEN the default regional stack
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const config = resolveConfig({});
    const regionConfig = config.regions[1];
    const stack = new RegionalStack(app, 'Blueprint-eu-west-1', {
      env: { region: regionConfig.region },
      config,
      regionConfig,
      tableName: 'Blueprint-catalog',
      image: ContainerImage.fromRegistry('public.ecr.aws/docker/library/node:22-slim'),
    });
    const template = Template.fromStack(stack);
    // WHEN
    const alarmNames = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => (a as { Properties: { AlarmName?: string } }).Properties.AlarmName,
    );
    const observe = Object.values(template.findResources('AWS::Lambda::Function')).find(
      (f) =>
        (f as { Properties: { Environment?: { Variables?: Record<string, unknown> } } }).Properties
          .Environment?.Variables?.POWERTOOLS_SERVICE_NAME === 'gameday-observe',
    ) as { Properties: { Environment: { Variables: Record<string, string> } } };
    const watched = JSON.parse(observe.Properties.Environment.Variables.WATCHED_ALARMS) as string[];
    // THEN
    expect(watched).toHaveLength(6);
    expect(alarmNames).toEqual(expect.arrayContaining(watched));
  });
});
