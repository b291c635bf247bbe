/**
 * The AWS bad-deploy steps against a local ECS endpoint (test/support/fake-ecs.ts) with the
 * function's own ECS client (lambda/shared/ecs-api.ts): stage a copy of the running revision that
 * answers empty 200s, tell what became of its deployment, and restore the previous revision on
 * every exit, also after a lost answer.
 */
import type { TaskDefinition } from '@aws-sdk/client-ecs';

import {
  BadDeployError,
  badRevisionInput,
  findStagedRevision,
  deploymentOutcome,
  restoreRevision,
  stageBadRevision,
} from '../../lambda/bad-deploy/bad-deploy';
import { loadBadDeployEnv, parseBadDeployEvent } from '../../lambda/bad-deploy/event';
import { handler } from '../../lambda/bad-deploy/index';
import { EcsApi, type Wire } from '../../lambda/shared/ecs-api';
import { OutcomeUnknownError } from '../../lambda/shared/errors';
import { parseFaultDocument } from '../../service/src/faults/fault-document';
import { FakeEcs } from '../support/fake-ecs';

import { fakeContext } from './helpers';

const CLUSTER = 'arn:aws:ecs:us-east-1:123456789012:cluster/blueprint';
const SERVICE = 'arn:aws:ecs:us-east-1:123456789012:service/blueprint/api';
const CURRENT = 'arn:aws:ecs:us-east-1:123456789012:task-definition/api:7';
const target = { cluster: CLUSTER, service: SERVICE, containerName: 'api' };

let fake: FakeEcs;
let ecs: EcsApi;

beforeEach(async () => {
  fake = await FakeEcs.start({
    services: [
      {
        serviceArn: SERVICE,
        serviceName: 'api',
        clusterArn: CLUSTER,
        desiredCount: 3,
        taskDefinition: CURRENT,
        deployments: [
          {
            id: 'ecs-svc/1',
            status: 'PRIMARY',
            taskDefinition: CURRENT,
            rolloutState: 'COMPLETED',
          },
        ],
      },
    ],
    tasks: [],
  });
  fake.taskDefinitions.set(CURRENT, {
    taskDefinitionArn: CURRENT,
    family: 'api',
    revision: 7,
    status: 'ACTIVE',
    taskRoleArn: 'arn:aws:iam::123456789012:role/api-task',
    executionRoleArn: 'arn:aws:iam::123456789012:role/api-execution',
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    cpu: '512',
    memory: '1024',
    containerDefinitions: [
      { name: 'api', image: 'api:1', environment: [{ name: 'TABLE_NAME', value: 'items' }] },
      { name: 'log-router', image: 'fluent-bit:1' },
    ],
  });
  ecs = new EcsApi({
    endpoint: fake.endpoint,
    region: 'us-east-1',
    requestTimeoutMs: 500,
    credentials: () => Promise.resolve({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }),
    sleep: () => Promise.resolve(),
  });
});

afterEach(async () => {
  await fake.close();
});

/** The staging id a RegisterTaskDefinition input carried as its tag. */
function stagingIdOf(input: Record<string, unknown> | undefined): string | undefined {
  const tags = (input?.tags ?? []) as { key: string; value: string }[];
  return tags.find((t) => t.key === 'blueprint:bad-deploy-staging')?.value;
}

/** What ECS does when the lifecycle hook answers FAILED: the deployment fails and rolls back. */
function ecsRollsBack(reason: string): void {
  const service = fake.services.get(SERVICE);
  if (!service?.deployments) throw new Error('no deployments');
  service.deployments = service.deployments.map((d) =>
    d.status === 'PRIMARY'
      ? { ...d, status: 'INACTIVE', rolloutState: 'FAILED', rolloutStateReason: reason }
      : { ...d, status: 'PRIMARY' },
  );
  service.taskDefinition = CURRENT;
}

