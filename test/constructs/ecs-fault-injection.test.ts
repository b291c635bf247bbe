import { App, CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Alarm, ComparisonOperator, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import {
  ContainerImage,
  CpuArchitecture,
  FargateService,
  FargateTaskDefinition,
  LogDrivers,
  OperatingSystemFamily,
  PidMode,
} from 'aws-cdk-lib/aws-ecs';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { StringParameter } from 'aws-cdk-lib/aws-ssm';
import { AwsSolutionsChecks } from 'cdk-nag';

import { ECS_TASK_ARN_TAG, SSM_AGENT_IMAGE } from '../../lib/constructs/chaos/ecs-fault-injection';
import {
  ChaosExperimentTemplates,
  ChaosExperimentTemplatesProps,
} from '../../lib/constructs/chaos/fis-templates';
import { nagResource } from '../../lib/constructs/chaos/nag-finding';
import { GUARD_EXECUTION_TAG } from '../../lib/constructs/chaos/stop-on-exit';
import { PublicLoadBalancer } from '../../lib/constructs/load-balancer/public-load-balancer';
import { CatalogService } from '../../lib/constructs/service/catalog-service';
import { resolveConfig } from '../../lib/load-config';
import { RegionalStack } from '../../lib/stacks/regional-stack';
import { minimalRegion } from '../support/minimal-region';
import { nagErrors } from '../support/nag';
import { regionalStack } from '../support/regional-stack';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown };

/** A task definition as CatalogService makes it with chaos on: the fault injection opt-in. */
function readyTaskDefinition(stack: Stack, overrides: Record<string, unknown> = {}) {
  const taskDefinition = new FargateTaskDefinition(stack, 'ReadyTaskDef', {
    runtimePlatform: {
      cpuArchitecture: CpuArchitecture.ARM64,
      operatingSystemFamily: OperatingSystemFamily.LINUX,
    },
    enableFaultInjection: true,
    pidMode: PidMode.TASK,
    ...overrides,
  });
  taskDefinition.addContainer('App', {
    image: ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable'),
    portMappings: [{ containerPort: 8080 }],
    logging: LogDrivers.awsLogs({ streamPrefix: 'app' }),
  });
  return taskDefinition;
}

