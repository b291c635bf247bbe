/**
 * The AWS "bad deploy" game day's ECS side, as typed steps with the ECS client passed in:
 * - `stageBadRevision`: copies the service's current task definition with REVISION_FAULTS set on the
 *   service container (the empty-response fault, bypassGuard: empty 200s leave the task), registers
 *   it and deploys it with UpdateService. The deploy gate (lambda/deploy-gate) must refuse it at
 *   POST_TEST_TRAFFIC_SHIFT, and ECS roll back.
 * - `deploymentOutcome`: what became of that deployment: refused and rolled back, still running,
 *   or (the gate failed) serving production.
 * - `restoreRevision`: puts the previous task definition back whatever happened, and deregisters the
 *   bad one. Idempotent: run it on every exit, as often as needed.
 */
import { randomUUID } from 'node:crypto';

import type {
  ContainerDefinition,
  RegisterTaskDefinitionRequest,
  Service,
  TaskDefinition,
} from '@aws-sdk/client-ecs';

import type { EcsApi, Wire } from '../shared/ecs-api';
import { OutcomeUnknownError } from '../shared/errors';

/** Tags the bad revision carries, so that anyone can see where it came from and why. */
export const BAD_REVISION_TAG = { key: 'blueprint:gameday', value: 'bad-deploy' } as const;
/**
 * The bad revision also names the revision it replaced, so a restore with no state at all (an
 * execution that ended abnormally) still knows where to go back to.
 */
export const PREVIOUS_REVISION_TAG_KEY = 'blueprint:previous-task-definition';
/**
 * And the staging that registered it, a new id each time: after a lost RegisterTaskDefinition
 * answer, the one tag that tells this staging's revision from any other (ECS does not keep a
 * container's environment in the order it was given, so comparing contents would not).
 */
export const STAGING_TAG_KEY = 'blueprint:bad-deploy-staging';

export interface StageOptions {
  /** The staging's id (the STAGING_TAG_KEY tag). @default - a random UUID */
  readonly stagingId?: string;
  /**
   * Waits between reads that look for the revision after a lost RegisterTaskDefinition answer
   * (ECS's reads are eventually consistent). @default [500, 1000, 2000]
   */
  readonly settleDelaysMs?: readonly number[];
  readonly sleep?: (ms: number) => Promise<void>;
}

export class BadDeployError extends Error {
  override readonly name = 'BadDeployError';
}

export interface BadDeployTarget {
  readonly cluster: string;
  readonly service: string;
  /** The container that serves the API (its environment gets REVISION_FAULTS). */
  readonly containerName: string;
}

export interface StagedRevision {
  readonly previousTaskDefinition: string;
  readonly badTaskDefinition: string;
}

async function describeService(ecs: EcsApi, target: Omit<BadDeployTarget, 'containerName'>) {
  const answer = await ecs.call('DescribeServices', {
    cluster: target.cluster,
    services: [target.service],
  });
  const service: Wire<Service> | undefined = answer.services?.[0];
  if (!service?.taskDefinition) {
    throw new BadDeployError(
      `service ${target.service} not found in cluster ${target.cluster} (or it has no task definition)`,
    );
  }
  return service;
}