test('GIVEN a service at revision 7 WHEN the bad revision is staged THEN a copy with REVISION_FAULTS on the api container only is registered, tagged, and deployed', async () => {
  const staged = await stageBadRevision(ecs, target, new Date('2030-01-01T00:00:00Z'));

  expect(staged.previousTaskDefinition).toBe(CURRENT);
  const registered = fake.taskDefinitions.get(staged.badTaskDefinition) as {
    containerDefinitions: { name: string; environment?: { name: string; value: string }[] }[];
    taskRoleArn: string;
    executionRoleArn: string;
  };
  const [api, logRouter] = registered.containerDefinitions;
  expect(api.environment?.[0]).toEqual({ name: 'TABLE_NAME', value: 'items' });
  const revisionFaults = api.environment?.find((e) => e.name === 'REVISION_FAULTS')?.value ?? '';
  // The service parses exactly this at start.
  expect(parseFaultDocument(revisionFaults)).toMatchObject([
    { type: 'empty-response', targets: ['*'], params: { ratio: 1, bypassGuard: true } },
  ]);
  expect(logRouter.environment).toBeUndefined();
  expect(registered.taskRoleArn).toBe('arn:aws:iam::123456789012:role/api-task');
  const register = fake.calls.find((c) => c.operation === 'RegisterTaskDefinition');
  expect(register?.input.tags).toEqual([
    { key: 'blueprint:gameday', value: 'bad-deploy' },
    { key: 'blueprint:previous-task-definition', value: CURRENT },
    { key: 'blueprint:bad-deploy-staging', value: stagingIdOf(register?.input) },
  ]);
  expect(stagingIdOf(register?.input)).toMatch(/^[0-9a-f-]{36}$/);
  expect(fake.services.get(SERVICE)?.taskDefinition).toBe(staged.badTaskDefinition);
});

test('GIVEN the gate refused the bad revision and ECS rolled back THEN the outcome is refused, and restore only deregisters the bad revision', async () => {
  const staged = await stageBadRevision(ecs, target, new Date('2030-01-01T00:00:00Z'));
  expect((await deploymentOutcome(ecs, target, staged)).outcome).toBe('in-progress');

  ecsRollsBack('lifecycle hook deploy-gate returned FAILED');

  expect(await deploymentOutcome(ecs, target, staged)).toEqual({
    outcome: 'refused',
    reason: 'lifecycle hook deploy-gate returned FAILED',
  });
  expect(await restoreRevision(ecs, target, staged)).toEqual({
    rolledBack: false,
    deregistered: true,
  });
  expect(fake.taskDefinitions.get(staged.badTaskDefinition)?.status).toBe('INACTIVE');
});

test('gate failed: GIVEN the bad revision completed THEN the outcome is deployed, and restore puts revision 7 back', async () => {
  const staged = await stageBadRevision(ecs, target, new Date('2030-01-01T00:00:00Z'));
  const service = fake.services.get(SERVICE);
  if (service?.deployments) service.deployments[0].rolloutState = 'COMPLETED';

  expect((await deploymentOutcome(ecs, target, staged)).outcome).toBe('deployed');
  expect(await restoreRevision(ecs, target, staged)).toEqual({
    rolledBack: true,
    deregistered: true,
  });
  expect(fake.services.get(SERVICE)?.taskDefinition).toBe(CURRENT);
});

test('lost UpdateService answer: GIVEN the deploy landed but its answer was lost THEN staging fails, and restore (run on every exit) still rolls back to revision 7, twice in a row without harm', async () => {
  fake.inject('UpdateService', { kind: 'slow', delayMs: 2000, applied: true });

  await expect(stageBadRevision(ecs, target, new Date('2030-01-01T00:00:00Z'))).rejects.toThrow();
  expect(fake.services.get(SERVICE)?.taskDefinition).not.toBe(CURRENT);

  const first = await restoreRevision(ecs, target, { previousTaskDefinition: CURRENT });
  const again = await restoreRevision(ecs, target, { previousTaskDefinition: CURRENT });

  expect(first.rolledBack).toBe(true);
  expect(again).toEqual({ rolledBack: false, deregistered: false });
  expect(fake.services.get(SERVICE)?.taskDefinition).toBe(CURRENT);
});

/** No waits between the reads that settle a lost RegisterTaskDefinition answer. */
const settleAtOnce = { settleDelaysMs: [0, 0, 0], sleep: () => Promise.resolve() };