/** The FIS templates on a minimal region, with `props` (a ready task definition unless given). */
function templates(
  props: Partial<ChaosExperimentTemplatesProps> = {},
  options: { nag?: boolean; taskDefinition?: 'ready' | 'none' } = {},
) {
  const { app, stack, cluster, service: plainService } = minimalRegion('eu-west-1');
  if (options.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  const taskDefinition = options.taskDefinition === 'none' ? undefined : readyTaskDefinition(stack);
  const service = taskDefinition
    ? new FargateService(stack, 'ReadyService', { cluster, taskDefinition, desiredCount: 3 })
    : undefined;
  const stopTasksFunction = new LambdaFunction(stack, 'StopTasksFn', {
    runtime: Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: Code.fromInline('exports.handler = async () => ({})'),
  });
  const regionImpairedAlarm = new Alarm(stack, 'RegionImpaired', {
    metric: new Metric({ namespace: 'Test', metricName: 'Impaired' }),
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
  });
  const fis = new ChaosExperimentTemplates(stack, 'Fis', {
    cluster,
    service: service ?? plainService,
    stopTasksFunction,
    regionImpairedAlarm,
    maxFaultDurationMinutes: 30,
    taskDefinition,
    ...props,
  });
  return {
    app,
    stack,
    fis,
    cluster,
    service,
    taskDefinition,
    regionImpairedAlarm,
    stopTasksFunction,
  };
}

/** `stack.resolve`, typed: a resolved token is JSON, not `any`. */
const resolve = (stack: Stack, value: unknown): unknown => stack.resolve(value) as unknown;

const resourcesOf = (stack: Stack) =>
  (Template.fromStack(stack).toJSON() as { Resources: Resources }).Resources;

/** The statements of the policies attached to `roleId`. */
function statementsOf(stack: Stack, role: CfnElement | undefined): Statement[] {
  const roleId = stack.getLogicalId(role as CfnElement);
  return Object.values(resourcesOf(stack))
    .filter(
      (r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(roleId),
    )
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}
const actionsOf = (s: Statement) => [s.Action].flat();

/** The definition of the state machine at `path` (its DefinitionString resolved to JSON). */
function definitionOf(stack: Stack, machineId: string): Record<string, unknown> {
  const [, machine] = Object.entries(resourcesOf(stack)).find(
    ([id, r]) => r.Type === 'AWS::StepFunctions::StateMachine' && id.startsWith(machineId),
  ) ?? [undefined, undefined];
  if (!machine) throw new Error(`no state machine ${machineId}`);
  const joined = machine.Properties.DefinitionString as { 'Fn::Join': [string, unknown[]] };
  const text = joined['Fn::Join'][1]
    // Tokens (ARNs, the template id) only ever sit inside JSON strings of a definition.
    .map((part) => (typeof part === 'string' ? part : `<${nagResource(part)}>`))
    .join('');
  return JSON.parse(text) as Record<string, unknown>;
}

const NETWORK_ACTIONS = {
  NetworkLatency: 'aws:ecs:task-network-latency',
  PacketLoss: 'aws:ecs:task-network-packet-loss',
  BlackholePort: 'aws:ecs:task-network-blackhole-port',
};

describe('ECS network fault templates', () => {
  const { stack, cluster, service, regionImpairedAlarm } = templates();
  const template = Template.fromStack(stack);
  const fisTemplates = Object.values(resourcesOf(stack)).filter(
    (r) => r.Type === 'AWS::FIS::ExperimentTemplate',
  );

  test.each(Object.entries(NETWORK_ACTIONS))(
    '%s runs %s on COUNT(1) of this cluster and service, through the ECS fault injection endpoints, stopped by the region-impaired alarm',
    (id, actionId) => {
      // GIVEN the templates on a task definition that opts in to fault injection
      // WHEN the template is rendered
      // THEN it targets one task of this cluster and service, never every tagged task
      template.hasResourceProperties('AWS::FIS::ExperimentTemplate', {
        Actions: {
          [id]: {
            ActionId: actionId,
            Parameters: Match.objectLike({
              duration: 'PT5M',
              useEcsFaultInjectionEndpoints: 'true',
              installDependencies: 'true',
            }),
            Targets: { Tasks: 'Tasks' },
          },
        },
        Targets: {
          Tasks: {
            ResourceType: 'aws:ecs:task',
            Parameters: {
              cluster: resolve(stack, cluster.clusterName),
              service: resolve(stack, service?.serviceName),
            },
            SelectionMode: 'COUNT(1)',
          },
        },
        StopConditions: [
          { Source: 'aws:cloudwatch:alarm', Value: resolve(stack, regionImpairedAlarm.alarmArn) },
        ],
        LogConfiguration: Match.objectLike({ LogSchemaVersion: 2 }),
        ExperimentOptions: {
          AccountTargeting: 'single-account',
          EmptyTargetResolutionMode: 'fail',
        },
      });
    },
  );

  test('latency, packet loss and black hole carry exactly the parameters FIS documents for them', () => {
    // GIVEN the default settings
    const parameters = (id: string) =>
      (
        fisTemplates.find((t) => JSON.stringify(t.Properties.Actions).includes(`"${id}"`))
          ?.Properties.Actions as Record<string, { Parameters: Record<string, string> }>
      )[id].Parameters;
    const common = {
      duration: 'PT5M',
      useEcsFaultInjectionEndpoints: 'true',
      installDependencies: 'true',
    };
    // THEN each has its own parameters and no other (FIS refuses unknown ones at deploy)
    expect(parameters('NetworkLatency')).toEqual({
      ...common,
      delayMilliseconds: '200',
      jitterMilliseconds: '10',
      sources: 'ALL',
    });
    expect(parameters('PacketLoss')).toEqual({ ...common, lossPercent: '10', sources: 'ALL' });
    expect(parameters('BlackholePort')).toEqual({
      ...common,
      port: '8080',
      protocol: 'tcp',
      trafficType: 'ingress',
    });
  });

  test('the templates use only properties of the AWS::FIS::ExperimentTemplate schema', () => {
    const allowed = [
      'Actions',
      'Description',
      'ExperimentOptions',
      'ExperimentReportConfiguration',
      'LogConfiguration',
      'RoleArn',
      'StopConditions',
      'Tags',
      'Targets',
    ];
    for (const t of fisTemplates) {
      expect(Object.keys(t.Properties).filter((k) => !allowed.includes(k))).toEqual([]);
    }
    expect(fisTemplates).toHaveLength(4); // stop-tasks and the three network faults
  });
});

describe('the FIS role for network faults (least privilege)', () => {
  const { stack, fis, cluster } = templates();
  const statements = statementsOf(stack, fis.role.node.defaultChild as CfnElement);

  test('may send only the three ECS network documents, and only to managed instances tagged with a task of this cluster', () => {
    const send = statements.filter((s) => actionsOf(s).includes('ssm:SendCommand'));
    expect(send).toHaveLength(2);
    const documents = JSON.stringify(send.map((s) => s.Resource));
    for (const doc of [
      'AWSFIS-Run-Network-Latency-ECS',
      'AWSFIS-Run-Network-Packet-Loss-ECS',
      'AWSFIS-Run-Network-Blackhole-Port-ECS',
    ]) {
      expect(documents).toContain(`:document/${doc}`);
    }
    const instances = send.find((s) => JSON.stringify(s.Resource).includes('managed-instance'));
    expect(instances?.Condition).toEqual({
      StringLike: {
        [`ssm:resourceTag/${ECS_TASK_ARN_TAG}`]: {
          'Fn::Join': [
            '',
            expect.arrayContaining([resolve(stack, cluster.clusterName), '/*']) as unknown,
          ],
        },
      },
    });
  });

  test('has the other permissions the network actions list, and no ECS write beyond StopTask', () => {
    const actions = statements.flatMap(actionsOf);
    for (const action of [
      'ecs:DescribeTasks',
      'ecs:ListTasks',
      'ecs:DescribeContainerInstances',
      'ec2:DescribeInstances',
      'ec2:DescribeSubnets',
      'ssm:ListCommands',
      'ssm:CancelCommand',
      'tag:GetResources',
    ]) {
      expect(actions).toContain(action);
    }
    expect(actions.filter((a) => /^ecs:(Update|Create|Delete|Run|Start)/.test(a))).toEqual([]);
    const described = statements.find((s) =>
      actionsOf(s).includes('ecs:DescribeContainerInstances'),
    );
    expect(described?.Condition).toEqual({
      ArnEquals: { 'ecs:cluster': resolve(stack, cluster.clusterArn) },
    });
  });
});

describe('the SSM agent sidecar (FIS maps tasks to SSM managed instances, Fargate included)', () => {
  const { stack, fis, taskDefinition } = templates();
  const template = Template.fromStack(stack);

  test('runs non-essential beside the app, with the managed-instance role named in its environment', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: Match.arrayWith([
        Match.objectLike({
          Name: 'SsmAgent',
          Image: SSM_AGENT_IMAGE,
          Essential: false,
          Environment: [
            {
              Name: 'MANAGED_INSTANCE_ROLE_NAME',
              Value: resolve(stack, fis.agent?.managedInstanceRole.roleName),
            },
          ],
          LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }),
        }),
      ]),
    });
  });

  test('registers the task tagged ECS_TASK_ARN and FAULT_INJECTION_SIDECAR, and cleans up on SIGTERM', () => {
    const container = (
      (resourcesOf(stack)[stack.getLogicalId(taskDefinition?.node.defaultChild as CfnElement)]
        .Properties.ContainerDefinitions as { Name: string; Command: string[] }[]) ?? []
    ).find((c) => c.Name === 'SsmAgent');
    const script = container?.Command.join(' ') ?? '';
    expect(script).toContain('Key=ECS_TASK_ARN,Value="$TASK_ARN"');
    expect(script).toContain('Key=FAULT_INJECTION_SIDECAR,Value=true');
    expect(script).toMatch(/trap cleanup TERM/);
    expect(script).toContain('aws ssm delete-activation');
    expect(script).toContain('aws ssm deregister-managed-instance');
  });

  test('the task role may create only fault-injection activations and pass only the managed-instance role, to SSM', () => {
    const statements = statementsOf(
      stack,
      taskDefinition?.taskRole.node.defaultChild as CfnElement,
    );
    const activation = statements.find((s) => actionsOf(s).includes('ssm:CreateActivation'));
    expect(activation?.Condition).toEqual({
      StringEquals: { 'aws:RequestTag/FAULT_INJECTION_SIDECAR': 'true' },
    });
    const pass = statements.find((s) => actionsOf(s).includes('iam:PassRole'));
    expect(pass?.Resource).toEqual(resolve(stack, fis.agent?.managedInstanceRole.roleArn));
    expect(pass?.Condition).toEqual({
      StringEquals: { 'iam:PassedToService': 'ssm.amazonaws.com' },
    });
  });

  test('the managed-instance role has AmazonSSMManagedInstanceCore and may delete its activation and deregister', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: Match.objectLike({
        Statement: [Match.objectLike({ Principal: { Service: 'ssm.amazonaws.com' } })],
      }),
      ManagedPolicyArns: [
        Match.objectLike({
          'Fn::Join': ['', Match.arrayWith([':iam::aws:policy/AmazonSSMManagedInstanceCore'])],
        }),
      ],
    });
    const actions = statementsOf(
      stack,
      fis.agent?.managedInstanceRole.node.defaultChild as CfnElement,
    ).flatMap(actionsOf);
    expect(actions).toEqual(
      expect.arrayContaining(['ssm:DeleteActivation', 'ssm:DeregisterManagedInstance']),
    );
  });
});

