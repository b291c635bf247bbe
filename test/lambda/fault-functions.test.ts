import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECSClient, StopTaskCommand } from '@aws-sdk/client-ecs';
import {
  DescribeCacheClustersCommand,
  ElastiCacheClient,
  RebootCacheClusterCommand,
} from '@aws-sdk/client-elasticache';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';

import { cacheOutage, parseCacheOutageEvent } from '../../lambda/cache-outage/cache-outage';
import {
  emptyResponses,
  parseEmptyResponsesEvent,
} from '../../lambda/empty-responses/empty-responses';
import { latency, parseLatencyEvent } from '../../lambda/latency/latency';
import { parseRegionOutageEvent, regionOutage } from '../../lambda/region-outage/region-outage';
import { parseRestoreEvent, restore } from '../../lambda/restore/restore';
import type { ProbeResult } from '../../lambda/shared/probe';

import { FAULTS_PARAMETER, TestDeps, taskId, testDeps } from './helpers';
import { LocalDynamo, startLocalDynamo } from './local-dynamo';
import { mockAlarm, mockFaultParameter, mockFleet } from './mocks';

const ecs = mockClient(ECSClient);
const cloudWatch = mockClient(CloudWatchClient);
const ssm = mockClient(SSMClient);
const elastiCache = mockClient(ElastiCacheClient);
let dynamo: LocalDynamo;
let deps: TestDeps;
let faultDocument: () => unknown;
let tables = 0;

/** A fault another engineer left, live until 13:00, on a task this test never picks. */
const OTHER_FAULT = {
  type: 'error-status',
  targets: [taskId(9)],
  expiresAt: '2026-03-01T13:00:00.000Z',
  params: { status: 500 },
};
const EXPIRED_FAULT = {
  type: 'latency',
  targets: ['*'],
  expiresAt: '2026-03-01T11:59:00.000Z',
  params: { latencyMs: 100, ratio: 1 },
};

beforeAll(async () => {
  dynamo = await startLocalDynamo();
});
afterAll(async () => {
  await dynamo.close();
});
beforeEach(async () => {
  for (const mock of [ecs, cloudWatch, ssm, elastiCache]) mock.reset();
  deps = testDeps(await dynamo.createTable(`faults-${++tables}`));
  mockFleet(ecs);
  mockAlarm(cloudWatch, 'OK');
  faultDocument = mockFaultParameter(ssm, { faults: [OTHER_FAULT, EXPIRED_FAULT] });
});

describe('empty-responses', () => {
  test('adds one empty-response fault on the chosen task ids, expiring with the experiment', async () => {
    // WHEN
    const event = parseEmptyResponsesEvent(
      { experimentId: 'exp-empty', dryRun: false, count: 1, ratio: 0.5, durationMinutes: 10 },
      deps.env,
    );
    await emptyResponses(event, deps);

    // THEN other live faults stay, the expired one is dropped, ours is added
    expect(ssm).toReceiveCommandWith(PutParameterCommand, {
      Name: FAULTS_PARAMETER,
      Overwrite: true,
      Type: 'String',
    });
    expect(faultDocument()).toEqual({
      faults: [
        OTHER_FAULT,
        {
          type: 'empty-response',
          targets: [taskId(1)],
          expiresAt: '2026-03-01T12:10:00.000Z',
          params: { ratio: 0.5 },
        },
      ],
    });
    expect(ecs).not.toReceiveCommand(StopTaskCommand);
  });

  test('ratio defaults to every response', async () => {
    await emptyResponses(
      parseEmptyResponsesEvent({ experimentId: 'exp-empty', dryRun: false }, deps.env),
      deps,
    );
    expect(faultDocument()).toMatchObject({ faults: [OTHER_FAULT, { params: { ratio: 1 } }] });
  });

  test('a missing parameter is treated as an empty document', async () => {
    faultDocument = mockFaultParameter(ssm);
    await emptyResponses(
      parseEmptyResponsesEvent({ experimentId: 'exp-empty', dryRun: false }, deps.env),
      deps,
    );
    expect(faultDocument()).toMatchObject({ faults: [{ type: 'empty-response' }] });
  });

  test('an unreadable fault document is refused, not overwritten', async () => {
    faultDocument = mockFaultParameter(ssm, { faults: [{ type: 'meteor-strike' }] });
    await expect(
      emptyResponses(
        parseEmptyResponsesEvent({ experimentId: 'exp-empty', dryRun: false }, deps.env),
        deps,
      ),
    ).rejects.toThrow('the fault document has an unreadable fault at index 0');
    expect(ssm).not.toReceiveCommand(PutParameterCommand);
  });

  test('restore removes exactly its fault and leaves the others', async () => {
    // GIVEN
    await emptyResponses(
      parseEmptyResponsesEvent({ experimentId: 'exp-empty', dryRun: false }, deps.env),
      deps,
    );

    // WHEN
    const result = await restore(parseRestoreEvent({ experimentId: 'exp-empty' }, deps.env), deps);

    // THEN the document is back to what it was, less the expired fault
    expect(result.outcomes).toEqual({ faultsRemoved: 1 });
    expect(faultDocument()).toEqual({ faults: [OTHER_FAULT] });
  });
});

