import { Client } from 'memjs';

import { ItemCache } from '../../service/src/items/item-cache';

import { api, eventually, faultFor, putItem, startHarness, type Harness } from './harness';

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

  test('fault: corrupt cache entries: the guard answers 500 with JSON instead of the malformed body, and the task ejects itself until the hold has passed', async () => {
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

    // THEN no client got the malformed body: the guard answered 500 with a JSON error instead
    for (const read of reads) {
      expect(read.status).toBe(500);
      expect(read.headers.get('content-type')).toMatch(/^application\/json/);
      expect(read.headers.get('etag')).toBeNull();
      expect(read.json()).toEqual({
        error: 'invalid_response',
        message: 'the service produced an invalid response; retry',
        requestId: read.headers.get('x-request-id'),
      });
    }
    // AND each one was counted, as malformed and as replaced
    const malformed = harness.logs.find(
      (line) => line.msg === 'malformed response replaced by the guard',
    );
    expect(malformed).toHaveLength(6);
    expect(malformed[0]).toMatchObject({ guardReplaced: true, statusCode: 500 });
    harness.service.requestMetrics.flush();
    const metrics = harness.logs.find((line) => line.msg === 'request metrics');
    const sum = (field: string) => metrics.reduce((total, line) => total + Number(line[field]), 0);
    // (every bad response this service sent so far, each once)
    const logged = (prefix: string) =>
      harness.logs.find((line) => typeof line.msg === 'string' && line.msg.startsWith(prefix));
    expect(sum('MalformedResponses')).toBe(logged('malformed response').length);
    expect(sum('MalformedResponses')).toBeGreaterThanOrEqual(6);
    expect(sum('GuardedResponses')).toBe(
      harness.logs.find((line) => line.guardReplaced === true).length,
    );
    expect(sum('ZeroLengthResponses')).toBe(logged('zero-length response').length);
    // AND readiness fails on the share alone, saying why and what brings it back
    const ejected = await api(harness.baseUrl, '/health/ready');
    expect(ejected.status).toBe(503);
    expect(ejected.json<{ reasons: string[] }>().reasons).toEqual([
      'self-ejected: 5 of 5 API responses in 2s were zero-length or malformed (ejection 1 in a row, hold 2s); ready again 2s after the last bad response, or after 10 good API responses in a row (0 so far)',
    ]);

    // WHEN the bad entries are gone but the hold has not passed
    for (const id of ids) await memcached.delete(ItemCache.key(id));
    memcached.close();
    clockOffsetMs += 1000;

    // THEN it is still ejected
    expect((await api(harness.baseUrl, '/health/ready')).status).toBe(503);

    // WHEN the hold has passed THEN the task is ready again
    clockOffsetMs += 1500;
    expect((await api(harness.baseUrl, '/health/ready')).status).toBe(200);
  });

  test('a bad response below the threshold does not eject the task', async () => {
    clockOffsetMs += 30_000;
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

describe('self-ejection with its production defaults, over HTTP', () => {
  // 30 s window, 20 % bad, at least 20 responses, hold 30 s doubling: the service's defaults.
  let harness: Harness;
  let clockOffsetMs = 0;
  const now = () => Date.now() + clockOffsetMs;

  beforeAll(async () => {
    harness = await startHarness({
      memcachedNodes: 1,
      env: { RATE_LIMIT_PER_MINUTE: '100000' },
      tuning: { clock: now, selfEjection: {} },
    });
    await putItem(harness.baseUrl, 'lamp', { name: 'Lamp', price: 9 });
    clockOffsetMs += 60_000;
  });

  afterAll(async () => {
    await harness.stop();
  });

  afterEach(async () => {
    await harness.writeFaults([]);
    clockOffsetMs += 3_600_000; // past any hold, and past the forgiving time
  });

  const ready = () => api(harness.baseUrl, '/health/ready');
  /** An empty-response fault in force on the service's (shifted) clock. */
  const emptyResponses = (params: Record<string, unknown> = {}) => ({
    type: 'empty-response',
    targets: ['*'],
    expiresAt: new Date(now() + 600_000).toISOString(),
    params,
  });

  test('fault: empty 200s on every API call are not hidden by 404s for unknown paths or by health checks', async () => {
    // GIVEN a task that answers every API call with an empty 200 (the guard bypassed, as in the incident)
    await harness.writeFaults([emptyResponses()]);

    // WHEN 20 API calls are mixed with 100 requests for /favicon.ico, 20 for an unknown path under
    // /api/ (a well-formed JSON 404) and 40 health checks
    for (let index = 0; index < 20; index += 1) {
      const response = await api(harness.baseUrl, '/api/items/lamp');
      expect(response).toMatchObject({ status: 200, text: '' });
      for (let other = 0; other < 5; other += 1) {
        expect((await api(harness.baseUrl, '/favicon.ico')).status).toBe(404);
      }
      expect((await api(harness.baseUrl, '/api/no-such-route')).status).toBe(404);
      expect((await api(harness.baseUrl, '/health/live')).status).toBe(200);
      await ready();
    }

    // THEN only the API responses counted, and 20 of 20 bad ejects the task
    const ejected = await ready();
    expect(ejected.status).toBe(503);
    expect(ejected.json<{ reasons: string[] }>().reasons[0]).toMatch(
      /^self-ejected: 20 of 20 API responses in 30s were zero-length or malformed \(ejection 1 in a row, hold 30s\)/,
    );
  });

  test('fault: a task ejected and then starved of traffic is not readmitted by its emptied window; a second ejection holds it 60 s', async () => {
    // GIVEN a task ejected once, readmitted after its 30 s hold
    await harness.writeFaults([emptyResponses()]);
    for (let index = 0; index < 20; index += 1) await api(harness.baseUrl, '/api/items/lamp');
    expect((await ready()).status).toBe(503);
    clockOffsetMs += 29_000;
    expect((await ready()).status).toBe(503);
    clockOffsetMs += 1_000;
    await harness.writeFaults([]);
    expect((await ready()).status).toBe(200);

    // WHEN it fails again soon after (the same broken part) and then gets no traffic
    await harness.writeFaults([emptyResponses()]);
    for (let index = 0; index < 20; index += 1) await api(harness.baseUrl, '/api/items/lamp');
    await harness.writeFaults([]);
    clockOffsetMs += 31_000; // the 30 s window is empty now

    // THEN it stays out, and readiness says for how long
    const held = await ready();
    expect(held.status).toBe(503);
    expect(held.json<{ reasons: string[] }>().reasons[0]).toMatch(
      /^self-ejected: 20 of 20 API responses in 30s were zero-length or malformed \(ejection 2 in a row, hold 60s\); ready again 29s after the last bad response/,
    );
    clockOffsetMs += 29_000;
    expect((await ready()).status).toBe(200);
  });

  test('fault: with the guard on (bypassGuard false), clients get 500s with JSON bodies, and the task still ejects itself', async () => {
    await harness.writeFaults([emptyResponses({ bypassGuard: false })]);

    const responses = [];
    for (let index = 0; index < 20; index += 1) {
      responses.push(await api(harness.baseUrl, '/api/items/lamp'));
    }

    for (const response of responses) {
      expect(response.status).toBe(500);
      expect(response.headers.get('x-fault-injected')).toBe('empty-response');
      expect(response.json()).toMatchObject({ error: 'invalid_response' });
    }
    expect(
      harness.logs.find((line) => line.msg === 'zero-length response replaced by the guard'),
    ).toHaveLength(20);
    expect((await ready()).status).toBe(503);
  });

  test('fault: a write whose response body is lost to the guard tells the client it may have been applied', async () => {
    await harness.writeFaults([emptyResponses({ bypassGuard: false })]);

    const response = await putItem(harness.baseUrl, 'desk', { name: 'Desk', price: 90 });

    expect(response.status).toBe(500);
    expect(response.json()).toMatchObject({
      error: 'invalid_response',
      message:
        'the service produced an invalid response after handling the request: it may have been applied; read it back, or retry with the same Idempotency-Key',
    });
    await harness.writeFaults([]);
    expect((await api(harness.baseUrl, '/api/items/desk')).json()).toMatchObject({ name: 'Desk' });
  });
});

describe('self-ejection and the rate limiter', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({ memcachedNodes: 1, env: { RATE_LIMIT_PER_MINUTE: '6' } });
  });

  afterAll(async () => {
    await harness.stop();
  });

  test('fault: 429s do not count as good responses: they cannot hide empty 200s', async () => {
    // GIVEN empty 200s on every API call (TEST_TUNING: at least 5 responses, 50 % bad)
    await harness.writeFaults([faultFor('empty-response', 600_000)]);

    // WHEN a client makes 6 calls within its limit and 20 more over it
    const statuses = [];
    for (let index = 0; index < 26; index += 1) {
      statuses.push((await api(harness.baseUrl, '/api/whoami')).status);
    }

    // THEN the empty 200s alone decide: the task ejects itself at the fifth
    expect(statuses.filter((status) => status === 200)).toHaveLength(6);
    expect(statuses.filter((status) => status === 429)).toHaveLength(20);
    const ready = await api(harness.baseUrl, '/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.json<{ reasons: string[] }>().reasons[0]).toMatch(
      /^self-ejected: 5 of 5 API responses/,
    );
  });
});

