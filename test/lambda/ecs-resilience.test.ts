/**
 * The real @aws-sdk/client-ecs client, configured as the functions configure it, against a fake
 * ECS endpoint on 127.0.0.1 that injects throttling, 5xx, slow replies and malformed bodies.
 */
import { DescribeTasksCommand, ECSClient, StopTaskCommand } from '@aws-sdk/client-ecs';

import {
  describeService,
  listServiceTasks,
  stopTasks,
  updateServiceNetwork,
} from '../../lambda/shared/ecs';
import {
  AWS_CLIENT_DEFAULTS,
  classifyEcsFailure,
  createEcsClient,
} from '../../lambda/shared/ecs-client';
import { OutcomeUnknownError } from '../../lambda/shared/errors';
import { FakeEcs, fakeFleet } from '../support/fake-ecs';

import { recordingAudit } from './helpers';

/** Short enough to keep the tests quick, far below the fake's slow replies. */
const REQUEST_TIMEOUT_MS = 300;
const SLOW_MS = 1_500;

let fake: FakeEcs;
let ecs: ECSClient;
const fleet = fakeFleet({ count: 4 });
const cluster = fleet.services[0].clusterArn;
const service = fleet.services[0].serviceArn;
const firstTask = fleet.tasks[0];

beforeEach(async () => {
  fake = await FakeEcs.start(fleet);
  ecs = createEcsClient({
    endpoint: fake.endpoint,
    region: 'us-east-1',
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
  });
});
afterEach(async () => {
  ecs.destroy();
  await fake.close();
});

const scope = () => ({ audit: recordingAudit(), experimentId: 'exp-net' });