/** The register input that copies `definition`, with `environment` added to one container. */
export function badRevisionInput(
  definition: Wire<TaskDefinition>,
  containerName: string,
  revisionFaults: string,
  stagingId: string,
): Wire<RegisterTaskDefinitionRequest> {
  const previous = definition.taskDefinitionArn ?? '';
  const containers = definition.containerDefinitions ?? [];
  if (!containers.some((container) => container.name === containerName)) {
    throw new BadDeployError(
      `task definition ${definition.taskDefinitionArn} has no container ${containerName}; it has ${containers.map((c) => c.name).join(', ')}`,
    );
  }
  const containerDefinitions: Wire<ContainerDefinition>[] = containers.map((container) =>
    container.name !== containerName
      ? container
      : {
          ...container,
          environment: [
            ...(container.environment ?? []).filter((e) => e.name !== 'REVISION_FAULTS'),
            { name: 'REVISION_FAULTS', value: revisionFaults },
          ],
        },
  );
  // Only what RegisterTaskDefinition takes: the describe-only fields (ARN, revision, status,
  // requiresAttributes, compatibilities, registeredAt/By) are left out.
  return {
    family: definition.family,
    taskRoleArn: definition.taskRoleArn,
    executionRoleArn: definition.executionRoleArn,
    networkMode: definition.networkMode,
    containerDefinitions,
    volumes: definition.volumes,
    placementConstraints: definition.placementConstraints,
    requiresCompatibilities: definition.requiresCompatibilities,
    cpu: definition.cpu,
    memory: definition.memory,
    pidMode: definition.pidMode,
    ipcMode: definition.ipcMode,
    proxyConfiguration: definition.proxyConfiguration,
    runtimePlatform: definition.runtimePlatform,
    ephemeralStorage: definition.ephemeralStorage,
    enableFaultInjection: definition.enableFaultInjection,
    tags: [
      BAD_REVISION_TAG,
      { key: PREVIOUS_REVISION_TAG_KEY, value: previous },
      { key: STAGING_TAG_KEY, value: stagingId },
    ],
  };
}

/** Registers a copy of the running revision that answers empty 200s, and deploys it. */
export async function stageBadRevision(
  ecs: EcsApi,
  target: BadDeployTarget,
  expiresAt: Date,
  options: StageOptions = {},
): Promise<StagedRevision> {
  const service = await describeService(ecs, target);
  const inFlight = (service.deployments ?? []).filter((d) => d.rolloutState === 'IN_PROGRESS');
  if (inFlight.length > 0) {
    throw new BadDeployError(
      `service ${target.service} has a deployment in progress (${inFlight.map((d) => d.id).join(', ')}); wait until it completes`,
    );
  }
  const previousTaskDefinition = service.taskDefinition as string;
  const described = await ecs.call('DescribeTaskDefinition', {
    taskDefinition: previousTaskDefinition,
  });
  if (!described.taskDefinition) {
    throw new BadDeployError(`task definition ${previousTaskDefinition} could not be described`);
  }
  const revisionFaults = JSON.stringify({
    faults: [
      {
        type: 'empty-response',
        targets: ['*'],
        expiresAt: expiresAt.toISOString(),
        params: { ratio: 1, bypassGuard: true },
      },
    ],
  });
  const stagingId = options.stagingId ?? randomUUID();
  const input = badRevisionInput(
    described.taskDefinition,
    target.containerName,
    revisionFaults,
    stagingId,
  );
  const badTaskDefinition = await registerOnce(ecs, input, stagingId, options);
  await ecs.call('UpdateService', {
    cluster: target.cluster,
    service: target.service,
    taskDefinition: badTaskDefinition,
  });
  return { previousTaskDefinition, badTaskDefinition };
}

/**
 * Registers the bad revision and answers its ARN. A lost answer (OutcomeUnknownError) is settled by
 * reads, never by registering again (which would leave a second bad revision behind): the family's
 * latest revision is ours when it carries this staging's id. ECS's reads are eventually consistent,
 * so the family is read again a few times before the revision counts as not registered; then, or
 * when the reads fail, the OutcomeUnknownError stands.
 */
async function registerOnce(
  ecs: EcsApi,
  input: Wire<RegisterTaskDefinitionRequest>,
  stagingId: string,
  options: StageOptions,
): Promise<string> {
  try {
    const registered = await ecs.call('RegisterTaskDefinition', input);
    const arn = registered.taskDefinition?.taskDefinitionArn;
    if (!arn) throw new BadDeployError('RegisterTaskDefinition returned no ARN');
    return arn;
  } catch (error) {
    if (!(error instanceof OutcomeUnknownError)) throw error;
    const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
    const delays = options.settleDelaysMs ?? [500, 1000, 2000];
    for (let read = 0; read <= delays.length; read++) {
      if (read > 0) await sleep(delays[read - 1]);
      const latest = await ecs
        .call('DescribeTaskDefinition', { taskDefinition: input.family, include: ['TAGS'] })
        .catch(() => undefined);
      if (latest === undefined) throw error;
      const arn = latest.taskDefinition?.taskDefinitionArn;
      const ours = (latest.tags ?? []).some(
        (t) => t.key === STAGING_TAG_KEY && t.value === stagingId,
      );
      if (ours && arn) return arn;
    }
    throw error;
  }
}

