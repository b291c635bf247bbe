import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECSClient, StopTaskCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';

import { azOutage, parseAzOutageEvent } from '../../lambda/az-outage/az-outage';
import { parseRestoreEvent, restore } from '../../lambda/restore/restore';
import { readLease, readState } from '../../lambda/shared/state-table';
import { parseStopTasksEvent, stopTasks } from '../../lambda/stop-tasks/stop-tasks';

import { CLUSTER_ARN, SERVICE_ARN, TestDeps, taskArn, testDeps } from './helpers';
import { LocalDynamo, startLocalDynamo } from './local-dynamo';
import { FleetTask, ORIGINAL_NETWORK, mockAlarm, mockFaultParameter, mockFleet } from './mocks';

const ecs = mockClient(ECSClient);
const cloudWatch = mockClient(CloudWatchClient);
const ssm = mockClient(SSMClient);
let dynamo: LocalDynamo;
let deps: TestDeps;
let network: () => unknown;
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
  deps = testDeps(await dynamo.createTable(`az-outage-${++tables}`));
  network = mockFleet(ecs);
  mockAlarm(cloudWatch, 'OK');
  mockFaultParameter(ssm, { faults: [] });
});

const outage = (fields: Record<string, unknown> = {}) =>
  parseAzOutageEvent(
    { experimentId: 'exp-az', dryRun: false, availabilityZone: 'us-east-1a', ...fields },
    deps.env,
  );
const restoreEvent = (fields: Record<string, unknown>) => parseRestoreEvent(fields, deps.env);
const updateInputs = () => ecs.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input);

describe('az-outage', () => {
  test("takes the AZ's subnets out of the service, then stops the AZ's tasks", async () => {
    // WHEN
    const result = await azOutage(outage(), deps);

    // THEN the service keeps 1b and 1c, with the same security groups and public-IP setting
    expect(ecs).toReceiveCommandWith(UpdateServiceCommand, {
      cluster: CLUSTER_ARN,
      service: SERVICE_ARN,
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: ['subnet-b', 'subnet-c'],
          securityGroups: ['sg-service'],
          assignPublicIp: 'DISABLED',
        },
      },
    });
    // and the two tasks of us-east-1a stop, after the update so that replacements avoid the AZ
    const calls = ecs.calls().map((c) => (c.args[0] as object).constructor.name);
    expect(calls.indexOf('UpdateServiceCommand')).toBeLessThan(calls.indexOf('StopTaskCommand'));
    expect(ecs).toReceiveCommandTimes(StopTaskCommand, 2);
    expect(ecs).toReceiveCommandWith(StopTaskCommand, { task: taskArn(1) });
    expect(ecs).toReceiveCommandWith(StopTaskCommand, { task: taskArn(4) });
    expect(result.outcomes).toMatchObject({ network: 'done' });
  });

  test('remembers the original network configuration durably, before changing it', async () => {
    // GIVEN UpdateService fails, so nothing after the state write happens
    ecs.on(UpdateServiceCommand).rejectsOnce(new Error('AccessDeniedException'));

    // WHEN
    await expect(azOutage(outage(), deps)).rejects.toThrow('AccessDeniedException');

    // THEN the original is already in the state table, and the applier said it stopped
    const state = await readState(deps.table, SERVICE_ARN);
    expect(state?.plan.network?.original).toEqual(ORIGINAL_NETWORK);
    expect(state?.status).toBe('applying');
    expect(state?.inFlightUntil).toBe('2026-03-01T12:00:00.000Z');
  });

  test('an AZ the service has no subnet in is refused, naming the AZs it has', async () => {
    await expect(azOutage(outage({ availabilityZone: 'us-east-1d' }), deps)).rejects.toThrow(
      'service api has no subnet in us-east-1d; its subnets are in us-east-1a, us-east-1b, us-east-1c',
    );
    expect(ecs).not.toReceiveCommand(UpdateServiceCommand);
  });

  test('a service whose every subnet is in the AZ is refused', async () => {
    ecs.reset();
    mockFleet(ecs, {
      tasks: [
        { n: 1, az: 'us-east-1a' },
        { n: 2, az: 'us-east-1a' },
      ],
      network: {
        subnets: ['subnet-a'],
        securityGroups: ['sg-service'],
        assignPublicIp: 'DISABLED',
      },
    });
    await expect(azOutage(outage(), deps)).rejects.toThrow(
      'every subnet of service api is in us-east-1a; taking it out would stop the service',
    );
    expect(ecs).not.toReceiveCommand(UpdateServiceCommand);
  });

  test('a subnet whose AZ cannot be told is refused rather than guessed', async () => {
    ecs.reset();
    mockFleet(ecs, {
      network: {
        subnets: ['subnet-a', 'subnet-b', 'subnet-x'],
        securityGroups: ['sg-service'],
        assignPublicIp: 'DISABLED',
      },
    });
    await expect(azOutage(outage(), deps)).rejects.toThrow(
      'cannot tell the AZ of subnet(s) subnet-x; add them to SUBNET_AZS',
    );
  });

  test('an AZ holding more than MAX_TASK_SHARE of the tasks is refused', async () => {
    ecs.reset();
    const tasks: FleetTask[] = [
      { n: 1, az: 'us-east-1a' },
      { n: 2, az: 'us-east-1a' },
      { n: 3, az: 'us-east-1a' },
      { n: 4, az: 'us-east-1b' },
    ];
    mockFleet(ecs, { tasks });
    await expect(azOutage(outage(), deps)).rejects.toThrow(
      'an outage of us-east-1a (3 task(s)) would leave 3 of 4',
    );
    expect(ecs).not.toReceiveCommand(StopTaskCommand);
  });

  test('a dry run changes neither the service nor its tasks', async () => {
    const result = await azOutage(outage({ dryRun: true }), deps);
    expect(result.plan.network?.wanted.subnets).toEqual(['subnet-b', 'subnet-c']);
    expect(ecs).not.toReceiveCommand(UpdateServiceCommand);
    expect(ecs).not.toReceiveCommand(StopTaskCommand);
  });
});