describe('only through the guard, and stopped on every exit', () => {
  const { stack, fis, stopTasksFunction } = templates();

  test.each(['network-latency', 'packet-loss', 'blackhole-port'])(
    'the %s guard reserves through stop-tasks (lease and cap) before it starts the experiment tagged with its execution name',
    (name) => {
      const id = {
        'network-latency': 'NetworkLatency',
        'packet-loss': 'PacketLoss',
        'blackhole-port': 'BlackholePort',
      }[name];
      expect(Object.keys(fis.guards)).toContain(name);
      const definition = definitionOf(stack, `Fis${id}Guard`) as {
        StartAt: string;
        States: Record<string, Record<string, unknown>>;
      };
      const reserve = definition.States.Reserve as { Parameters: Record<string, unknown> };
      expect(reserve.Parameters).toMatchObject({
        fisExperiment: true,
        count: 1,
        durationMinutes: 6,
        'experimentId.$': '$$.Execution.Name',
      });
      expect(JSON.stringify(definition.States.Reserve.Resource)).toContain(
        stack.getLogicalId(stopTasksFunction.node.defaultChild as CfnElement),
      );
      const start = definition.States['Start experiment'] as {
        Parameters: { Tags: Record<string, string> };
        Next: string;
      };
      expect(start.Parameters.Tags).toEqual({ [`${GUARD_EXECUTION_TAG}.$`]: '$$.Execution.Name' });
      // reaching Start needs Reserve's applied answer first
      const applied = definition.States['Applied?'] as { Choices: { Next: string }[] };
      expect(applied.Choices[0].Next).toBe('Start experiment');
      expect(start.Next).toBe('Wait');
    },
  );

  test('a guard that cannot read its experiment stops it (StopExperiment) before it fails', () => {
    const definition = definitionOf(stack, 'FisNetworkLatencyGuard') as {
      States: Record<string, { Catch?: { Next: string }[]; Resource?: string; Next?: string }>;
    };
    const get = definition.States['Get experiment'];
    expect(get.Catch?.map((c) => c.Next)).toEqual(['Stop experiment']);
    expect(definition.States['Stop experiment'].Resource).toContain(':aws-sdk:fis:stopExperiment');
    expect(definition.States['Stop experiment'].Next).toBe('Stopped on error');
    // an experiment that already ended is not retried, and is not a failure to stop
    const stop = definition.States['Stop experiment'] as unknown as {
      Retry: { ErrorEquals: string[]; MaxAttempts: number }[];
      Catch: { ErrorEquals: string[]; Next: string }[];
    };
    expect(stop.Retry[0]).toMatchObject({
      ErrorEquals: ['Fis.ConflictException', 'Fis.ResourceNotFoundException'],
      MaxAttempts: 0,
    });
    expect(stop.Catch.map((c) => c.Next)).toEqual(['Stopped on error', 'Stop failed']);
  });

  test('an execution that ends ABORTED, TIMED_OUT or FAILED starts StopOnExit with its name', () => {
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: {
          status: ['ABORTED', 'TIMED_OUT', 'FAILED'],
          stateMachineArn: ['network-latency', 'packet-loss', 'blackhole-port'].map((n) =>
            resolve(stack, fis.guards[n].stateMachineArn),
          ),
        },
      },
      Targets: [
        Match.objectLike({
          Arn: resolve(stack, fis.stopOnExit?.stateMachine.stateMachineArn),
          InputTransformer: Match.objectLike({
            InputPathsMap: { 'detail-name': '$.detail.name' },
          }),
        }),
      ],
    });
  });

  test('StopOnExit stops only running experiments tagged with that execution, page by page', () => {
    const definition = definitionOf(stack, 'FisStopOnExit') as {
      StartAt: string;
      States: Record<string, Record<string, unknown>>;
    };
    expect(definition.StartAt).toBe('List experiments');
    const each = definition.States['Each experiment'] as {
      ItemProcessor: { StartAt: string; States: Record<string, Record<string, unknown>> };
    };
    expect(each.ItemProcessor.StartAt).toBe('Tagged?');
    expect(JSON.stringify(each.ItemProcessor.States['This execution?'])).toContain(
      `"Variable":"$.experiment.Tags.${GUARD_EXECUTION_TAG}","StringEqualsPath":"$.executionName"`,
    );
    expect(JSON.stringify(each.ItemProcessor.States['Running?'])).toMatch(
      /pending.*initiating.*running/,
    );
    expect(JSON.stringify(definition.States['More?'])).toContain('$.page.NextToken');
  });

  test('no role outside the guards may start an experiment', () => {
    const starters = Object.entries(resourcesOf(stack))
      .filter(
        ([, r]) =>
          r.Type === 'AWS::IAM::Policy' &&
          JSON.stringify(r.Properties.PolicyDocument).includes('fis:StartExperiment'),
      )
      .map(([, r]) => JSON.stringify(r.Properties.Roles));
    expect(starters).toHaveLength(4); // the four guards' roles, nothing else
    for (const roles of starters) expect(roles).toMatch(/Guard/);
  });
});

