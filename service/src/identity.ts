import { hostname } from 'node:os';

import type { ServiceConfig } from './config';

/** Who this task is: shown by /api/whoami and used to match fault targets. */
export interface TaskIdentity {
  readonly region: string;
  readonly availabilityZone: string;
  /** The short ECS task id (last segment of the ARN), TASK_ID locally, or the hostname. */
  readonly taskId: string;
  readonly taskArn?: string;
  readonly version: string;
}

type IdentityLog = { warn(obj: object, msg: string): void };

/** The ids a fault document may target this task by. */
export function faultTargetIds(identity: TaskIdentity): string[] {
  return identity.taskArn ? [identity.taskArn, identity.taskId] : [identity.taskId];
}

interface TaskMetadata {
  readonly TaskARN?: unknown;
  readonly AvailabilityZone?: unknown;
}

/**
 * In ECS the task ARN and AZ come from the task metadata endpoint v4 (`$ECS_CONTAINER_METADATA_URI_V4/task`);
 * locally from TASK_ID and AVAILABILITY_ZONE. If the endpoint does not answer, the task still
 * starts, under its hostname, and says so in the log: fault targets by task id will not match it.
 */
export async function resolveIdentity(
  config: ServiceConfig,
  log: IdentityLog,
  timeoutMs = 1000,
): Promise<TaskIdentity> {
  const local: TaskIdentity = {
    region: config.region,
    availabilityZone: config.availabilityZone ?? 'unknown',
    taskId: config.taskId ?? hostname(),
    version: config.serviceVersion,
  };
  if (!config.ecsMetadataUri) return local;

  for (let attempt = 1; attempt <= 3; attempt += 1) {
    try {
      const response = await fetch(`${config.ecsMetadataUri}/task`, {
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!response.ok) throw new Error(`status ${response.status}`);
      const metadata = (await response.json()) as TaskMetadata;
      if (typeof metadata.TaskARN !== 'string' || metadata.TaskARN === '') {
        throw new Error('no TaskARN in the task metadata');
      }
      return {
        ...local,
        taskArn: metadata.TaskARN,
        taskId: metadata.TaskARN.split('/').pop() ?? metadata.TaskARN,
        availabilityZone:
          typeof metadata.AvailabilityZone === 'string' && metadata.AvailabilityZone !== ''
            ? metadata.AvailabilityZone
            : local.availabilityZone,
      };
    } catch (error) {
      log.warn(
        { attempt, err: error instanceof Error ? error.message : String(error) },
        'cannot read the ECS task metadata',
      );
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
  log.warn({ taskId: local.taskId }, 'running without ECS task metadata; using the local task id');
  return local;
}
