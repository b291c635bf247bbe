/**
 * A fake ECS endpoint on 127.0.0.1 that speaks the ECS JSON protocol (awsJson1_1: POST /, header
 * `X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Operation>`), so that tests can run the real
 * `@aws-sdk/client-ecs` client against it and inject the failures the chaos functions must survive:
 * throttling, 5xx, replies slower than the client's timeout, and malformed bodies.
 *
 * It keeps a little state (services and their tasks) so that writes have effects that a later read
 * can see: StopTask marks a task STOPPED, UpdateService changes the network configuration.
 *
 *   const ecs = await FakeEcs.start({ services: [...], tasks: [...] });
 *   ecs.inject('StopTask', { kind: 'slow', delayMs: 500 });   // the next StopTask replies late
 *   const client = new EcsApi(signedClientOptions(ecs.endpoint, []));
 *   ...
 *   await ecs.close();
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import { LoopbackHttpFake } from './loopback-http-fake';

const TARGET_PREFIX = 'AmazonEC2ContainerServiceV20141113.';
const CONTENT_TYPE = 'application/x-amz-json-1.1';

export interface FakeEcsService {
  readonly serviceArn: string;
  readonly serviceName: string;
  readonly clusterArn: string;
  desiredCount: number;
  status?: string;
  /** The task definition the service runs (UpdateService with `taskDefinition` changes it). */
  taskDefinition?: string;
  /** The service's deployments, newest first, as DescribeServices reports them. */
  deployments?: FakeEcsDeployment[];
  tags?: { key: string; value: string }[];
  networkConfiguration?: {
    awsvpcConfiguration?: {
      subnets?: string[];
      securityGroups?: string[];
      assignPublicIp?: string;
    };
  };
}

export interface FakeEcsDeployment {
  id: string;
  /** PRIMARY (the newest), ACTIVE (older, still running) or INACTIVE. */
  status: string;
  taskDefinition: string;
  /** IN_PROGRESS, COMPLETED or FAILED. */
  rolloutState: string;
  rolloutStateReason?: string;
}

export interface FakeEcsTask {
  readonly taskArn: string;
  readonly clusterArn: string;
  /** `service:<name>`, as ECS sets it for a service's tasks. */
  readonly group: string;
  availabilityZone: string;
  lastStatus: string;
  desiredStatus: string;
  subnetId?: string;
  /** The ENI's address, reported as the `privateIPv4Address` attachment detail. */
  privateIp?: string;
}

/** What to do to the next call of an operation. */
export type Injection =
  /** Answer normally (to let a call through before the injections queued after it). */
  | { readonly kind: 'pass' }
  /** 400 ThrottlingException, as ECS answers when rate-limited. */
  | { readonly kind: 'throttle' }
  /** A 5xx (default 500 ServerException). */
  | { readonly kind: 'server-error'; readonly status?: number }
  /**
   * Reply only after `delayMs`. With `applied` (the default) the effect happens at once and only
   * the reply is late: the realistic "it may have happened" case.
   */
  | { readonly kind: 'slow'; readonly delayMs: number; readonly applied?: boolean }
  /** 200 with a body that is not JSON. With `applied` (default) the effect happens. */
  | { readonly kind: 'malformed'; readonly applied?: boolean };

export interface RecordedCall {
  readonly operation: string;
  readonly input: Record<string, unknown>;
  /** What the fake did: `ok`, or the injection kind. */
  readonly answer: 'ok' | Exclude<Injection['kind'], 'pass'>;
}

export class FakeEcs extends LoopbackHttpFake {
  public readonly calls: RecordedCall[] = [];
  public readonly services = new Map<string, FakeEcsService>();
  public readonly tasks = new Map<string, FakeEcsTask>();
  /** Registered task definitions by ARN (`family:revision`), with `status` ACTIVE or INACTIVE. */
  public readonly taskDefinitions = new Map<string, Record<string, unknown>>();
  /** Store containers' environments sorted by name, as ECS may (it does not keep their order). */
  public reorderEnvironments = false;
  /** Tags given at RegisterTaskDefinition, by ARN (DescribeTaskDefinition with include TAGS). */
  public readonly taskDefinitionTags = new Map<string, unknown[]>();
  private readonly injections = new Map<string, Injection[]>();

  private constructor() {
    super();
  }