describe('retries of throttling and 5xx', () => {
  test('a throttled read is retried with capped, jittered backoff and then succeeds', async () => {
    // GIVEN two throttles
    fake.inject('DescribeTasks', { kind: 'throttle' }, { kind: 'throttle' });

    // WHEN
    const out = await ecs.send(new DescribeTasksCommand({ cluster, tasks: [firstTask.taskArn] }));

    // THEN three attempts, and the SDK's delays never above the throttling caps (1 s, then 2 s)
    expect(out.tasks?.[0]?.taskArn).toBe(firstTask.taskArn);
    expect(out.$metadata.attempts).toBe(3);
    expect(out.$metadata.totalRetryDelay).toBeGreaterThanOrEqual(0);
    expect(out.$metadata.totalRetryDelay).toBeLessThanOrEqual(1_000 + 2_000);
    expect(fake.callsOf('DescribeTasks').map((c) => c.answer)).toEqual([
      'throttle',
      'throttle',
      'ok',
    ]);
  });

  test('a 500 on StopTask is retried, and the task stops once', async () => {
    // GIVEN
    fake.inject('StopTask', { kind: 'server-error' });
    const audit = scope();

    // WHEN
    const outcomes = await stopTasks(
      ecs,
      cluster,
      [{ taskArn: firstTask.taskArn, taskId: 'x' }],
      'test',
      audit,
    );

    // THEN
    expect(outcomes).toEqual([{ taskId: 'x', outcome: 'done' }]);
    expect(fake.callsOf('StopTask').map((c) => c.answer)).toEqual(['server-error', 'ok']);
    expect(fake.tasks.get(firstTask.taskArn)?.desiredStatus).toBe('STOPPED');
  });

  test('a 503 is retried like a 500', async () => {
    fake.inject('ListTasks', { kind: 'server-error', status: 503 });
    const tasks = await listServiceTasks(ecs, cluster, 'api');
    expect(tasks).toHaveLength(4);
    expect(fake.callsOf('ListTasks')).toHaveLength(2);
  });

  test('errors that do not stop give up after the configured attempts', async () => {
    // GIVEN more 500s than attempts
    fake.inject(
      'DescribeServices',
      ...Array.from({ length: 6 }, () => ({ kind: 'server-error' as const })),
    );

    // WHEN / THEN
    await expect(describeService(ecs, cluster, service)).rejects.toMatchObject({
      name: 'ServerException',
      $metadata: { attempts: AWS_CLIENT_DEFAULTS.maxAttempts },
    });
    expect(fake.callsOf('DescribeServices')).toHaveLength(AWS_CLIENT_DEFAULTS.maxAttempts);
  });

  test('a client error (a missing task) is not retried', async () => {
    await expect(
      ecs.send(
        new StopTaskCommand({ cluster, task: `${cluster.replace(':cluster/', ':task/')}/missing` }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
    expect(fake.callsOf('StopTask')).toHaveLength(1);
  });
});

describe('UNKNOWN outcomes of writes', () => {
  test('a StopTask that times out is UNKNOWN, is not repeated, and a read learns it stopped', async () => {
    // GIVEN the task stops but the reply comes after the client gave up
    fake.inject('StopTask', { kind: 'slow', delayMs: SLOW_MS, applied: true });
    const s = scope();

    // WHEN
    const outcomes = await stopTasks(
      ecs,
      cluster,
      [{ taskArn: firstTask.taskArn, taskId: 't1' }],
      'test',
      s,
    );

    // THEN
    expect(outcomes).toEqual([{ taskId: 't1', outcome: 'verified-done' }]);
    expect(fake.callsOf('StopTask')).toHaveLength(1);
    expect(fake.calls.map((c) => c.operation)).toEqual(['StopTask', 'DescribeTasks']);
    expect(s.audit.entries.map((e) => e.outcome)).toEqual(['unknown', 'verified-done']);
    expect(s.audit.entries[0]?.detail).toMatch(/^TimeoutError: /);
  });

  test('when the timed-out StopTask did not happen, the read says so and it is still not repeated', async () => {
    fake.inject('StopTask', { kind: 'slow', delayMs: SLOW_MS, applied: false });
    const outcomes = await stopTasks(
      ecs,
      cluster,
      [{ taskArn: firstTask.taskArn, taskId: 't1' }],
      'test',
      scope(),
    );
    expect(outcomes).toEqual([{ taskId: 't1', outcome: 'verified-not-done' }]);
    expect(fake.callsOf('StopTask')).toHaveLength(1);
    expect(fake.tasks.get(firstTask.taskArn)?.desiredStatus).toBe('RUNNING');
  });

  test('a StopTask answered 200 with a malformed body is UNKNOWN and verified by a read', async () => {
    fake.inject('StopTask', { kind: 'malformed', applied: true });
    const outcomes = await stopTasks(
      ecs,
      cluster,
      [{ taskArn: firstTask.taskArn, taskId: 't1' }],
      'test',
      scope(),
    );
    expect(outcomes).toEqual([{ taskId: 't1', outcome: 'verified-done' }]);
    expect(fake.callsOf('StopTask')).toHaveLength(1);
  });

  test('if the read after an UNKNOWN fails too, the outcome stays unknown', async () => {
    fake.inject('StopTask', { kind: 'slow', delayMs: SLOW_MS });
    fake.inject(
      'DescribeTasks',
      ...Array.from({ length: 6 }, () => ({ kind: 'server-error' as const })),
    );
    const outcomes = await stopTasks(
      ecs,
      cluster,
      [{ taskArn: firstTask.taskArn, taskId: 't1' }],
      'test',
      scope(),
    );
    expect(outcomes).toEqual([{ taskId: 't1', outcome: 'unknown' }]);
    expect(fake.callsOf('StopTask')).toHaveLength(1);
  });

  test('an UpdateService that times out is verified with DescribeServices, never sent twice', async () => {
    // GIVEN
    fake.inject('UpdateService', { kind: 'slow', delayMs: SLOW_MS, applied: true });
    const wanted = {
      subnets: ['subnet-b', 'subnet-c'],
      securityGroups: ['sg-service'],
      assignPublicIp: 'DISABLED' as const,
    };

    // WHEN
    const outcome = await updateServiceNetwork(ecs, cluster, service, wanted, scope());

    // THEN
    expect(outcome).toBe('verified-done');
    expect(fake.callsOf('UpdateService')).toHaveLength(1);
    expect(fake.calls.map((c) => c.operation)).toEqual(['UpdateService', 'DescribeServices']);
  });

  test('an UpdateService that timed out without effect is reported verified-not-done', async () => {
    fake.inject('UpdateService', { kind: 'slow', delayMs: SLOW_MS, applied: false });
    const wanted = {
      subnets: ['subnet-b'],
      securityGroups: ['sg-service'],
      assignPublicIp: 'DISABLED' as const,
    };
    expect(await updateServiceNetwork(ecs, cluster, service, wanted, scope())).toBe(
      'verified-not-done',
    );
    expect(fake.callsOf('UpdateService')).toHaveLength(1);
  });
});

describe('reads', () => {
  test('a read that times out is simply retried (reading twice is harmless)', async () => {
    fake.inject('DescribeServices', { kind: 'slow', delayMs: SLOW_MS });
    const found = await describeService(ecs, cluster, service);
    expect(found.serviceName).toBe('api');
    expect(fake.callsOf('DescribeServices').map((c) => c.answer)).toEqual(['slow', 'ok']);
  });

  test('a read answered with a malformed body is retried', async () => {
    fake.inject('DescribeTasks', { kind: 'malformed' });
    const tasks = await listServiceTasks(ecs, cluster, 'api');
    expect(tasks.map((t) => t.availabilityZone)).toEqual([
      'us-east-1a',
      'us-east-1b',
      'us-east-1c',
      'us-east-1a',
    ]);
    expect(fake.callsOf('DescribeTasks').map((c) => c.answer)).toEqual(['malformed', 'ok']);
  });

  test('tasks are described with their AZ and subnet', async () => {
    const tasks = await listServiceTasks(ecs, cluster, 'api');
    expect(tasks[1]).toMatchObject({
      availabilityZone: 'us-east-1b',
      subnetId: 'subnet-b',
      lastStatus: 'RUNNING',
    });
    expect(tasks[1]?.taskId).toBe(fleet.tasks[1].taskArn.split('/').at(-1));
  });
});

describe('classifyEcsFailure', () => {
  const timeout = () => Object.assign(new Error('socket timed out'), { name: 'TimeoutError' });

  test('turns a timed-out write into an OutcomeUnknownError that names the operation', () => {
    const classified = classifyEcsFailure(timeout(), 'StopTaskCommand');
    expect(classified).toBeInstanceOf(OutcomeUnknownError);
    expect((classified as Error).message).toBe(
      'StopTask outcome is UNKNOWN (TimeoutError: socket timed out)',
    );
  });

  test('treats a reset connection on a write as UNKNOWN too', () => {
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    expect(classifyEcsFailure(reset, 'UpdateServiceCommand')).toBeInstanceOf(OutcomeUnknownError);
  });

  test('leaves a throttled write alone, for the retry strategy', () => {
    const throttled = Object.assign(new Error('Rate exceeded'), {
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 400 },
    });
    expect(classifyEcsFailure(throttled, 'StopTaskCommand')).toBe(throttled);
  });

  test('leaves a timed-out read alone: the standard strategy retries it', () => {
    const error = timeout();
    expect(classifyEcsFailure(error, 'DescribeTasksCommand')).toBe(error);
  });
});
