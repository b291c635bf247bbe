/**
 * RebootCacheCluster outcomes, classified like the ECS writes (issue 14, item 10): cache-outage's
 * ElastiCache client (`elasticache-api.ts`, signed query requests) against a fake ElastiCache
 * endpoint on loopback that replies late or fails, with the fault proxy between them.
 */
import { REBOOTING, elastiCacheNodes } from '../../lambda/shared/cache-nodes';
import { ElastiCacheApi, parseCacheNodes } from '../../lambda/shared/elasticache-api';
import { FakeElastiCache } from '../support/fake-elasticache';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy';
import { signedClientOptions } from '../support/signed-client-options';

/** Far above the client's timeout: the reply never arrives in time. */
const SLOW_MS = 1_500;

let fake: FakeElastiCache;
let proxy: FaultProxy;
let client: ElastiCacheApi;

beforeEach(async () => {
  fake = await FakeElastiCache.start('blueprint-cache', ['0001', '0002', '0003']);
  proxy = await startFaultProxy({ targetPort: Number(new URL(fake.endpoint).port) });
  client = new ElastiCacheApi(signedClientOptions(proxy.endpoint, [], { requestTimeoutMs: 300 }));
});
afterEach(async () => {
  await proxy.stop();
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

  test('a 500 is UNKNOWN (it may have acted): not repeated, and a read learns the node is not rebooting', async () => {
    fake.injectReboot({ kind: 'server-error' });
    const outcome = await elastiCacheNodes(client).reboot('blueprint-cache', ['0003']);
    expect(outcome).toBe('verified-not-done');
    expect(fake.callsOf('RebootCacheCluster')).toHaveLength(1);
  });

  test('a missing cluster is fatal: thrown with the code ElastiCache sent, not retried', async () => {
    await expect(elastiCacheNodes(client).reboot('no-such-cache', ['0001'])).rejects.toMatchObject({
      name: 'AwsApiError',
      type: 'CacheClusterNotFound',
    });
    expect(fake.callsOf('RebootCacheCluster')).toHaveLength(1);
  });

  test('black hole: GIVEN ElastiCache stops answering THEN the reboot is sent once and the outcome stays unknown', async () => {
    // GIVEN every request from now on swallowed
    proxy.inject({ action: { kind: 'black-hole' }, times: 10 });

    // WHEN
    const outcome = await elastiCacheNodes(client).reboot('blueprint-cache', ['0001']);

    // THEN nothing learned, nothing repeated: the operator must look
    expect(outcome).toBe('unknown');
    expect(proxy.requestsSeen((r) => r.includes('Action=RebootCacheCluster'))).toBe(1);
  });
});

describe('DescribeCacheClusters', () => {
  test('lists the available nodes, sorted, and reads a node whose answer was lost once again', async () => {
    // GIVEN one node already rebooting, and the first answer lost
    fake.clusters.get('blueprint-cache')?.set('0002', REBOOTING);
    proxy.inject({ action: { kind: 'lose-response' } });

    // WHEN / THEN
    expect(await elastiCacheNodes(client).available('blueprint-cache')).toEqual(['0001', '0003']);
    expect(fake.callsOf('DescribeCacheClusters')).toHaveLength(2);
  });

  test('reads node ids and statuses, and not a node type for a node', () => {
    const xml =
      '<DescribeCacheClustersResponse><DescribeCacheClustersResult><CacheClusters><CacheCluster>' +
      '<CacheClusterId>c</CacheClusterId><CacheNodeType>cache.t4g.micro</CacheNodeType>' +
      '<CacheNodes><CacheNode><CacheNodeId>0001</CacheNodeId><CacheNodeStatus>available' +
      '</CacheNodeStatus><Endpoint><Address>a</Address><Port>11211</Port></Endpoint></CacheNode>' +
      '</CacheNodes></CacheCluster></CacheClusters></DescribeCacheClustersResult>' +
      '</DescribeCacheClustersResponse>';
    expect(parseCacheNodes(xml)).toEqual([{ CacheNodeId: '0001', CacheNodeStatus: 'available' }]);
  });
});
