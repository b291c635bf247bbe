/** The lease and the remembered state, against a real DynamoDB-API server (dynalite). */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECSClient, StopTaskCommand } from '@aws-sdk/client-ecs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';

import { LeaseHeldError } from '../../lambda/shared/errors';
import {
  StateTable,
  acquireLease,
  readLease,
  readState,
  releaseLease,
  createState,
} from '../../lambda/shared/state-table';
import { parseStopTasksEvent, stopTasks } from '../../lambda/stop-tasks/stop-tasks';

import { SERVICE_ARN, testDeps } from './helpers';
import { LocalDynamo, startLocalDynamo } from './local-dynamo';
import { ORIGINAL_NETWORK, mockAlarm, mockFaultParameter, mockFleet } from './mocks';

const NOW = new Date('2026-03-01T12:00:00Z');
const at = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000);

let dynamo: LocalDynamo;
let table: StateTable;
let tables = 0;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
});
afterAll(async () => {
  await dynamo.close();
});
beforeEach(async () => {
  table = await dynamo.createTable(`lease-${++tables}`);
});

describe('the lease', () => {
  test('of ten concurrent acquisitions exactly one wins; the others learn who holds it', async () => {
    // WHEN ten experiments race for the same service
    const holders = Array.from({ length: 10 }, (_, i) => `exp-${i}`);
    const results = await Promise.allSettled(
      holders.map((h) => acquireLease(table, SERVICE_ARN, h, at(10), NOW)),
    );

    // THEN
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [holders[i]] : []));
    expect(won).toHaveLength(1);
    const lease = await readLease(table, SERVICE_ARN);
    expect(lease?.holder).toBe(won[0]);
    for (const r of results.filter((x) => x.status === 'rejected')) {
      expect(r.reason).toBeInstanceOf(LeaseHeldError);
      expect((r.reason as LeaseHeldError).holder).toBe(won[0]);
    }
  });

  test('an expired lease frees itself: the next experiment takes it and learns whom it replaced', async () => {
    // GIVEN exp-a held it until 12:10
    await acquireLease(table, SERVICE_ARN, 'exp-a', at(10), NOW);

    // WHEN exp-b asks at 12:09, then at 12:10
    await expect(acquireLease(table, SERVICE_ARN, 'exp-b', at(20), at(9))).rejects.toThrow(
      LeaseHeldError,
    );
    const taken = await acquireLease(table, SERVICE_ARN, 'exp-b', at(20), at(10));

    // THEN
    expect(taken.replaced).toEqual({ holder: 'exp-a', expiresAt: at(10) });
    expect(await readLease(table, SERVICE_ARN)).toEqual({ holder: 'exp-b', expiresAt: at(20) });
  });

  test('the holder may take its own lease again (a retried invocation)', async () => {
    await acquireLease(table, SERVICE_ARN, 'exp-a', at(10), NOW);
    await expect(acquireLease(table, SERVICE_ARN, 'exp-a', at(10), at(1))).resolves.toMatchObject({
      replaced: { holder: 'exp-a' },
    });
  });

  test('the lease carries the TTL attribute in epoch seconds', async () => {
    await acquireLease(table, SERVICE_ARN, 'exp-a', at(10), NOW);
    const lease = await readLease(table, SERVICE_ARN);
    expect(lease?.expiresAt.getTime()).toBe(Date.parse('2026-03-01T12:10:00Z'));
  });

  test('only the holder releases it', async () => {
    await acquireLease(table, SERVICE_ARN, 'exp-a', at(10), NOW);
    expect(await releaseLease(table, SERVICE_ARN, 'exp-b')).toBe(false);
    expect((await readLease(table, SERVICE_ARN))?.holder).toBe('exp-a');
    expect(await releaseLease(table, SERVICE_ARN, 'exp-a')).toBe(true);
    expect(await readLease(table, SERVICE_ARN)).toBeUndefined();
  });
});

describe('the remembered state', () => {
  test('keeps the exact network configuration and faults through DynamoDB', async () => {
    const state = {
      experimentId: 'exp-a',
      kind: 'az-outage' as const,
      startedAt: NOW.toISOString(),
      faultExpiresAt: at(10).toISOString(),
      plan: {
        summary: 'take us-east-1a out',
        affectedTaskIds: ['t1'],
        stopTasks: [{ taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/c/t1', taskId: 't1' }],
        addFaults: [
          {
            type: 'latency' as const,
            targets: ['t1'],
            expiresAt: at(10).toISOString(),
            params: { latencyMs: 800, ratio: 0.5 },
          },
        ],
        network: {
          original: ORIGINAL_NETWORK,
          wanted: { ...ORIGINAL_NETWORK, subnets: ['subnet-b', 'subnet-c'] },
        },
      },
    };
    await createState(table, SERVICE_ARN, state, undefined);
    expect(await readState(table, SERVICE_ARN)).toEqual({
      ...state,
      status: 'planned',
      version: 1,
    });
  });
});

describe('two experiments started at once', () => {
  const ecs = mockClient(ECSClient);
  const cloudWatch = mockClient(CloudWatchClient);
  const ssm = mockClient(SSMClient);
  afterAll(() => {
    ecs.restore();
    cloudWatch.restore();
    ssm.restore();
  });

  test('only one acts on the service; the other is refused with the holder named', async () => {
    // GIVEN
    mockFleet(ecs);
    mockAlarm(cloudWatch, 'OK');
    mockFaultParameter(ssm, { faults: [] });
    const deps = testDeps(table);
    const run = (id: string) =>
      stopTasks(parseStopTasksEvent({ experimentId: id, dryRun: false, count: 2 }, deps.env), deps);

    // WHEN
    const [a, b] = await Promise.allSettled([run('exp-a'), run('exp-b')]);

    // THEN
    const outcomes = [a, b].map((r) => r.status);
    expect(outcomes.sort()).toEqual(['fulfilled', 'rejected']);
    const refused = [a, b].find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(LeaseHeldError);
    expect(ecs).toReceiveCommandTimes(StopTaskCommand, 2);
  });
});
