import { Client } from 'memjs';

import { ItemCache } from '../../service/src/items/item-cache';

import { api, eventually, putItem, startHarness, type Harness } from './harness';

describe('health endpoints and self-ejection', () => {
  let harness: Harness;
  let clockOffsetMs = 0;
  const now = () => Date.now() + clockOffsetMs;

  beforeAll(async () => {
    harness = await startHarness({ memcachedNodes: 1, tuning: { clock: now } });
  });

  afterAll(async () => {
    await harness.stop();
  });

  test('/health/live answers 200 without the readiness token', async () => {
    const live = await api(harness.baseUrl, '/health/live');
    expect(live.status).toBe(200);
    expect(live.json()).toEqual({ status: 'live' });
    expect(live.text).not.toContain('"status":"ready"');
  });

  test('/health/ready answers 200 with a JSON body that opens with the default token', async () => {
    const ready = await api(harness.baseUrl, '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.headers.get('content-type')).toMatch(/^application\/json/);
    expect(ready.headers.get('cache-control')).toBe('no-store');
    expect(ready.text.startsWith('{"status":"ready"')).toBe(true);
    expect(ready.json()).toMatchObject({
      status: 'ready',
      taskId: 'task-under-test',
      availabilityZone: 'us-east-1a',
      region: 'us-east-1',
      activeFaults: [],
      cache: { nodes: 1, unavailable: 0 },
    });
  });

  test('malformed responses past the threshold eject the task; it comes back when the window moves on', async () => {
    // GIVEN items whose cache entries are corrupt (a truncated body, as a broken node might hold)
    const memcached = Client.create(harness.memcached[0].endpoint, {
      logger: { log: () => undefined },
    });
    const ids = ['pen', 'ink', 'nib'];
    for (const id of ids) {
      await putItem(harness.baseUrl, id, { name: id, price: 2 });
      await memcached.set(ItemCache.key(id), 'etag123\n{"id":"' + id + '","name":', {
        expires: 60,
      });
    }
    clockOffsetMs += 3000; // the writes above leave the window

    // WHEN clients read them (the readiness sentinel itself is fine)
    const reads = [];
    for (let round = 0; round < 2; round += 1) {
      for (const id of ids) reads.push(await api(harness.baseUrl, `/api/items/${id}`));
    }

    // THEN the hook counted each malformed response, and readiness fails on the share alone
    expect(
      reads.every((read) => read.status === 200 && read.headers.get('x-cache') === 'HIT'),
    ).toBe(true);
    const malformed = harness.logs.find((line) => line.msg === 'malformed response');
    expect(malformed).toHaveLength(6);
    expect(malformed[0]).toMatchObject({ MalformedResponses: 1, ZeroLengthResponses: 0 });
    const ejected = await api(harness.baseUrl, '/health/ready');
    expect(ejected.status).toBe(503);
    expect(ejected.json<{ reasons: string[] }>().reasons).toEqual([
      'self-ejected: 6 of 6 responses in the last 2s were zero-length or malformed',
    ]);

    // WHEN the bad entries are gone and the window has moved on
    for (const id of ids) await memcached.delete(ItemCache.key(id));
    memcached.close();
    clockOffsetMs += 3000;

    // THEN the task is ready again
    expect((await api(harness.baseUrl, '/health/ready')).status).toBe(200);
  });

  test('a bad response below the threshold does not eject the task', async () => {
    clockOffsetMs += 3000;
    const memcached = Client.create(harness.memcached[0].endpoint, {
      logger: { log: () => undefined },
    });
    await putItem(harness.baseUrl, 'cup', { name: 'Cup', price: 3 });
    clockOffsetMs += 3000; // the write leaves the window
    await memcached.set(ItemCache.key('cup'), 'etag123\n{"id":', { expires: 60 });
    await api(harness.baseUrl, '/api/items/cup');
    await memcached.delete(ItemCache.key('cup'));
    memcached.close();
    for (let round = 0; round < 9; round += 1) await api(harness.baseUrl, '/api/items/cup');

    const ready = await api(harness.baseUrl, '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.json()).toMatchObject({ window: { total: 10, bad: 1 } });
  });
});

describe('a custom health token and the per-client rate limit', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({
      memcachedNodes: 1,
      env: { HEALTH_TOKEN: 'catalog-ok-7f3a', RATE_LIMIT_PER_MINUTE: '5' },
    });
  });

  afterAll(async () => {
    await harness.stop();
  });

  test('the ready body contains the configured token literally', async () => {
    const ready = await api(harness.baseUrl, '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.text).toContain('catalog-ok-7f3a');
    expect(ready.json()).toMatchObject({ status: 'ready', token: 'catalog-ok-7f3a' });
  });

  test('a client over its limit gets 429 with Retry-After and a JSON body; health checks are not limited', async () => {
    const responses = [];
    for (let index = 0; index < 7; index += 1) {
      responses.push(await api(harness.baseUrl, '/api/whoami'));
    }
    expect(responses.slice(0, 5).map((response) => response.status)).toEqual([
      200, 200, 200, 200, 200,
    ]);
    const limited = responses[5];
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.json()).toMatchObject({ error: 'rate_limited' });

    for (let index = 0; index < 8; index += 1) {
      expect((await api(harness.baseUrl, '/health/ready')).status).toBe(200);
    }
  });
});

describe('load shedding under pressure', () => {
  let harness: Harness;

  beforeAll(async () => {
    // A heap limit of one byte: the service is "under pressure" from its first sample.
    harness = await startHarness({
      memcachedNodes: 1,
      tuning: { limits: { maxHeapUsedBytes: 1, pressureSampleIntervalMs: 10 } },
    });
  });

  afterAll(async () => {
    await harness.stop();
  });

  test('API requests get 503 with Retry-After and JSON, readiness reports the overload, liveness stays up', async () => {
    const shed = await eventually(
      () => api(harness.baseUrl, '/api/whoami'),
      (response) => response.status === 503,
    );
    expect(shed.headers.get('retry-after')).toBe('5');
    expect(shed.json()).toMatchObject({ error: 'overloaded' });

    const ready = await api(harness.baseUrl, '/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.json<{ reasons: string[] }>().reasons).toContain('overloaded');
    expect((await api(harness.baseUrl, '/health/live')).status).toBe(200);
  });
});
