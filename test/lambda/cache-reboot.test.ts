/**
 * RebootCacheCluster outcomes, classified like the ECS writes (issue 14, item 10): the real
 * ElastiCache client against a fake ElastiCache endpoint on loopback that replies late.
 */
import type { ElastiCacheClient } from '@aws-sdk/client-elasticache';

import {
  REBOOTING,
  createElastiCacheClient,
  elastiCacheNodes,
} from '../../lambda/shared/cache-nodes';
import { FakeElastiCache } from '../support/fake-elasticache';

/** Far above the client's timeout: the reply never arrives in time. */
const SLOW_MS = 1_500;

let fake: FakeElastiCache;
let client: ElastiCacheClient;

beforeEach(async () => {
  fake = await FakeElastiCache.start('blueprint-cache', ['0001', '0002', '0003']);
  client = createElastiCacheClient({
    endpoint: fake.endpoint,
    region: 'us-east-1',
    requestTimeoutMs: 300,
  });
});
afterEach(async () => {
  client.destroy();
  await fake.close();
});

const statusOf = (node: string) => fake.clusters.get('blueprint-cache')?.get(node);

describe('RebootCacheCluster', () => {
  test('a reboot that answers in time is done', async () => {
    const outcome = await elastiCacheNodes(client).reboot('blueprint-cache', ['0001']);
    expect(outcome).toBe('done');
    expect(statusOf('0001')).toBe(REBOOTING);
  });

  test('a reboot that times out after taking effect is sent once and verified done by a read', async () => {
    // GIVEN the reboot happens but its reply comes after the client gave up
    fake.injectReboot({ kind: 'slow', delayMs: SLOW_MS, applied: true });

    // WHEN
    const outcome = await elastiCacheNodes(client).reboot('blueprint-cache', ['0001']);

    // THEN it was not retried blindly, and a DescribeCacheClusters learned the truth
    expect(outcome).toBe('verified-done');
    expect(fake.callsOf('RebootCacheCluster')).toHaveLength(1);
    expect(fake.calls.map((c) => c.action)).toEqual([
      'RebootCacheCluster',
      'DescribeCacheClusters',
    ]);
  });

  test('a reboot that timed out without effect is verified-not-done and still not repeated', async () => {
    fake.injectReboot({ kind: 'slow', delayMs: SLOW_MS, applied: false });
    const outcome = await elastiCacheNodes(client).reboot('blueprint-cache', ['0001', '0002']);
    expect(outcome).toBe('verified-not-done');
    expect(fake.callsOf('RebootCacheCluster')).toHaveLength(1);
    expect(statusOf('0001')).toBe('available');
  });

  test('a 500 is retried (the request was refused, so repeating it is safe)', async () => {
    fake.injectReboot({ kind: 'server-error' });
    const outcome = await elastiCacheNodes(client).reboot('blueprint-cache', ['0003']);
    expect(outcome).toBe('done');
    expect(fake.callsOf('RebootCacheCluster')).toHaveLength(2);
  });

  test('a missing cluster is fatal: thrown as is, not retried', async () => {
    await expect(elastiCacheNodes(client).reboot('no-such-cache', ['0001'])).rejects.toMatchObject({
      name: 'CacheClusterNotFoundFault',
    });
    expect(fake.callsOf('RebootCacheCluster')).toHaveLength(1);
  });
});
