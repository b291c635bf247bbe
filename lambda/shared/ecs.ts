/**
 * The ECS reads and writes the chaos functions make. Writes that come back UNKNOWN (StopTask and
 * UpdateService, see `ecs-api.ts`) are followed by a read that learns what really happened; they are
 * never repeated.
 */
import type { AwsVpcConfiguration, Task } from '@aws-sdk/client-ecs';

import type { Audit } from './audit';
import type { EcsCalls, Wire } from './ecs-api';
import { GuardrailRefusal, OutcomeUnknownError } from './errors';

export const CHAOS_TAG_KEY = 'chaos-enabled';
export const CHAOS_TAG_VALUE = 'true';

export interface ServiceInfo {
  readonly serviceArn: string;
  readonly serviceName: string;
  readonly desiredCount: number;
  readonly tags: Readonly<Record<string, string>>;
  /** Absent when the service does not use awsvpc networking. */
  readonly awsvpcConfiguration?: AwsVpcConfiguration;
}

export interface TaskInfo {
  readonly taskArn: string;
  /** The last segment of the task ARN: what the fault document's `targets` name. */
  readonly taskId: string;
  readonly availabilityZone?: string;
  readonly subnetId?: string;
  /** The task's ENI address: its target id in an IP target group. */
  readonly privateIpv4Address?: string;
  readonly lastStatus?: string;
  readonly desiredStatus?: string;
}

export const taskIdOf = (taskArn: string): string => taskArn.slice(taskArn.lastIndexOf('/') + 1);

export async function describeService(
  ecs: EcsCalls,
  cluster: string,
  service: string,
): Promise<ServiceInfo> {
  const out = await ecs.call('DescribeServices', {
    cluster,
    services: [service],
    include: ['TAGS'],
  });
  const found = out.services?.[0];
  if (!found?.serviceArn || !found.serviceName || found.status !== 'ACTIVE') {
    throw new GuardrailRefusal(
      'no-target',
      `service ${service} is not an ACTIVE service of cluster ${cluster}` +
        (out.failures?.[0]?.reason ? ` (${out.failures[0].reason})` : ''),
    );
  }
  return {
    serviceArn: found.serviceArn,
    serviceName: found.serviceName,
    desiredCount: found.desiredCount ?? 0,
    tags: Object.fromEntries((found.tags ?? []).map((t) => [t.key ?? '', t.value ?? ''])),
    awsvpcConfiguration: found.networkConfiguration?.awsvpcConfiguration,
  };
}

/** Refuses unless the service carries `chaos-enabled=true`. */
export function assertOptedIn(service: ServiceInfo): void {
  if (service.tags[CHAOS_TAG_KEY] !== CHAOS_TAG_VALUE) {
    throw new GuardrailRefusal(
      'not-opted-in',
      `service ${service.serviceName} is not tagged ${CHAOS_TAG_KEY}=${CHAOS_TAG_VALUE}; ` +
        'tag it to allow chaos experiments',
    );
  }
}