test('lost RegisterTaskDefinition answer: GIVEN the bad revision was registered but its answer was lost THEN it is found by a read, not registered again, deployed, and restore deregisters it', async () => {
  // GIVEN
  fake.inject('RegisterTaskDefinition', { kind: 'slow', delayMs: 2000, applied: true });

  // WHEN
  const staged = await stageBadRevision(
    ecs,
    target,
    new Date('2030-01-01T00:00:00Z'),
    settleAtOnce,
  );

  // THEN one revision registered, and it is the one deployed
  expect(fake.calls.filter((c) => c.operation === 'RegisterTaskDefinition')).toHaveLength(1);
  expect(staged).toEqual({
    previousTaskDefinition: CURRENT,
    badTaskDefinition: 'arn:aws:ecs:us-east-1:123456789012:task-definition/api:8',
  });
  expect(fake.services.get(SERVICE)?.taskDefinition).toBe(staged.badTaskDefinition);
  expect(await restoreRevision(ecs, target, staged)).toEqual({
    rolledBack: true,
    deregistered: true,
  });
  expect(fake.taskDefinitions.get(staged.badTaskDefinition)?.status).toBe('INACTIVE');
});

test('lost RegisterTaskDefinition answer, environment reordered: GIVEN ECS stored the containers environment in another order THEN the revision is still found by its staging id', async () => {
  // GIVEN ECS keeps environments sorted by name, not as given
  fake.reorderEnvironments = true;
  fake.inject('RegisterTaskDefinition', { kind: 'slow', delayMs: 2000, applied: true });

  // WHEN
  const staged = await stageBadRevision(ecs, target, new Date('2030-01-01T00:00:00Z'), {
    ...settleAtOnce,
    stagingId: 'staging-1',
  });

  // THEN
  expect(staged.badTaskDefinition).toBe('arn:aws:ecs:us-east-1:123456789012:task-definition/api:8');
  const stored = fake.taskDefinitions.get(staged.badTaskDefinition) as {
    containerDefinitions: { environment?: { name: string }[] }[];
  };
  expect(stored.containerDefinitions[0].environment?.map((e) => e.name)).toEqual([
    'REVISION_FAULTS',
    'TABLE_NAME',
  ]);
});

test('lost RegisterTaskDefinition request: GIVEN it timed out and was never registered THEN the family is read again while ECS may lag, staging fails UNKNOWN, nothing is registered or deployed', async () => {
  // GIVEN
  fake.inject('RegisterTaskDefinition', { kind: 'slow', delayMs: 2000, applied: false });

  // WHEN / THEN
  await expect(
    stageBadRevision(ecs, target, new Date('2030-01-01T00:00:00Z'), settleAtOnce),
  ).rejects.toBeInstanceOf(OutcomeUnknownError);
  expect(fake.calls.filter((c) => c.operation === 'RegisterTaskDefinition')).toHaveLength(1);
  const familyReads = fake.calls.filter(
    (c) => c.operation === 'DescribeTaskDefinition' && c.input.taskDefinition === 'api',
  );
  expect(familyReads).toHaveLength(4);
  expect([...fake.taskDefinitions.keys()]).toEqual([CURRENT]);
  expect(fake.calls.map((c) => c.operation)).not.toContain('UpdateService');
});

test("lost RegisterTaskDefinition request, another staging's revision latest: GIVEN the family's latest revision has another staging id THEN it is not adopted, and staging fails UNKNOWN", async () => {
  // GIVEN an earlier staging's bad revision as the family's latest, and this run's register never
  // landing
  const earlier = badRevisionInput(
    fake.taskDefinitions.get(CURRENT) as Wire<TaskDefinition>,
    'api',
    '{"faults":[]}',
    'earlier-staging',
  );
  await ecs.call('RegisterTaskDefinition', earlier);
  fake.inject('RegisterTaskDefinition', { kind: 'slow', delayMs: 2000, applied: false });

  // WHEN / THEN
  await expect(
    stageBadRevision(ecs, target, new Date('2030-01-01T00:00:00Z'), settleAtOnce),
  ).rejects.toBeInstanceOf(OutcomeUnknownError);
  expect(fake.calls.map((c) => c.operation)).not.toContain('UpdateService');
});