describe('latency', () => {
  test('adds a latency fault with latencyMs and ratio', async () => {
    const event = parseLatencyEvent(
      { experimentId: 'exp-slow', dryRun: false, percent: 50, latencyMs: 800, ratio: 0.25 },
      deps.env,
    );
    const result = await latency(event, deps);
    expect(result.plan.addFaults).toEqual([
      {
        type: 'latency',
        targets: [taskId(1), taskId(2)],
        expiresAt: '2026-03-01T12:15:00.000Z',
        params: { ratio: 0.25, latencyMs: 800 },
      },
    ]);
    expect(faultDocument()).toMatchObject({ faults: [OTHER_FAULT, { type: 'latency' }] });
  });

  test('a share over the cap is refused and the document is untouched', async () => {
    const event = parseLatencyEvent(
      { experimentId: 'exp-slow', dryRun: false, percent: 75, latencyMs: 800 },
      deps.env,
    );
    await expect(latency(event, deps)).rejects.toThrow(
      'a latency fault on 3 task(s) would leave 3 of 4',
    );
    expect(ssm).not.toReceiveCommand(PutParameterCommand);
  });
});

describe('cache-outage', () => {
  test('adds a cache-blackhole fault and reboots no node unless asked', async () => {
    await cacheOutage(
      parseCacheOutageEvent({ experimentId: 'exp-cache', dryRun: false, count: 2 }, deps.env),
      deps,
    );
    expect(faultDocument()).toMatchObject({
      faults: [
        OTHER_FAULT,
        { type: 'cache-blackhole', targets: [taskId(1), taskId(2)], params: { ratio: 1 } },
      ],
    });
    expect(elastiCache).not.toReceiveAnyCommand();
  });

  test('rebootNodes reboots at most MAX_TASK_SHARE of the available nodes', async () => {
    // GIVEN three available nodes and one that is already rebooting
    elastiCache.on(DescribeCacheClustersCommand).resolves({
      CacheClusters: [
        {
          CacheNodes: [
            { CacheNodeId: '0001', CacheNodeStatus: 'available' },
            { CacheNodeId: '0002', CacheNodeStatus: 'available' },
            { CacheNodeId: '0003', CacheNodeStatus: 'rebooting cache cluster nodes' },
            { CacheNodeId: '0004', CacheNodeStatus: 'available' },
          ],
        },
      ],
    });
    elastiCache.on(RebootCacheClusterCommand).resolves({});

    // WHEN
    const event = parseCacheOutageEvent(
      { experimentId: 'exp-cache', dryRun: false, rebootNodes: true },
      deps.env,
    );
    const result = await cacheOutage(event, deps);

    // THEN floor(3 x 0.5) = 1 node
    expect(elastiCache).toReceiveCommandWith(DescribeCacheClustersCommand, {
      CacheClusterId: 'blueprint-cache',
      ShowCacheNodeInfo: true,
    });
    expect(elastiCache).toReceiveCommandTimes(RebootCacheClusterCommand, 1);
    expect(result.plan.rebootCacheNodes?.nodeIds).toHaveLength(1);
    expect(result.outcomes?.rebootedCacheNodes).toBe('done');
  });

  test('a cluster of one node is never rebooted', async () => {
    elastiCache.on(DescribeCacheClustersCommand).resolves({
      CacheClusters: [{ CacheNodes: [{ CacheNodeId: '0001', CacheNodeStatus: 'available' }] }],
    });
    const event = parseCacheOutageEvent(
      { experimentId: 'exp-cache', dryRun: false, rebootNodes: true },
      deps.env,
    );
    await expect(cacheOutage(event, deps)).rejects.toThrow(
      'cache cluster blueprint-cache has 1 available node(s); rebooting even one is over the cap of 0',
    );
    expect(elastiCache).not.toReceiveCommand(RebootCacheClusterCommand);
    expect(ssm).not.toReceiveCommand(PutParameterCommand);
  });
});

describe('region-outage', () => {
  const healthy = (name: string): ProbeResult => ({
    name,
    url: `https://${name}.example`,
    ok: true,
    status: 200,
    bytes: 30,
    latencyMs: 20,
  });

  test('gives every task health-fail when every other region is healthy', async () => {
    deps = testDeps(deps.table, { probes: [healthy('eu-west-1'), healthy('ap-northeast-1')] });
    const result = await regionOutage(
      parseRegionOutageEvent({ experimentId: 'exp-region', dryRun: false }, deps.env),
      deps,
    );
    expect(result.plan.affectedTaskIds).toEqual(['*']);
    expect(faultDocument()).toEqual({
      faults: [
        OTHER_FAULT,
        {
          type: 'health-fail',
          targets: ['*'],
          expiresAt: '2026-03-01T12:15:00.000Z',
          params: { status: 503 },
        },
      ],
    });
  });

  test('refuses while another region is out: never more than one region at once', async () => {
    deps = testDeps(deps.table, {
      probes: [
        healthy('eu-west-1'),
        { ...healthy('ap-northeast-1'), ok: false, status: 503, failure: 'status' },
      ],
    });
    await expect(
      regionOutage(
        parseRegionOutageEvent({ experimentId: 'exp-region', dryRun: false }, deps.env),
        deps,
      ),
    ).rejects.toThrow(
      'other region(s) are not healthy right now: ap-northeast-1 (status); only one region may be out at a time',
    );
    expect(ssm).not.toReceiveCommand(PutParameterCommand);
  });

  test('refuses when no other region is configured to take the traffic', async () => {
    await expect(
      regionOutage(
        parseRegionOutageEvent({ experimentId: 'exp-region', dryRun: false }, deps.env),
        deps,
      ),
    ).rejects.toThrow('CANARY_TARGETS names no other region');
  });

  test('restore takes health-fail off every task', async () => {
    deps = testDeps(deps.table, { probes: [healthy('eu-west-1')] });
    await regionOutage(
      parseRegionOutageEvent({ experimentId: 'exp-region', dryRun: false }, deps.env),
      deps,
    );
    await restore(parseRestoreEvent({ experimentId: 'exp-region' }, deps.env), deps);
    expect(faultDocument()).toEqual({ faults: [OTHER_FAULT] });
  });
});
