import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECSClient, ListTasksCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';

import { GuardrailRefusal, LeaseHeldError } from '../../lambda/shared/errors';
import { acquireLease, readLease, readState } from '../../lambda/shared/state-table';
import { parseStopTasksEvent, stopTasks } from '../../lambda/stop-tasks/stop-tasks';

import { CLUSTER_ARN, SERVICE_ARN, TestDeps, taskArn, taskId, testDeps } from './helpers';
import { LocalDynamo, startLocalDynamo } from './local-dynamo';
import { mockAlarm, mockFaultParameter, mockFleet } from './mocks';

const ecs = mockClient(ECSClient);
const cloudWatch = mockClient(CloudWatchClient);
const ssm = mockClient(SSMClient);
let dynamo: LocalDynamo;
let deps: TestDeps;
let tables = 0;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
});
afterAll(async () => {
  await dynamo.close();
});
beforeEach(async () => {
  ecs.reset();
  cloudWatch.reset();
  ssm.reset();
  deps = testDeps(await dynamo.createTable(`stop-tasks-${++tables}`));
  mockFleet(ecs);
  mockAlarm(cloudWatch, 'OK');
  mockFaultParameter(ssm, { faults: [] });
});

const event = (fields: Record<string, unknown> = {}) =>
  parseStopTasksEvent({ experimentId: 'exp-1', dryRun: false, ...fields }, deps.env);

describe('stop-tasks targeting', () => {
  test('stops the requested number of tasks, each once, naming the experiment', async () => {
    // WHEN
    const result = await stopTasks(event({ count: 2 }), deps);

    // THEN
    expect(ecs).toReceiveCommandTimes(StopTaskCommand, 2);
    expect(ecs).toReceiveCommandWith(StopTaskCommand, {
      cluster: CLUSTER_ARN,
      task: taskArn(1),
      reason: 'chaos experiment exp-1',
    });
    expect(ecs).toReceiveCommandWith(StopTaskCommand, { task: taskArn(2) });
    expect(result.status).toBe('applied');
    expect(result.outcomes?.stoppedTasks).toEqual([
      { taskId: taskId(1), outcome: 'done' },
      { taskId: taskId(2), outcome: 'done' },
    ]);
  });

  test('percent stops that share of the running tasks, rounded down', async () => {
    // WHEN 25 % of 4 tasks
    const result = await stopTasks(event({ percent: 25 }), deps);

    // THEN
    expect(ecs).toReceiveCommandTimes(StopTaskCommand, 1);
    expect(result.plan.affectedTaskIds).toEqual([taskId(1)]);
  });

  test('availabilityZone limits the targets to the tasks in that AZ', async () => {
    // WHEN
    const result = await stopTasks(event({ count: 2, availabilityZone: 'us-east-1a' }), deps);

    // THEN tasks 1 and 4 are the ones in us-east-1a
    expect(result.plan.affectedTaskIds).toEqual([taskId(1), taskId(4)]);
    expect(ecs).not.toReceiveCommandWith(StopTaskCommand, { task: taskArn(2) });
  });

  test('tasks that are not RUNNING yet are never picked', async () => {
    // GIVEN task 1 is still PENDING
    ecs.reset();
    mockFleet(ecs, {
      tasks: [
        { n: 1, az: 'us-east-1a', lastStatus: 'PENDING' },
        { n: 2, az: 'us-east-1b' },
        { n: 3, az: 'us-east-1c' },
        { n: 4, az: 'us-east-1a' },
      ],
    });

    // WHEN
    const result = await stopTasks(event({ count: 1 }), deps);

    // THEN
    expect(result.plan.affectedTaskIds).toEqual([taskId(2)]);
  });

  test('asking for more tasks than run in the AZ is refused, naming the numbers', async () => {
    await expect(
      stopTasks(event({ count: 3, availabilityZone: 'us-east-1a' }), deps),
    ).rejects.toThrow('asked for 3 tasks but only 2 are running in us-east-1a');
    expect(ecs).not.toReceiveCommand(StopTaskCommand);
  });
});