/** The service's tasks that are meant to run (ListTasks with desiredStatus RUNNING), described. */
export async function listServiceTasks(
  ecs: EcsCalls,
  cluster: string,
  serviceName: string,
): Promise<TaskInfo[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ecs.call('ListTasks', {
      cluster,
      serviceName,
      desiredStatus: 'RUNNING',
      ...(nextToken ? { nextToken } : {}),
    });
    arns.push(...(page.taskArns ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return describeTasks(ecs, cluster, arns);
}

export async function describeTasks(
  ecs: EcsCalls,
  cluster: string,
  taskArns: readonly string[],
): Promise<TaskInfo[]> {
  const tasks: TaskInfo[] = [];
  for (let i = 0; i < taskArns.length; i += 100) {
    const out = await ecs.call('DescribeTasks', { cluster, tasks: taskArns.slice(i, i + 100) });
    tasks.push(...(out.tasks ?? []).filter((t) => t.taskArn).map(toTaskInfo));
  }
  return tasks;
}

function toTaskInfo(task: Wire<Task>): TaskInfo {
  const taskArn = task.taskArn ?? '';
  const eni = task.attachments?.find((a) => a.type === 'ElasticNetworkInterface');
  return {
    taskArn,
    taskId: taskIdOf(taskArn),
    availabilityZone: task.availabilityZone,
    subnetId: eni?.details?.find((d) => d.name === 'subnetId')?.value,
    privateIpv4Address: eni?.details?.find((d) => d.name === 'privateIPv4Address')?.value,
    lastStatus: task.lastStatus,
    desiredStatus: task.desiredStatus,
  };
}

/**
 * How one write ended. `unknown` means even the follow-up read failed; `verified-*` means the
 * write came back UNKNOWN and the read learned the real state.
 */
export type WriteOutcome = 'done' | 'verified-done' | 'verified-not-done' | 'unknown';

export interface StopOutcome {
  readonly taskId: string;
  readonly outcome: WriteOutcome;
}

export interface AuditScope {
  readonly audit: Audit;
  readonly experimentId: string;
}

/**
 * Stops each task once. A StopTask that comes back UNKNOWN is not repeated; once all are sent, one
 * DescribeTasks learns whether the unknown ones are stopping (desiredStatus STOPPED).
 */
export async function stopTasks(
  ecs: EcsCalls,
  cluster: string,
  tasks: readonly TaskInfo[],
  reason: string,
  scope: AuditScope,
): Promise<StopOutcome[]> {
  const results = new Map<string, WriteOutcome>();
  const unknown: TaskInfo[] = [];
  for (const task of tasks) {
    try {
      await ecs.call('StopTask', { cluster, task: task.taskArn, reason });
      results.set(task.taskId, 'done');
      auditStop(scope, task, 'done');
    } catch (error) {
      if (!(error instanceof OutcomeUnknownError)) throw error;
      unknown.push(task);
      auditStop(scope, task, 'unknown', error.reason);
    }
  }
  if (unknown.length > 0) {
    const learned = await readBack(() =>
      describeTasks(
        ecs,
        cluster,
        unknown.map((t) => t.taskArn),
      ),
    );
    for (const task of unknown) {
      const seen = learned?.find((t) => t.taskArn === task.taskArn);
      const outcome: WriteOutcome =
        learned === undefined
          ? 'unknown'
          : seen === undefined || seen.desiredStatus === 'STOPPED'
            ? 'verified-done' // a task that is gone or stopping has been stopped
            : 'verified-not-done';
      results.set(task.taskId, outcome);
      auditStop(scope, task, outcome);
    }
  }
  return tasks.map((t) => ({ taskId: t.taskId, outcome: results.get(t.taskId) ?? 'unknown' }));
}

function auditStop(scope: AuditScope, task: TaskInfo, outcome: WriteOutcome, detail?: string) {
  scope.audit.record({
    experimentId: scope.experimentId,
    action: 'stop-task',
    target: task.taskId,
    outcome,
    ...(detail ? { detail } : {}),
  });
}

/**
 * Sets the service's awsvpc configuration. On UNKNOWN, DescribeServices learns whether the service
 * now has the wanted subnets, security groups and public-IP setting.
 */
export async function updateServiceNetwork(
  ecs: EcsCalls,
  cluster: string,
  service: string,
  wanted: AwsVpcConfiguration,
  scope: AuditScope,
): Promise<WriteOutcome> {
  try {
    await ecs.call('UpdateService', {
      cluster,
      service,
      networkConfiguration: { awsvpcConfiguration: wanted },
    });
    scope.audit.record({
      experimentId: scope.experimentId,
      action: 'update-service-network',
      target: service,
      outcome: 'done',
      detail: `subnets ${(wanted.subnets ?? []).join(',')}`,
    });
    return 'done';
  } catch (error) {
    if (!(error instanceof OutcomeUnknownError)) throw error;
    scope.audit.record({
      experimentId: scope.experimentId,
      action: 'update-service-network',
      target: service,
      outcome: 'unknown',
      detail: error.reason,
    });
  }
  const now = await readBack(() => describeService(ecs, cluster, service));
  const outcome: WriteOutcome =
    now === undefined
      ? 'unknown'
      : sameNetwork(now.awsvpcConfiguration, wanted)
        ? 'verified-done'
        : 'verified-not-done';
  scope.audit.record({
    experimentId: scope.experimentId,
    action: 'update-service-network',
    target: service,
    outcome,
  });
  return outcome;
}

/** Equal as configurations: subnet and security group order does not matter. */
export function sameNetwork(
  a: AwsVpcConfiguration | undefined,
  b: AwsVpcConfiguration | undefined,
): boolean {
  if (a === undefined || b === undefined) return a === b;
  const set = (xs: string[] | undefined) => [...(xs ?? [])].sort().join(',');
  return (
    set(a.subnets) === set(b.subnets) &&
    set(a.securityGroups) === set(b.securityGroups) &&
    (a.assignPublicIp ?? 'DISABLED') === (b.assignPublicIp ?? 'DISABLED')
  );
}

/** The read after an UNKNOWN write. If it fails too, the outcome stays unknown. */
async function readBack<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch {
    // Recorded as `unknown` by the caller: the operator must look before acting again.
    return undefined;
  }
}