  /** Starts on a free port of 127.0.0.1. */
  static async start(
    initial: { services?: FakeEcsService[]; tasks?: FakeEcsTask[] } = {},
  ): Promise<FakeEcs> {
    const fake = new FakeEcs();
    await fake.listen();
    for (const s of initial.services ?? []) fake.services.set(s.serviceArn, structuredClone(s));
    for (const t of initial.tasks ?? []) fake.tasks.set(t.taskArn, structuredClone(t));
    return fake;
  }

  /** Queues injections for the next calls of `operation`, one per call, in order. */
  inject(operation: string, ...injections: Injection[]): void {
    this.injections.set(operation, [...(this.injections.get(operation) ?? []), ...injections]);
  }

  /** Injections queued and not yet used by a call, per operation. */
  pendingInjections(): Record<string, number> {
    return Object.fromEntries(
      [...this.injections].filter(([, queue]) => queue.length > 0).map(([op, q]) => [op, q.length]),
    );
  }

  /**
   * Back to an empty fake for the next scenario on the same endpoint: no services, no tasks, no
   * recorded calls, and no injection left queued by the last one (an unused injection would
   * otherwise hit the next scenario's first call of that operation).
   */
  reset(): void {
    this.services.clear();
    this.tasks.clear();
    this.calls.length = 0;
    this.injections.clear();
  }

  callsOf(operation: string): RecordedCall[] {
    return this.calls.filter((c) => c.operation === operation);
  }

  protected override handlerFailed(res: ServerResponse, error: unknown): void {
    this.reply(res, 500, { __type: 'ServerException', message: String(error) });
  }

  protected override async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = req.headers['x-amz-target'];
    if (
      req.method !== 'POST' ||
      typeof target !== 'string' ||
      !target.startsWith(TARGET_PREFIX) ||
      !String(req.headers['content-type']).startsWith(CONTENT_TYPE)
    ) {
      this.reply(res, 400, {
        __type: 'UnknownOperationException',
        message: 'not an ECS JSON request',
      });
      return;
    }
    const operation = target.slice(TARGET_PREFIX.length);
    const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<
      string,
      unknown
    >;
    const injection = this.injections.get(operation)?.shift();
    this.calls.push({
      operation,
      input,
      answer: injection === undefined || injection.kind === 'pass' ? 'ok' : injection.kind,
    });