describe('prerequisites are checked before anything is added', () => {
  test('a task definition without enableFaultInjection and pidMode task is refused, naming both', () => {
    // GIVEN a plain Fargate task definition (no fault injection opt-in)
    const { stack, cluster, service } = minimalRegion('eu-west-1');
    const plain = new FargateTaskDefinition(stack, 'Plain');
    plain.addContainer('App', { image: ContainerImage.fromRegistry('nginx') });
    const fn = new LambdaFunction(stack, 'Fn', {
      runtime: Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: Code.fromInline('exports.handler = async () => ({})'),
    });
    const alarm = new Alarm(stack, 'A', {
      metric: new Metric({ namespace: 'T', metricName: 'M' }),
      threshold: 1,
      evaluationPeriods: 1,
    });
    // WHEN the templates are asked for with it
    const make = () =>
      new ChaosExperimentTemplates(stack, 'Fis', {
        cluster,
        service,
        stopTasksFunction: fn,
        regionImpairedAlarm: alarm,
        maxFaultDurationMinutes: 30,
        taskDefinition: plain,
      });
    let message = '';
    try {
      make();
    } catch (error) {
      message = (error as Error).message;
    }
    // THEN every missing prerequisite is named at once
    expect(message).toContain(
      'taskDefinition enableFaultInjection must be true (ECS opens its fault injection endpoints only then), got undefined',
    );
    expect(message).toContain('taskDefinition pidMode must be task');
    expect(message).toContain('taskDefinition runtimePlatform.operatingSystemFamily must be LINUX');
  });

  test.each([
    [
      'a fault as long as the reservation',
      { networkFaultDuration: Duration.minutes(30) },
      'networkFaultDuration must be whole minutes from 1 to maxFaultDurationMinutes - 1 (29), so that the reservation outlives the fault; got 30 min',
    ],
    [
      'a loss of 0 %',
      { packetLossPercent: 0 },
      'packetLossPercent must be a whole percentage from 1 to 100, got 0',
    ],
    [
      'port 70000',
      { blackholePort: 70000 },
      'blackholePort must be a TCP port from 1 to 65535, got 70000',
    ],
    [
      'sources with a space',
      { networkFaultSources: 'DYNAMODB, S3' },
      'networkFaultSources must be ALL or comma-separated sources without spaces',
    ],
    [
      'half a millisecond of latency',
      { networkLatency: Duration.millis(0.5) },
      'networkLatency must be whole milliseconds from 0 to 60000, got 0.5 ms',
    ],
  ])('%s is refused with a message naming the setting', (_label, props, message) => {
    expect(() => templates(props)).toThrow(message);
  });

  test('without a task definition there are no network templates, no sidecar and no StopOnExit', () => {
    const { stack, fis } = templates({}, { taskDefinition: 'none' });
    expect(fis.networkFaults).toBeUndefined();
    expect(fis.agent).toBeUndefined();
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::FIS::ExperimentTemplate', 1);
    template.resourceCountIs('AWS::Events::Rule', 0);
  });
});