describe('stop-tasks guardrails', () => {
  test('a dry run reports the plan, takes no lease and stops nothing', async () => {
    // WHEN
    const result = await stopTasks(event({ count: 2, dryRun: true }), deps);

    // THEN
    expect(result.status).toBe('dry-run');
    expect(result.plan.affectedTaskIds).toEqual([taskId(1), taskId(2)]);
    expect(ecs).not.toReceiveCommand(StopTaskCommand);
    expect(await readLease(deps.table, SERVICE_ARN)).toBeUndefined();
    expect(await readState(deps.table, SERVICE_ARN)).toBeUndefined();
    expect(
      deps.audit.entries.filter((e) => e.action === 'stop-task').map((e) => e.outcome),
    ).toEqual(['would-do', 'would-do']);
  });

  test('a service without chaos-enabled=true is refused before any task is listed', async () => {
    // GIVEN
    ecs.reset();
    mockFleet(ecs, { tagged: false });

    // WHEN
    const run = stopTasks(event({ count: 1 }), deps);

    // THEN
    await expect(run).rejects.toThrow('service api is not tagged chaos-enabled=true');
    expect(ecs).not.toReceiveCommand(ListTasksCommand);
    expect(ecs).not.toReceiveCommand(StopTaskCommand);
  });

  test('the region-impaired alarm in ALARM aborts before ECS is called', async () => {
    // GIVEN
    mockAlarm(cloudWatch, 'ALARM');

    // WHEN
    const run = stopTasks(event({ count: 1 }), deps);

    // THEN
    await expect(run).rejects.toThrow(GuardrailRefusal);
    await expect(stopTasks(event({ count: 1 }), deps)).rejects.toThrow(
      'alarm blueprint-us-east-1-region-impaired is in ALARM',
    );
    expect(ecs).not.toReceiveAnyCommand();
    expect(deps.audit.entries.at(-1)).toMatchObject({ action: 'stop-tasks', outcome: 'refused' });
  });

  test('a region-impaired alarm in INSUFFICIENT_DATA is refused (fails closed): the region is not known healthy', async () => {
    // GIVEN an alarm without enough data to be OK
    mockAlarm(cloudWatch, 'INSUFFICIENT_DATA');

    // WHEN a real run is asked for
    const run = stopTasks(event({ count: 1 }), deps);

    // THEN it is refused before any ECS call, and the refusal is audited
    await expect(run).rejects.toThrow(
      'alarm blueprint-us-east-1-region-impaired is INSUFFICIENT_DATA, not OK: the region is not known to be healthy',
    );
    expect(ecs).not.toReceiveAnyCommand();
    expect(deps.audit.entries.at(-1)).toMatchObject({ action: 'stop-tasks', outcome: 'refused' });
  });

  test('a missing region-impaired alarm is refused: health cannot be checked', async () => {
    mockAlarm(cloudWatch, 'missing');
    await expect(stopTasks(event({ count: 1 }), deps)).rejects.toThrow(
      "was not found, so the region's health is unknown",
    );
    expect(ecs).not.toReceiveAnyCommand();
  });

  test('more than MAX_TASK_SHARE of the tasks is refused, and the lease is given back', async () => {
    // WHEN 3 of 4 with a 50 % cap
    const run = stopTasks(event({ count: 3 }), deps);

    // THEN
    await expect(run).rejects.toThrow(
      'stopping 3 task(s) would leave 3 of 4 desired tasks affected (3 by faults or stops, 0 not running); the cap is 2 (MAX_TASK_SHARE 0.5 of the desired count)',
    );
    expect(ecs).not.toReceiveCommand(StopTaskCommand);
    expect(await readLease(deps.table, SERVICE_ARN)).toBeUndefined();
  });

  test('tasks the service is already missing count against the cap', async () => {
    // GIVEN 4 desired but only 3 running
    ecs.reset();
    mockFleet(ecs, {
      desiredCount: 4,
      tasks: [
        { n: 1, az: 'us-east-1a' },
        { n: 2, az: 'us-east-1b' },
        { n: 3, az: 'us-east-1c' },
      ],
    });

    // WHEN 2 more would leave 3 of 4 down
    await expect(stopTasks(event({ count: 2 }), deps)).rejects.toThrow(
      '(2 by faults or stops, 1 not running)',
    );
    expect(ecs).not.toReceiveCommand(StopTaskCommand);
  });

  test('tasks that live faults reach count against the cap; expired faults do not', async () => {
    // GIVEN a live fault on tasks 3 and 4 and an expired one on task 1
    mockFaultParameter(ssm, {
      faults: [
        {
          type: 'latency',
          targets: [taskId(3), taskId(4)],
          expiresAt: '2026-03-01T12:30:00.000Z',
          params: {},
        },
        {
          type: 'latency',
          targets: [taskId(1)],
          expiresAt: '2026-03-01T11:00:00.000Z',
          params: {},
        },
      ],
    });

    // WHEN stopping 1 more task (task 1) would leave 3 of 4 affected
    await expect(stopTasks(event({ count: 1 }), deps)).rejects.toThrow(
      'would leave 3 of 4 desired tasks affected',
    );
  });

  test('a MAX_TASK_SHARE of 0.75 allows 3 of 4', async () => {
    deps = testDeps(deps.table, { env: { maxTaskShare: 0.75 } });
    const result = await stopTasks(event({ count: 3 }), deps);
    expect(result.outcomes?.stoppedTasks).toHaveLength(3);
  });
});

