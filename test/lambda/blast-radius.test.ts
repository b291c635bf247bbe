/**
 * The blast-radius cap, counted against what the load balancer finds healthy: the rounding with
 * the default 3 tasks, a deployment's extra tasks, a replacement still `initial`, and two
 * experiments back to back. The ECS calls go to the fake ECS endpoint on 127.0.0.1 through the
 * real client; the state table is dynalite; the target group's health is a function the test
 * moves, as ECS and the load balancer would.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';

import type { ServiceInfo, TaskInfo } from '../../lambda/shared/ecs';
import { EcsApi } from '../../lambda/shared/ecs-api';
import type { ChaosDeps } from '../../lambda/shared/experiment';
import {
  TargetHealthEntry,
  assertWithinBlastRadius,
  capacityOf,
  pickTasks,
} from '../../lambda/shared/targeting';
import { parseStopTasksEvent, stopTasks } from '../../lambda/stop-tasks/stop-tasks';
import { DEFAULT_CONFIG } from '../../lib/config';
import { FakeEcs, FakeEcsTask, fakeFleet } from '../support/fake-ecs';
import { signedClientOptions } from '../support/signed-client-options';

import { TestDeps, testDeps } from './helpers';
import { LocalDynamo, startLocalDynamo } from './local-dynamo';
import { mockAlarm, mockFaultParameter } from './mocks';

const DEFAULT_TASKS = DEFAULT_CONFIG.sizing.minTasks;
const DEFAULT_SHARE = DEFAULT_CONFIG.chaos.maxTaskShare;

const task = (n: number): TaskInfo => ({
  taskArn: `arn:aws:ecs:us-east-1:123456789012:task/c/t${n}`,
  taskId: `t${n}`,
  privateIpv4Address: `10.0.0.${n}`,
  lastStatus: 'RUNNING',
  desiredStatus: 'RUNNING',
});
const service = (desiredCount: number): ServiceInfo => ({
  serviceArn: 'arn:aws:ecs:us-east-1:123456789012:service/c/api',
  serviceName: 'api',
  desiredCount,
  tags: { 'chaos-enabled': 'true' },
});
const healthy = (tasks: readonly TaskInfo[]): TargetHealthEntry[] =>
  tasks.map((t) => ({ id: t.privateIpv4Address ?? '', state: 'healthy' }));

describe('the cap with the default 3 tasks', () => {
  const tasks = [1, 2, 3].map(task);
  const capacity = capacityOf(tasks, healthy(tasks));
  const check =
    (affected: number, share = DEFAULT_SHARE) =>
    () =>
      assertWithinBlastRadius({
        service: service(DEFAULT_TASKS),
        tasks,
        capacity,
        affectedTaskIds: new Set(tasks.slice(0, affected).map((t) => t.taskId)),
        maxTaskShare: share,
        what: `stopping ${affected}`,
      });

  test('the defaults are 3 tasks and a share of 0.5', () => {
    expect([DEFAULT_TASKS, DEFAULT_SHARE]).toEqual([3, 0.5]);
  });

  test('a share of 0.5 rounds down to 1 task of 3: one may go, two may not', () => {
    expect(check(1)).not.toThrow();
    expect(check(2)).toThrow('the cap is 1 (MAX_TASK_SHARE 0.5 of the desired count)');
  });

  test.each([
    [0.3, 0],
    [0.34, 1],
    [0.66, 1],
    [0.67, 2],
  ])('a share of %d gives a cap of %d tasks of 3', (share, cap) => {
    if (cap > 0) expect(check(cap, share)).not.toThrow();
    expect(check(cap + 1, share)).toThrow(`the cap is ${cap}`);
  });

  test('percent 50 of 3 picks 1 (rounded down), percent 10 still picks 1, percent 100 picks 3 and is refused', () => {
    const identity = () => 0.999999;
    expect(pickTasks(tasks, { percent: 50 }, identity, capacity)).toHaveLength(1);
    expect(pickTasks(tasks, { percent: 10 }, identity, capacity)).toHaveLength(1);
    const all = pickTasks(tasks, { percent: 100 }, identity, capacity);
    expect(() =>
      assertWithinBlastRadius({
        service: service(3),
        tasks,
        capacity,
        affectedTaskIds: new Set(all.map((t) => t.taskId)),
        maxTaskShare: DEFAULT_SHARE,
        what: 'percent 100',
      }),
    ).toThrow('would leave 3 of 3 desired tasks affected');
  });
});

describe('what counts as capacity', () => {
  test('a deployment running more tasks than desired does not widen the cap: the base is the desired count', () => {
    // GIVEN 4 healthy tasks of a service that desires 3 (a rolling deployment)
    const tasks = [1, 2, 3, 4].map(task);
    // WHEN two are to stop, THEN the cap is floor(3 x 0.5) = 1, not floor(4 x 0.5) = 2
    expect(() =>
      assertWithinBlastRadius({
        service: service(3),
        tasks,
        capacity: capacityOf(tasks, healthy(tasks)),
        affectedTaskIds: new Set(['t1', 't2']),
        maxTaskShare: 0.5,
        what: 'stopping 2',
      }),
    ).toThrow(
      'would leave 2 of 3 desired tasks affected (2 by faults or stops, 0 not healthy in the load balancer); the cap is 1',
    );
  });

  test('a RUNNING task whose target is initial, draining or unhealthy does not serve, and is missing capacity', () => {
    const tasks = [1, 2, 3, 4].map(task);
    const capacity = capacityOf(tasks, [
      { id: '10.0.0.1', state: 'healthy' },
      { id: '10.0.0.2', state: 'initial' },
      { id: '10.0.0.3', state: 'draining' },
      { id: '10.0.0.4', state: 'unhealthy' },
    ]);
    expect([...capacity.serving]).toEqual(['t1']);
    expect(capacity.source).toBe('load-balancer');
  });
});

describe('the capacity left after any accepted experiment', () => {
  test('never falls below the desired count less the cap, whatever runs, serves or is asked', () => {
    // GIVEN any desired count, share, running tasks (some not healthy in the target group, some
    // extra as in a deployment) and tasks to affect
    const world = fc
      .record({
        desired: fc.integer({ min: 1, max: 12 }),
        share: fc.double({ min: 0.05, max: 1, noNaN: true }),
        running: fc.integer({ min: 0, max: 16 }),
      })
      .chain((w) =>
        fc.record({
          desired: fc.constant(w.desired),
          share: fc.constant(w.share),
          states: fc.array(fc.constantFrom('healthy', 'initial', 'draining', 'unhealthy'), {
            minLength: w.running,
            maxLength: w.running,
          }),
          affected: fc.subarray(Array.from({ length: w.running }, (_, i) => `t${i + 1}`)),
        }),
      );
    fc.assert(
      fc.property(world, ({ desired, share, states, affected }) => {
        const tasks = states.map((_, i) => task(i + 1));
        const capacity = capacityOf(
          tasks,
          states.map((state, i) => ({ id: `10.0.0.${i + 1}`, state })),
        );
        let accepted = true;
        try {
          assertWithinBlastRadius({
            service: service(desired),
            tasks,
            capacity,
            affectedTaskIds: new Set(affected),
            maxTaskShare: share,
            what: 'any',
          });
        } catch {
          accepted = false;
        }
        // WHEN accepted, THEN the tasks still serving after it are at least desired - cap
        const stillServing = [...capacity.serving].filter((id) => !affected.includes(id)).length;
        const cap = Math.floor(desired * share);
        return !accepted || stillServing >= desired - cap;
      }),
      { numRuns: 500, verbose: true },
    );
  });
});

describe('experiments against the fake ECS endpoint', () => {
  const cloudWatch = mockClient(CloudWatchClient);
  const ssm = mockClient(SSMClient);
  let dynamo: LocalDynamo;
  let fake: FakeEcs;
  let ecs: EcsApi;
  let tables = 0;
  /** The target group as the load balancer sees it: address -> state. */
  let targets: Map<string, string>;

  beforeAll(async () => {
    dynamo = await startLocalDynamo();
  });
  afterAll(async () => {
    await dynamo.close();
  });
  afterEach(async () => {
    await fake.close();
  });

  async function world(count: number, desired = count) {
    fake = await FakeEcs.start(fakeFleet({ count }));
    const [svc] = [...fake.services.values()];
    svc.desiredCount = desired;
    ecs = new EcsApi(signedClientOptions(fake.endpoint, [], { maxAttempts: 1 }));
    cloudWatch.reset();
    ssm.reset();
    mockAlarm(cloudWatch, 'OK');
    mockFaultParameter(ssm, { faults: [] });
    targets = new Map([...fake.tasks.values()].map((t) => [t.privateIp ?? '', 'healthy']));
    const base: TestDeps = testDeps(await dynamo.createTable(`blast-${++tables}`), { ecs });
    const deps: TestDeps & ChaosDeps = {
      ...base,
      targetHealth: () => Promise.resolve([...targets].map(([id, state]) => ({ id, state }))),
    };
    return { deps, svc };
  }
  const stop = (deps: TestDeps, id: string, count: number) =>
    stopTasks(
      parseStopTasksEvent({ experimentId: id, dryRun: false, count, durationMinutes: 1 }, deps.env),
      deps,
    );
  const running = () => [...fake.tasks.values()].filter((t) => t.desiredStatus === 'RUNNING');

  test('back to back: after a stop, the next experiment waits (cooldown) until the replacement is healthy', async () => {
    // GIVEN 3 tasks, one stopped by a first experiment
    const { deps } = await world(3);
    await stop(deps, 'exp-1', 1);
    const [stopped] = [...fake.tasks.values()].filter((t) => t.desiredStatus === 'STOPPED');
    expect(stopped).toBeDefined();
    // ECS deregisters it and starts a replacement, whose target is still initial
    targets.set(stopped.privateIp ?? '', 'draining');
    const replacement: FakeEcsTask = {
      ...running()[0],
      taskArn: stopped.taskArn.replace(/[0-9a-f]{32}$/, 'f'.repeat(32)),
      privateIp: '10.0.0.99',
    };
    fake.tasks.set(replacement.taskArn, replacement);
    targets.set('10.0.0.99', 'initial');
    deps.setNow(new Date(deps.now().getTime() + 2 * 60_000)); // the first lease has expired

    // WHEN a second experiment asks for one more task
    // THEN it is refused: 1 missing + 1 more would exceed the cap of 1 of 3
    await expect(stop(deps, 'exp-2', 1)).rejects.toThrow(
      'stopping 1 task(s) would leave 2 of 3 desired tasks affected (1 by faults or stops, 1 not healthy in the load balancer); the cap is 1',
    );
    expect(fake.callsOf('StopTask')).toHaveLength(1);

    // WHEN the replacement turns healthy, THEN the service is whole again and one more may go
    targets.set('10.0.0.99', 'healthy');
    const third = await stop(deps, 'exp-3', 1);
    expect(third.status).toBe('applied');
    expect(fake.callsOf('StopTask')).toHaveLength(2);
  });

  test('a replacement still initial is never picked, even when it is listed first', async () => {
    // GIVEN 3 tasks and a cap of 2; the first listed task's target is still initial
    const { deps } = await world(3);
    const first = [...fake.tasks.values()][0];
    targets.set(first.privateIp ?? '', 'initial');
    const env = { ...deps.env, maxTaskShare: 0.67 };

    // WHEN one task is stopped (the picking is in listing order)
    const result = await stopTasks(
      parseStopTasksEvent({ experimentId: 'exp-i', dryRun: false, count: 1 }, env),
      { ...deps, env },
    );

    // THEN a serving task stops, not the one that serves nobody yet
    expect(result.plan.stopTasks.map((t) => t.taskArn)).not.toContain(first.taskArn);
    expect(fake.tasks.get(first.taskArn)?.desiredStatus).toBe('RUNNING');
  });

  test('a FIS reservation takes the same lease and cap, and stops nothing itself', async () => {
    // GIVEN 3 healthy tasks
    const { deps } = await world(3);
    const reserve = (id: string, count: number) =>
      stopTasks(
        parseStopTasksEvent(
          { experimentId: id, dryRun: false, count, fisExperiment: true, durationMinutes: 5 },
          deps.env,
        ),
        deps,
      );

    // WHEN two tasks are asked for FIS, THEN the cap of 1 of 3 refuses it, as it would a stop
    await expect(reserve('fis-2', 2)).rejects.toThrow('the cap is 1');

    // WHEN one is, THEN it is applied without any StopTask: FIS will stop it
    const reserved = await reserve('fis-1', 1);
    expect(reserved.status).toBe('applied');
    expect(reserved.plan.summary).toContain('for a FIS experiment');
    expect(fake.callsOf('StopTask')).toHaveLength(0);

    // AND a chaos function started meanwhile is refused by the lease the reservation holds
    await expect(stop(deps, 'exp-during-fis', 1)).rejects.toThrow('is leased by experiment fis-1');
  });

  test('during a deployment (4 running, 3 desired) two tasks are refused against the fake ECS', async () => {
    const { deps } = await world(4, 3);
    await expect(stop(deps, 'exp-d', 2)).rejects.toThrow('the cap is 1');
    expect(fake.callsOf('StopTask')).toHaveLength(0);
  });
});