describe('cdk-nag', () => {
  test('AwsSolutions finds nothing unacknowledged in the templates, guards, sidecar and StopOnExit', () => {
    const { app } = templates({}, { nag: true });
    expect(nagErrors(app).filter((line) => /\/(Fis|ReadyTaskDef)\//.test(line))).toEqual([]);
  });
});

describe('CatalogService opts in to fault injection only with chaos', () => {
  function catalog(chaosEnabled: boolean) {
    const { stack, vpc } = minimalRegion('eu-west-1');
    const edge = new PublicLoadBalancer(stack, 'Lb', { vpc, wafEnabled: false });
    new CatalogService(stack, 'Catalog', {
      vpc,
      image: ContainerImage.fromRegistry('public.ecr.aws/docker/library/node:22-slim'),
      listener: edge.listener,
      testListener: edge.testListener,
      tableName: 'Blueprint-catalog',
      memcachedConfigEndpoint: 'cache.example:11211',
      faultParameter: new StringParameter(stack, 'Faults', { stringValue: '{"faults":[]}' }),
      healthToken: '"status":"ready"',
      chaosEnabled,
    });
    return Template.fromStack(stack);
  }

  test('with chaos: enableFaultInjection, pidMode task, awsvpc, Linux, and Fargate platform 1.4.0', () => {
    const template = catalog(true);
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Family: Match.stringLikeRegexp('Catalog'),
      NetworkMode: 'awsvpc',
      RuntimePlatform: Match.objectLike({ OperatingSystemFamily: 'LINUX' }),
      EnableFaultInjection: true,
      PidMode: 'task',
    });
    template.hasResourceProperties('AWS::ECS::Service', {
      TaskDefinition: Match.anyValue(),
      PlatformVersion: '1.4.0',
      EnableExecuteCommand: Match.absent(),
    });
  });

  test('without chaos: neither fault injection nor a shared PID namespace', () => {
    const template = catalog(false);
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Family: Match.stringLikeRegexp('Catalog'),
      EnableFaultInjection: Match.absent(),
      PidMode: Match.absent(),
    });
  });
});