describe('readiness reads DynamoDB itself, not the cache', () => {
  let harness: Harness;

  beforeEach(async () => {
    harness = await startHarness({ memcachedNodes: 1, faultProxies: true });
  });

  afterEach(async () => {
    await harness.stop();
  });

  async function sentinelIsCached(): Promise<void> {
    await api(harness.baseUrl, '/health/ready');
    const read = await api(harness.baseUrl, '/api/items/_health-sentinel');
    expect(read.headers.get('x-cache')).toBe('HIT');
  }

  test('fault: DynamoDB black-holed: readiness fails at the next check although the sentinel is cached; liveness stays up; it recovers', async () => {
    // GIVEN a ready task whose sentinel item is in the cache
    await sentinelIsCached();
    expect((await api(harness.baseUrl, '/health/ready')).status).toBe(200);

    // WHEN DynamoDB stops answering (connections accepted, nothing comes back)
    harness.dynamoDbProxy?.setMode('black-hole');

    // THEN the next readiness check fails, naming DynamoDB, while the cached read still works
    const down = await api(harness.baseUrl, '/health/ready');
    expect(down.status).toBe(503);
    const reasons = down.json<{ reasons: string[] }>().reasons;
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/^DynamoDB sentinel read failed: /);
    expect((await api(harness.baseUrl, '/health/live')).status).toBe(200);

    // WHEN DynamoDB answers again THEN readiness recovers
    harness.dynamoDbProxy?.heal();
    const back = await eventually(
      () => api(harness.baseUrl, '/health/ready'),
      (response) => response.status === 200,
      10_000,
    );
    expect(back.status).toBe(200);
  });

  test('fault: DynamoDB stopped: readiness fails at the next check although the sentinel is cached', async () => {
    await sentinelIsCached();

    await harness.dynalite.stop();

    const down = await api(harness.baseUrl, '/health/ready');
    expect(down.status).toBe(503);
    expect(down.json<{ reasons: string[] }>().reasons).toEqual([
      expect.stringMatching(/^DynamoDB sentinel read failed: /),
    ]);
    expect((await api(harness.baseUrl, '/health/live')).status).toBe(200);
  });
});