describe('stop-tasks lease and replays', () => {
  test('another experiment holding a live lease is refused; once it expires the lease frees itself', async () => {
    // GIVEN exp-0 holds the lease until 12:05
    await acquireLease(
      deps.table,
      SERVICE_ARN,
      'exp-0',
      new Date('2026-03-01T12:05:00Z'),
      deps.now(),
    );

    // WHEN / THEN at 12:00 the lease is held
    await expect(stopTasks(event({ count: 1 }), deps)).rejects.toThrow(LeaseHeldError);
    await expect(stopTasks(event({ count: 1 }), deps)).rejects.toThrow(
      `${SERVICE_ARN} is leased by experiment exp-0 until 2026-03-01T12:05:00.000Z`,
    );
    expect(ecs).not.toReceiveCommand(StopTaskCommand);

    // WHEN at 12:06 it has expired
    deps.setNow(new Date('2026-03-01T12:06:00Z'));
    const result = await stopTasks(event({ count: 1 }), deps);

    // THEN
    expect(result.status).toBe('applied');
    expect((await readLease(deps.table, SERVICE_ARN))?.holder).toBe('exp-1');
  });

  test('the lease outlives the fault by the clock-skew margin (issue 14, item 10)', async () => {
    // GIVEN a 20-minute fault from 12:00; the service may see it live up to a minute longer
    await stopTasks(event({ count: 1, durationMinutes: 20 }), deps);

    // THEN the fault ends at 12:20 and the lease a minute later
    expect((await readState(deps.table, SERVICE_ARN))?.faultExpiresAt).toBe(
      '2026-03-01T12:20:00.000Z',
    );
    expect((await readLease(deps.table, SERVICE_ARN))?.expiresAt.toISOString()).toBe(
      '2026-03-01T12:21:00.000Z',
    );
  });

  test('running an applied experiment again acts once', async () => {
    // GIVEN
    const first = await stopTasks(event({ count: 2 }), deps);

    // WHEN
    const second = await stopTasks(event({ count: 2 }), deps);

    // THEN
    expect(second.status).toBe('already-applied');
    expect(second.plan).toEqual(first.plan);
    expect(ecs).toReceiveCommandTimes(StopTaskCommand, 2);
  });

  test('a run that failed part-way resumes with the same targets', async () => {
    // GIVEN the second StopTask fails with an error that is not a timeout
    ecs.on(StopTaskCommand, { task: taskArn(2) }).rejectsOnce(new Error('AccessDenied'));
    await expect(stopTasks(event({ count: 2 }), deps)).rejects.toThrow('AccessDenied');
    const planned = (await readState(deps.table, SERVICE_ARN))?.plan.affectedTaskIds;

    // WHEN the invocation is retried
    const result = await stopTasks(event({ count: 2 }), deps);

    // THEN the same two tasks are stopped, nothing else
    expect(result.plan.affectedTaskIds).toEqual(planned);
    expect(result.plan.affectedTaskIds).toEqual([taskId(1), taskId(2)]);
    expect(ecs).not.toReceiveCommandWith(StopTaskCommand, { task: taskArn(3) });
  });

  test('every action leaves an audit line', async () => {
    await stopTasks(event({ count: 2 }), deps);
    expect(deps.audit.entries.map((e) => `${e.action} ${e.target} ${e.outcome}`)).toEqual([
      `acquire-lease ${SERVICE_ARN} done`,
      `stop-task ${taskId(1)} done`,
      `stop-task ${taskId(2)} done`,
    ]);
    expect(deps.audit.entries.every((e) => e.experimentId === 'exp-1')).toBe(true);
  });
});