/**
 * - `refused`: the bad revision's deployment FAILED (the gate answered FAILED) and the service runs
 *   the previous revision again;
 * - `in-progress`: ECS is still deploying or rolling back;
 * - `deployed`: the bad revision completed and serves production: the gate did not catch it.
 */
export type DeploymentOutcome = 'refused' | 'in-progress' | 'deployed';

export async function deploymentOutcome(
  ecs: EcsApi,
  target: Omit<BadDeployTarget, 'containerName'>,
  staged: StagedRevision,
): Promise<{ readonly outcome: DeploymentOutcome; readonly reason?: string }> {
  const service = await describeService(ecs, target);
  const deployments = service.deployments ?? [];
  const bad = deployments.find((d) => d.taskDefinition === staged.badTaskDefinition);
  const primary = deployments.find((d) => d.status === 'PRIMARY');
  if (bad?.rolloutState === 'COMPLETED' && bad.status === 'PRIMARY') {
    return { outcome: 'deployed', reason: bad.rolloutStateReason };
  }
  const rolledBack =
    service.taskDefinition === staged.previousTaskDefinition &&
    primary?.rolloutState !== 'IN_PROGRESS';
  if ((bad === undefined || bad.rolloutState === 'FAILED') && rolledBack) {
    return { outcome: 'refused', reason: bad?.rolloutStateReason };
  }
  return { outcome: 'in-progress', reason: bad?.rolloutStateReason };
}

/**
 * The restore with no state: when the service runs a revision tagged as a bad-deploy revision, the
 * revision it names as previous, and itself; undefined when the service runs no such revision.
 */
export async function findStagedRevision(
  ecs: EcsApi,
  target: Omit<BadDeployTarget, 'containerName'>,
): Promise<StagedRevision | undefined> {
  const service = await describeService(ecs, target);
  const current = service.taskDefinition as string;
  const described = await ecs.call('DescribeTaskDefinition', {
    taskDefinition: current,
    include: ['TAGS'],
  });
  const tags = described.tags ?? [];
  const isBad = tags.some(
    (t) => t.key === BAD_REVISION_TAG.key && t.value === BAD_REVISION_TAG.value,
  );
  const previous = tags.find((t) => t.key === PREVIOUS_REVISION_TAG_KEY)?.value;
  if (!isBad || !previous) return undefined;
  return { previousTaskDefinition: previous, badTaskDefinition: current };
}

/**
 * Puts the previous revision back (unless the service already runs it) and deregisters the bad
 * one. Safe to repeat, and to run when staging failed half way.
 */
export async function restoreRevision(
  ecs: EcsApi,
  target: Omit<BadDeployTarget, 'containerName'>,
  staged: Partial<StagedRevision> & Pick<StagedRevision, 'previousTaskDefinition'>,
): Promise<{ readonly rolledBack: boolean; readonly deregistered: boolean }> {
  const service = await describeService(ecs, target);
  let rolledBack = false;
  if (service.taskDefinition !== staged.previousTaskDefinition) {
    await ecs.call('UpdateService', {
      cluster: target.cluster,
      service: target.service,
      taskDefinition: staged.previousTaskDefinition,
    });
    rolledBack = true;
  }
  let deregistered = false;
  if (staged.badTaskDefinition) {
    const described = await ecs.call('DescribeTaskDefinition', {
      taskDefinition: staged.badTaskDefinition,
    });
    if (described.taskDefinition?.status === 'ACTIVE') {
      await ecs.call('DeregisterTaskDefinition', { taskDefinition: staged.badTaskDefinition });
      deregistered = true;
    }
  }
  return { rolledBack, deregistered };
}