    if (injection?.kind === 'throttle') {
      this.reply(res, 400, { __type: 'ThrottlingException', message: 'Rate exceeded' });
      return;
    }
    if (injection?.kind === 'server-error') {
      this.reply(res, injection.status ?? 500, {
        __type: 'ServerException',
        message: 'Internal failure',
      });
      return;
    }
    const applied =
      injection?.kind === 'slow' || injection?.kind === 'malformed'
        ? (injection.applied ?? true)
        : true;
    const answer = applied
      ? this.operate(operation, input)
      : this.operateReadOnly(operation, input);
    if (injection?.kind === 'malformed') {
      res.writeHead(200, { 'content-type': CONTENT_TYPE });
      res.end('{"tasks": [{"taskArn": ');
      return;
    }
    if (injection?.kind === 'slow') {
      this.replyLater(res, injection.delayMs, () => this.reply(res, answer.status, answer.body));
      return;
    }
    this.reply(res, answer.status, answer.body);
  }

  private reply(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': CONTENT_TYPE,
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': `fake-${this.calls.length}`,
    });
    res.end(text);
  }

  /** The answer a write would give, without its effect (for `applied: false`). */
  private operateReadOnly(operation: string, input: Record<string, unknown>): Answer {
    const snapshotServices = structuredClone([...this.services.entries()]);
    const snapshotTasks = structuredClone([...this.tasks.entries()]);
    const snapshotDefinitions = structuredClone([...this.taskDefinitions.entries()]);
    const answer = this.operate(operation, input);
    this.taskDefinitions.clear();
    for (const [k, v] of snapshotDefinitions) this.taskDefinitions.set(k, v);
    this.services.clear();
    this.tasks.clear();
    for (const [k, v] of snapshotServices) this.services.set(k, v);
    for (const [k, v] of snapshotTasks) this.tasks.set(k, v);
    return answer;
  }

  private operate(operation: string, input: Record<string, unknown>): Answer {
    switch (operation) {
      case 'ListTasks': {
        const group =
          typeof input.serviceName === 'string' ? `service:${input.serviceName}` : undefined;
        const desired = typeof input.desiredStatus === 'string' ? input.desiredStatus : 'RUNNING';
        const taskArns = [...this.tasks.values()]
          .filter((t) => (!group || t.group === group) && t.desiredStatus === desired)
          .map((t) => t.taskArn);
        return ok({ taskArns });
      }
      case 'DescribeTasks': {
        const wanted = Array.isArray(input.tasks) ? (input.tasks as string[]) : [];
        const found = wanted.map((arn) => this.tasks.get(arn)).filter((t) => t !== undefined);
        return ok({
          tasks: found.map(renderTask),
          failures: wanted
            .filter((arn) => !this.tasks.has(arn))
            .map((arn) => ({ arn, reason: 'MISSING' })),
        });
      }
      case 'StopTask': {
        const task = this.tasks.get(String(input.task));
        if (!task)
          return error(400, 'InvalidParameterException', 'The referenced task was not found.');
        task.desiredStatus = 'STOPPED';
        task.lastStatus = 'DEPROVISIONING';
        return ok({ task: renderTask(task) });
      }
      case 'DescribeServices': {
        const wanted = Array.isArray(input.services) ? (input.services as string[]) : [];
        const withTags = Array.isArray(input.include) && input.include.includes('TAGS');
        const found = wanted.map((name) => this.findService(name)).filter((s) => s !== undefined);
        return ok({
          services: found.map((s) => ({
            serviceArn: s.serviceArn,
            serviceName: s.serviceName,
            clusterArn: s.clusterArn,
            status: s.status ?? 'ACTIVE',
            desiredCount: s.desiredCount,
            runningCount: [...this.tasks.values()].filter(
              (t) => t.group === `service:${s.serviceName}` && t.lastStatus === 'RUNNING',
            ).length,
            networkConfiguration: s.networkConfiguration,
            ...(s.taskDefinition ? { taskDefinition: s.taskDefinition } : {}),
            ...(s.deployments ? { deployments: s.deployments } : {}),
            ...(withTags ? { tags: s.tags ?? [] } : {}),
          })),
          failures: wanted
            .filter((name) => !this.findService(name))
            .map((arn) => ({ arn, reason: 'MISSING' })),
        });
      }
      case 'UpdateService': {
        const service = this.findService(String(input.service));
        if (!service) return error(400, 'ServiceNotFoundException', 'Service not found.');
        if (input.networkConfiguration) {
          service.networkConfiguration = structuredClone(
            input.networkConfiguration as FakeEcsService['networkConfiguration'],
          );
        }
        if (typeof input.desiredCount === 'number') service.desiredCount = input.desiredCount;
        if (typeof input.taskDefinition === 'string') {
          if (!this.taskDefinitions.has(input.taskDefinition)) {
            return error(400, 'ClientException', 'TaskDefinition not found.');
          }
          service.taskDefinition = input.taskDefinition;
          const older = (service.deployments ?? []).map((d) =>
            d.status === 'PRIMARY' ? { ...d, status: 'ACTIVE' } : d,
          );
          service.deployments = [
            {
              id: `ecs-svc/${older.length + 1}`,
              status: 'PRIMARY',
              taskDefinition: input.taskDefinition,
              rolloutState: 'IN_PROGRESS',
            },
            ...older,
          ];
        }
        return ok({
          service: { serviceArn: service.serviceArn, serviceName: service.serviceName },
        });
      }
      case 'DescribeTaskDefinition': {
        // An ARN, or a family alone: its latest ACTIVE revision, as ECS answers.
        const named = String(input.taskDefinition);
        const definition =
          this.taskDefinitions.get(named) ??
          [...this.taskDefinitions.values()]
            .filter((d) => d.family === named && d.status === 'ACTIVE')
            .sort((a, b) => Number(b.revision) - Number(a.revision))[0];
        if (!definition)
          return error(400, 'ClientException', 'Unable to describe task definition.');
        const withTags = Array.isArray(input.include) && input.include.includes('TAGS');
        return ok({
          taskDefinition: definition,
          ...(withTags
            ? { tags: this.taskDefinitionTags.get(String(definition.taskDefinitionArn)) ?? [] }
            : {}),
        });
      }
      case 'RegisterTaskDefinition': {
        const family = String(input.family);
        // The family's next revision number, as ECS counts them.
        const revision =
          Math.max(
            0,
            ...[...this.taskDefinitions.values()]
              .filter((d) => d.family === family)
              .map((d) => Number(d.revision)),
          ) + 1;
        const arn = `arn:aws:ecs:us-east-1:123456789012:task-definition/${family}:${revision}`;
        const definition: Record<string, unknown> = { ...input };
        delete definition.tags;
        if (this.reorderEnvironments && Array.isArray(definition.containerDefinitions)) {
          definition.containerDefinitions = (
            definition.containerDefinitions as { environment?: { name: string }[] }[]
          ).map((c) =>
            c.environment
              ? {
                  ...c,
                  environment: [...c.environment].sort((a, b) => a.name.localeCompare(b.name)),
                }
              : c,
          );
        }
        const registered = {
          ...definition,
          taskDefinitionArn: arn,
          revision,
          status: 'ACTIVE',
        };
        this.taskDefinitions.set(arn, registered);
        if (Array.isArray(input.tags))
          this.taskDefinitionTags.set(arn, structuredClone(input.tags));
        return ok({ taskDefinition: registered, tags: input.tags ?? [] });
      }
      case 'DeregisterTaskDefinition': {
        const definition = this.taskDefinitions.get(String(input.taskDefinition));
        if (!definition)
          return error(400, 'ClientException', 'Unable to describe task definition.');
        definition.status = 'INACTIVE';
        return ok({ taskDefinition: definition });
      }
      default:
        return error(400, 'UnknownOperationException', `${operation} is not faked`);
    }
  }

  private findService(nameOrArn: string): FakeEcsService | undefined {
    return [...this.services.values()].find(
      (s) => s.serviceArn === nameOrArn || s.serviceName === nameOrArn,
    );
  }
}

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

