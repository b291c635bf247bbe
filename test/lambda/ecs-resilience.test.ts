/**
 * The chaos functions' ECS reads and writes (lambda/shared/ecs.ts) over the ECS client they deploy
 * with (`ecs-api.ts`, signed requests), against a fake ECS endpoint on 127.0.0.1 that injects
 * throttling, 5xx, slow replies and malformed bodies. The client's own wire and retry rules are in
 * ecs-api.test.ts.
 */
import {
  describeService,
  listServiceTasks,
  stopTasks,
  updateServiceNetwork,
} from '../../lambda/shared/ecs';
import { AwsApiError, EcsApi } from '../../lambda/shared/ecs-api';
import { FakeEcs, fakeFleet } from '../support/fake-ecs';
import { signedClientOptions } from '../support/signed-client-options';

import { recordingAudit } from './helpers';

/** Short enough to keep the tests quick, far below the fake's slow replies. */
const REQUEST_TIMEOUT_MS = 300;
const SLOW_MS = 1_500;

let fake: FakeEcs;
let ecs: EcsApi;
/** The waits between attempts: recorded, not slept. */
let backoffs: number[];
/** Attempts in all: the functions' default. */
const MAX_ATTEMPTS = 4;
const fleet = fakeFleet({ count: 4 });
const cluster = fleet.services[0].clusterArn;
const service = fleet.services[0].serviceArn;
const firstTask = fleet.tasks[0];

beforeEach(async () => {
  fake = await FakeEcs.start(fleet);
  backoffs = [];
  ecs = new EcsApi(
    signedClientOptions(fake.endpoint, backoffs, {
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      maxAttempts: MAX_ATTEMPTS,
    }),
  );
});
afterEach(async () => {
  await fake.close();
});

const scope = () => ({ audit: recordingAudit(), experimentId: 'exp-net' });

describe('retries of throttling and 5xx', () => {
  test('a throttled read is retried with capped, jittered backoff and then succeeds', async () => {
    // GIVEN two throttles
    fake.inject('DescribeTasks', { kind: 'throttle' }, { kind: 'throttle' });

    // WHEN
    const tasks = await listServiceTasks(ecs, cluster, 'api');

    // THEN three attempts, and two waits within the doubling ceilings of full jitter (200, 400 ms)
    expect(tasks).toHaveLength(4);
    expect(backoffs).toHaveLength(2);
    backoffs.forEach((ms, i) => {
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThanOrEqual(200 * 2 ** i);
    });
    expect(fake.callsOf('DescribeTasks').map((c) => c.answer)).toEqual([
      'throttle',
      'throttle',
      'ok',
    ]);
  });

  test('a 500 on StopTask is UNKNOWN: it is not sent again, and a read learns the task still runs', async () => {
    // GIVEN a 500 that did not stop the task (a 5xx may or may not have acted)
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
    expect(outcomes).toEqual([{ taskId: 'x', outcome: 'verified-not-done' }]);
    expect(fake.callsOf('StopTask').map((c) => c.answer)).toEqual(['server-error']);
    expect(fake.calls.map((c) => c.operation)).toEqual(['StopTask', 'DescribeTasks']);
    expect(fake.tasks.get(firstTask.taskArn)?.desiredStatus).toBe('RUNNING');
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
    const failure = await describeService(ecs, cluster, service).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AwsApiError);
    expect(failure).toMatchObject({ type: 'ServerException', status: 500 });
    expect(fake.callsOf('DescribeServices')).toHaveLength(MAX_ATTEMPTS);
  });

  test('a client error (a missing task) is not retried', async () => {
    await expect(
      ecs.call('StopTask', {
        cluster,
        task: `${cluster.replace(':cluster/', ':task/')}/missing`,
      }),
    ).rejects.toMatchObject({ type: 'InvalidParameterException' });
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