test('lost RegisterTaskDefinition answer, and the reads fail too: THEN the UNKNOWN stands (not the read error), and nothing is deployed', async () => {
  // GIVEN the register's answer lost, then every DescribeTaskDefinition failing with a 500
  fake.inject('RegisterTaskDefinition', { kind: 'slow', delayMs: 2000, applied: true });
  const describeCalls = fake.calls.length;
  fake.inject(
    'DescribeTaskDefinition',
    { kind: 'pass' },
    ...Array.from({ length: 4 }, () => ({ kind: 'server-error' as const })),
  );

  // WHEN / THEN
  await expect(
    stageBadRevision(ecs, target, new Date('2030-01-01T00:00:00Z'), settleAtOnce),
  ).rejects.toMatchObject({ name: 'OutcomeUnknownError', operation: 'RegisterTaskDefinition' });
  expect(fake.calls.length).toBeGreaterThan(describeCalls);
  expect(fake.calls.map((c) => c.operation)).not.toContain('UpdateService');
});

test('restore with no state: GIVEN the bad revision serves (the execution died before its restore) THEN its tags name the previous revision and restore puts it back', async () => {
  const staged = await stageBadRevision(ecs, target, new Date('2030-01-01T00:00:00Z'));

  const found = await findStagedRevision(ecs, target);

  expect(found).toEqual(staged);
  await restoreRevision(ecs, target, found ?? { previousTaskDefinition: 'none' });
  expect(fake.services.get(SERVICE)?.taskDefinition).toBe(CURRENT);
  // Once back on revision 7 there is nothing more to find.
  expect(await findStagedRevision(ecs, target)).toBeUndefined();
});

test('a deployment already in progress is refused before anything is registered', async () => {
  const service = fake.services.get(SERVICE);
  if (service?.deployments) service.deployments[0].rolloutState = 'IN_PROGRESS';

  await expect(stageBadRevision(ecs, target, new Date())).rejects.toThrow(
    new BadDeployError(
      `service ${SERVICE} has a deployment in progress (ecs-svc/1); wait until it completes`,
    ),
  );
  expect(fake.calls.map((c) => c.operation)).toEqual(['DescribeServices']);
});

test('a container name the task definition lacks is named with the containers it has', async () => {
  await expect(
    stageBadRevision(ecs, { ...target, containerName: 'web' }, new Date()),
  ).rejects.toThrow(`task definition ${CURRENT} has no container web; it has api, log-router`);
  expect(fake.calls.map((c) => c.operation)).not.toContain('RegisterTaskDefinition');
});

describe('the bad-deploy event and environment', () => {
  test('observe without the ARNs stage answered is refused, naming both', () => {
    expect(() => parseBadDeployEvent({ action: 'observe' })).toThrow(
      'Invalid event: previousTaskDefinition is required for observe: the ARN stage answered; badTaskDefinition is required for observe: the ARN stage answered',
    );
  });

  test('an unknown action and a malformed ARN are named with what is allowed', () => {
    expect(() =>
      parseBadDeployEvent({ action: 'deploy', previousTaskDefinition: 'api:7' }),
    ).toThrow(
      'Invalid event: action must be one of stage, observe, restore, got "deploy"; previousTaskDefinition must be a task definition ARN',
    );
  });

  test('restore may come with no state at all (an execution that ended abnormally)', () => {
    expect(parseBadDeployEvent({ action: 'restore' })).toEqual({ action: 'restore' });
  });

  test('restore needs only the previous revision', () => {
    expect(parseBadDeployEvent({ action: 'restore', previousTaskDefinition: CURRENT })).toEqual({
      action: 'restore',
      previousTaskDefinition: CURRENT,
    });
  });

  test('the environment names a missing or malformed variable', () => {
    expect(() => loadBadDeployEnv({ CLUSTER_ARN: CLUSTER, SERVICE_ARN: SERVICE })).toThrow(
      'CONTAINER_NAME environment variable is not set',
    );
    expect(() =>
      loadBadDeployEnv({ CLUSTER_ARN: CLUSTER, SERVICE_ARN: SERVICE, CONTAINER_NAME: 'a b' }),
    ).toThrow('CONTAINER_NAME environment variable must be a container name');
  });

  test('the handler answers a stable error, not a stack, for a bad event', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      CLUSTER_ARN: CLUSTER,
      SERVICE_ARN: SERVICE,
      CONTAINER_NAME: 'api',
    });
    try {
      await expect(handler({ action: 'observe' }, fakeContext())).resolves.toMatchObject({
        ok: false,
        error: { code: 'INVALID_EVENT' },
      });
    } finally {
      process.env = saved;
    }
  });
});
