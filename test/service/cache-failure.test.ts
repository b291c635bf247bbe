import { ItemCache } from '../../service/src/items/item-cache';

import { api, eventually, putItem, startHarness, type Harness } from './harness';

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness({ memcachedNodes: 2 });
});

afterAll(async () => {
  await harness.stop();
});

function nodeOwning(id: string) {
  const endpoint = harness.service.cache.nodeFor(ItemCache.key(id));
  return harness.memcached.find((node) => node.endpoint === endpoint)!;
}

function breakerOf(endpoint: string) {
  return harness.service.cache.breakerStates().find((state) => state.node === endpoint)!.state;
}

test('reads keep succeeding while the memcached node owning the key is killed, and hit again once it is back', async () => {
  // GIVEN a cached item
  await putItem(harness.baseUrl, 'vase', { name: 'Vase', price: 12 });
  const filled = await api(harness.baseUrl, '/api/items/vase');
  expect((await api(harness.baseUrl, '/api/items/vase')).headers.get('x-cache')).toBe('HIT');
  const owner = nodeOwning('vase');

  // WHEN its memcached node dies mid-test
  await owner.kill();

  // THEN every read still answers 200 with the item (from DynamoDB), and the node's breaker opens
  for (let attempt = 0; attempt < 10; attempt += 1) {
    const read = await api(harness.baseUrl, '/api/items/vase');
    expect(read.status).toBe(200);
    expect(read.headers.get('x-cache')).toBe('MISS');
    expect(read.text).toBe(filled.text);
  }
  expect(breakerOf(owner.endpoint)).toBe('open');
  const ready = await api(harness.baseUrl, '/health/ready');
  expect(ready.status).toBe(200);
  expect(ready.json()).toMatchObject({ cache: { nodes: 2, unavailable: 1 } });

  // WHEN the node comes back (empty)
  await owner.restart();

  // THEN after the breaker's probe the item is cached and hit again
  const hit = await eventually(
    () => api(harness.baseUrl, '/api/items/vase'),
    (read) => read.headers.get('x-cache') === 'HIT',
  );
  expect(hit.status).toBe(200);
  expect(hit.text).toBe(filled.text);
  expect(breakerOf(owner.endpoint)).toBe('closed');
});

test('with every memcached node dead, reads, writes and readiness still succeed', async () => {
  // GIVEN both nodes killed
  await Promise.all(harness.memcached.map((node) => node.kill()));

  // WHEN items are written and read
  const put = await putItem(harness.baseUrl, 'rug', { name: 'Rug', price: 70 });
  const reads = await Promise.all(
    Array.from({ length: 5 }, () => api(harness.baseUrl, '/api/items/rug')),
  );
  const update = await putItem(harness.baseUrl, 'rug', { name: 'Rug', price: 60 });
  const afterUpdate = await api(harness.baseUrl, '/api/items/rug');

  // THEN every request succeeds from DynamoDB, and the task stays ready
  expect(put.status).toBe(201);
  expect(reads.map((read) => read.status)).toEqual([200, 200, 200, 200, 200]);
  expect(update.status).toBe(200);
  expect(afterUpdate.json()).toMatchObject({ price: 60, version: 2 });
  expect((await api(harness.baseUrl, '/health/ready')).status).toBe(200);

  // AND the dependency metrics tell the failures apart from successes
  await eventually(
    () =>
      Promise.resolve(
        harness.logs.find(
          (line) => line.Dependency === 'memcached' && line.Outcome === 'failed-before-send',
        ),
      ),
    (lines) => lines.length > 0,
  );
  const outcomes = harness.logs
    .find((line) => line.msg === 'dependency calls' && line.Dependency === 'memcached')
    .map((line) => line.Outcome);
  expect(outcomes).toContain('failed-before-send');
  expect(outcomes).toContain('ok');

  await Promise.all(harness.memcached.map((node) => node.restart()));
});