describe('restore after az-outage', () => {
  test('restores the exact original network configuration and releases the lease', async () => {
    // GIVEN
    await azOutage(outage(), deps);

    // WHEN
    const result = await restore(restoreEvent({ experimentId: 'exp-az' }), deps);

    // THEN
    expect(result.status).toBe('restored');
    expect(updateInputs()[1]).toEqual({
      cluster: CLUSTER_ARN,
      service: SERVICE_ARN,
      networkConfiguration: { awsvpcConfiguration: ORIGINAL_NETWORK },
    });
    expect(network()).toEqual(ORIGINAL_NETWORK);
    expect(await readLease(deps.table, SERVICE_ARN)).toBeUndefined();
    expect((await readState(deps.table, SERVICE_ARN))?.status).toBe('restored');
  });

  test('restoring twice changes nothing the second time', async () => {
    // GIVEN
    await azOutage(outage(), deps);
    await restore(restoreEvent({ experimentId: 'exp-az' }), deps);

    // WHEN
    const again = await restore(restoreEvent({ experimentId: 'exp-az' }), deps);

    // THEN
    expect(again.status).toBe('already-restored');
    expect(ecs).toReceiveCommandTimes(UpdateServiceCommand, 2);
  });

  test('a restore that finds the original already back does not update the service', async () => {
    // GIVEN a deploy put the original configuration back during the outage
    await azOutage(outage(), deps);
    await deps.ecs.call('UpdateService', {
      cluster: CLUSTER_ARN,
      service: SERVICE_ARN,
      networkConfiguration: {
        awsvpcConfiguration: {
          ...ORIGINAL_NETWORK,
          subnets: ['subnet-c', 'subnet-b', 'subnet-a'],
        },
      },
    });

    // WHEN
    const result = await restore(restoreEvent({ experimentId: 'exp-az' }), deps);

    // THEN subnet order does not matter: nothing more is sent
    expect(result.outcomes?.network).toBe('already-original');
    expect(ecs).toReceiveCommandTimes(UpdateServiceCommand, 2);
  });

  test('a dry-run restore reports what it would undo and changes nothing', async () => {
    await azOutage(outage(), deps);
    const result = await restore(restoreEvent({ experimentId: 'exp-az', dryRun: true }), deps);
    expect(result.status).toBe('dry-run');
    expect(result.detail).toContain('take us-east-1a out');
    expect(ecs).toReceiveCommandTimes(UpdateServiceCommand, 1);
  });

  test("restoring an experiment that is not the service's is a no-op", async () => {
    await azOutage(outage(), deps);
    const result = await restore(restoreEvent({ experimentId: 'exp-other' }), deps);
    expect(result).toMatchObject({ status: 'nothing-to-restore' });
    expect(result.detail).toBe("the service's last experiment is exp-az, not exp-other");
    expect(ecs).toReceiveCommandTimes(UpdateServiceCommand, 1);
  });

  test('the scheduled sweep leaves a running experiment alone', async () => {
    await azOutage(outage({ durationMinutes: 10 }), deps);
    const result = await restore(restoreEvent({ sweep: true }), deps);
    expect(result.status).toBe('not-expired');
    expect(ecs).toReceiveCommandTimes(UpdateServiceCommand, 1);
  });

  test('the scheduled sweep restores the network once the fault expires, with nobody calling restore', async () => {
    // GIVEN a 10-minute outage, and 11 minutes later
    await azOutage(outage({ durationMinutes: 10 }), deps);
    deps.setNow(new Date('2026-03-01T12:11:00Z'));

    // WHEN
    const result = await restore(restoreEvent({ sweep: true }), deps);

    // THEN
    expect(result.status).toBe('restored');
    expect(network()).toEqual(ORIGINAL_NETWORK);
    expect((await readState(deps.table, SERVICE_ARN))?.restoredBy).toBe('sweep');
    expect(await readLease(deps.table, SERVICE_ARN)).toBeUndefined();
    // and a second sweep finds nothing to do
    expect((await restore(restoreEvent({ sweep: true }), deps)).status).toBe('nothing-to-restore');
  });

  test('another kind of experiment waits for an expired az-outage to be restored', async () => {
    // GIVEN an expired outage that nobody restored yet
    await azOutage(outage({ durationMinutes: 10 }), deps);
    deps.setNow(new Date('2026-03-01T12:20:00Z'));

    // WHEN stop-tasks (which may not update the service) wants to start
    const run = stopTasks(
      parseStopTasksEvent({ experimentId: 'exp-stop', dryRun: false, count: 1 }, deps.env),
      deps,
    );

    // THEN it is refused, with the way out named, and nothing changed
    await expect(run).rejects.toThrow(
      'experiment exp-az changed the service\'s network and is not restored yet; the restore sweep puts it back within a minute of 2026-03-01T12:10:00.000Z, or invoke restore with {"experimentId": "exp-az"}',
    );
    expect(ecs).toReceiveCommandTimes(UpdateServiceCommand, 1);
    expect((await readLease(deps.table, SERVICE_ARN))?.holder).toBe('exp-az');
  });

  test('a new experiment first undoes an expired one, so it remembers the true original', async () => {
    // GIVEN exp-az took 1a out for 10 minutes; no sweep ran
    await azOutage(outage({ durationMinutes: 10 }), deps);
    deps.setNow(new Date('2026-03-01T12:20:00Z'));

    // WHEN a second outage of 1b starts
    const result = await azOutage(
      outage({ experimentId: 'exp-az-2', dryRun: false, availabilityZone: 'us-east-1b' }),
      deps,
    );

    // THEN 1a came back first, and the original remembered is the real one
    expect(result.restoredExpired).toBe('exp-az');
    expect(updateInputs().map((i) => i.networkConfiguration?.awsvpcConfiguration?.subnets)).toEqual(
      [
        ['subnet-b', 'subnet-c'],
        ['subnet-a', 'subnet-b', 'subnet-c'],
        ['subnet-a', 'subnet-c'],
      ],
    );
    expect((await readState(deps.table, SERVICE_ARN))?.plan.network?.original).toEqual(
      ORIGINAL_NETWORK,
    );
  });
});