const ok = (body: unknown): Answer => ({ status: 200, body });
const error = (status: number, type: string, message: string): Answer => ({
  status,
  body: { __type: type, message },
});

function renderTask(t: FakeEcsTask) {
  return {
    taskArn: t.taskArn,
    clusterArn: t.clusterArn,
    group: t.group,
    availabilityZone: t.availabilityZone,
    lastStatus: t.lastStatus,
    desiredStatus: t.desiredStatus,
    launchType: 'FARGATE',
    attachments: t.subnetId
      ? [
          {
            id: 'eni-attachment',
            type: 'ElasticNetworkInterface',
            status: 'ATTACHED',
            details: [
              { name: 'subnetId', value: t.subnetId },
              ...(t.privateIp ? [{ name: 'privateIPv4Address', value: t.privateIp }] : []),
            ],
          },
        ]
      : [],
  };
}

/** A service with `count` RUNNING tasks spread over `azs` (one subnet per AZ), for quick setups. */
export function fakeFleet(options: {
  readonly cluster?: string;
  readonly serviceName?: string;
  readonly azs?: readonly string[];
  readonly count?: number;
  readonly tagged?: boolean;
}): { services: FakeEcsService[]; tasks: FakeEcsTask[] } {
  const region = 'us-east-1';
  const account = '123456789012';
  const clusterName = options.cluster ?? 'chaos-cluster';
  const clusterArn = `arn:aws:ecs:${region}:${account}:cluster/${clusterName}`;
  const serviceName = options.serviceName ?? 'api';
  const azs = options.azs ?? [`${region}a`, `${region}b`, `${region}c`];
  const count = options.count ?? 4;
  const subnetOf = (az: string) => `subnet-${az.slice(-1)}`;
  return {
    services: [
      {
        serviceArn: `arn:aws:ecs:${region}:${account}:service/${clusterName}/${serviceName}`,
        serviceName,
        clusterArn,
        desiredCount: count,
        tags: options.tagged === false ? [] : [{ key: 'chaos-enabled', value: 'true' }],
        networkConfiguration: {
          awsvpcConfiguration: {
            subnets: azs.map(subnetOf),
            securityGroups: ['sg-service'],
            assignPublicIp: 'DISABLED',
          },
        },
      },
    ],
    tasks: Array.from({ length: count }, (_, i) => {
      const az = azs[i % azs.length];
      return {
        taskArn: `arn:aws:ecs:${region}:${account}:task/${clusterName}/${(i + 1).toString(16).padStart(32, '0')}`,
        clusterArn,
        group: `service:${serviceName}`,
        availabilityZone: az,
        lastStatus: 'RUNNING',
        desiredStatus: 'RUNNING',
        subnetId: subnetOf(az),
        privateIp: `10.0.0.${i + 1}`,
      };
    }),
  };
}