describe('the regional stack with chaos.ecsNetworkFaults', () => {
  /** A synthesized eu-west-1 stack for `chaos`, with cdk-nag attached. */
  const regional = (chaos: Record<string, unknown>) => regionalStack({ chaos });
  const { app, stack } = regional({ ecsNetworkFaults: true });
  const violations = nagErrors(app);
  const template = Template.fromStack(stack);

  test('every prerequisite holds in the synthesized template: awsvpc, Linux, enableFaultInjection, pidMode task, platform 1.4.0, ECS Exec off, the SSM agent', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      NetworkMode: 'awsvpc',
      RequiresCompatibilities: ['FARGATE'],
      RuntimePlatform: Match.objectLike({ OperatingSystemFamily: 'LINUX' }),
      EnableFaultInjection: true,
      PidMode: 'task',
      ContainerDefinitions: Match.arrayWith([
        Match.objectLike({ Name: 'SsmAgent', Essential: false }),
      ]),
    });
    template.hasResourceProperties('AWS::ECS::Service', {
      LaunchType: 'FARGATE',
      PlatformVersion: '1.4.0',
      EnableExecuteCommand: Match.absent(),
    });
  });

  test('adds the three network templates and their guards', () => {
    for (const actionId of Object.values(NETWORK_ACTIONS)) {
      expect(JSON.stringify(template.findResources('AWS::FIS::ExperimentTemplate'))).toContain(
        actionId,
      );
    }
  });

  test('passes every AwsSolutions check', () => {
    expect(violations).toEqual([]);
  });
});

describe('the regional stack with chaos on and ecsNetworkFaults off (the default)', () => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const config = resolveConfig({});
  const regionConfig = config.regions.find((r) => r.region === 'eu-west-1') ?? config.regions[0];
  const stack = new RegionalStack(app, 'Blueprint-eu-west-1', {
    env: { region: regionConfig.region },
    config,
    regionConfig,
    tableName: 'Blueprint-catalog',
    image: ContainerImage.fromRegistry('public.ecr.aws/docker/library/node:22-slim'),
  });
  const template = Template.fromStack(stack);

  test('the task definition opts in to fault injection, but runs no SSM agent and has no network templates', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      EnableFaultInjection: true,
      PidMode: 'task',
      ContainerDefinitions: [Match.objectLike({ Name: 'App' })],
    });
    expect(JSON.stringify(template.findResources('AWS::FIS::ExperimentTemplate'))).not.toContain(
      'task-network',
    );
  });
});