describe('load shedding on real overload only', () => {
  describe('with the production limits', () => {
    let harness: Harness;

    beforeAll(async () => {
      // The production limits (TEST_TUNING raises them), sampled often.
      harness = await startHarness({
        memcachedNodes: 1,
        env: { RATE_LIMIT_PER_MINUTE: '100000' },
        tuning: { limits: { pressureSampleIntervalMs: 20 } },
      });
    });

    afterAll(async () => {
      await harness.stop();
    });

    test('busy is not broken: a saturated event loop that still answers quickly sheds nothing and stays ready', async () => {
      // GIVEN an event loop kept busy in 5 ms slices (utilisation near 1, short delays)
      let spinning = true;
      const spin = () => {
        const until = performance.now() + 5;
        while (performance.now() < until) {
          // busy
        }
        if (spinning) setImmediate(spin);
      };
      setImmediate(spin);
      try {
        // WHEN 400 requests arrive, 20 at a time, with readiness checks between the batches
        const statuses: number[] = [];
        const readiness: number[] = [];
        for (let batch = 0; batch < 20; batch += 1) {
          const responses = await Promise.all(
            Array.from({ length: 20 }, () => api(harness.baseUrl, '/api/whoami')),
          );
          statuses.push(...responses.map((response) => response.status));
          readiness.push((await api(harness.baseUrl, '/health/ready')).status);
        }

        // THEN every request was served and readiness never failed
        expect(statuses.filter((status) => status !== 200)).toEqual([]);
        expect(readiness.filter((status) => status !== 200)).toEqual([]);
      } finally {
        spinning = false;
      }
    });
  });

  describe('with an injected overload signal', () => {
    let harness: Harness;
    let eventLoopDelayMs = 0;

    beforeAll(async () => {
      harness = await startHarness({
        memcachedNodes: 1,
        tuning: {
          limits: {
            pressureSampleIntervalMs: 10,
            pressureSampler: () => ({ eventLoopDelayMs, heapUsedBytes: 1, rssBytes: 1 }),
          },
        },
      });
    });

    afterAll(async () => {
      await harness.stop();
    });

    test('fault: event-loop delay 2 s: API requests get 503 with Retry-After and JSON, readiness and liveness stay 200, and it stops when the delay does', async () => {
      // WHEN the event loop runs 2 s late (the production limit is 500 ms)
      eventLoopDelayMs = 2000;

      // THEN API requests are shed
      const shed = await eventually(
        () => api(harness.baseUrl, '/api/whoami'),
        (response) => response.status === 503,
      );
      expect(shed.status).toBe(503);
      expect(shed.headers.get('retry-after')).toBe('5');
      expect(shed.json()).toMatchObject({ error: 'overloaded' });
      harness.service.requestMetrics.flush();
      const metrics = harness.logs.find((line) => line.msg === 'request metrics');
      expect(metrics.reduce((n, line) => n + Number(line.ShedRequests), 0)).toBeGreaterThan(0);
      // AND readiness and liveness stay up, readiness reporting the shedding
      const ready = await api(harness.baseUrl, '/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.json()).toMatchObject({
        status: 'ready',
        load: { shedding: true, reasons: ['event-loop delay 2000ms >= 500ms'] },
      });
      expect((await api(harness.baseUrl, '/health/live')).status).toBe(200);

      // WHEN the delay is gone THEN requests are served again
      eventLoopDelayMs = 1;
      const served = await eventually(
        () => api(harness.baseUrl, '/api/whoami'),
        (response) => response.status === 200,
      );
      expect(served.status).toBe(200);
    });
  });

  describe('with the real sampler and a heap over its limit', () => {
    let harness: Harness;

    beforeAll(async () => {
      // A heap limit of one byte: the real sampler finds the service over it from its first sample.
      harness = await startHarness({
        memcachedNodes: 1,
        tuning: { limits: { maxHeapUsedBytes: 1, pressureSampleIntervalMs: 10 } },
      });
    });

    afterAll(async () => {
      await harness.stop();
    });

    test('fault: heap over its limit: API requests get 503 with Retry-After and JSON, readiness and liveness stay 200', async () => {
      const shed = await eventually(
        () => api(harness.baseUrl, '/api/whoami'),
        (response) => response.status === 503,
      );
      expect(shed.headers.get('retry-after')).toBe('5');
      expect(shed.json()).toMatchObject({ error: 'overloaded' });

      const ready = await api(harness.baseUrl, '/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.json<{ load: { reasons: string[] } }>().load.reasons[0]).toMatch(
        /^heap used \d+ bytes >= 1$/,
      );
      expect((await api(harness.baseUrl, '/health/live')).status).toBe(200);
    });
  });
});
