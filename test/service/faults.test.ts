import { writeFile } from 'node:fs/promises';

import { api, eventually, putItem, startHarness, type Harness } from './harness';

/**
 * Game-day faults, each written to the fault document the service polls, seen where the issue
 * says (readiness, or clients for latency) within its window, and gone after its expiry. The
 * service's clock is shifted to pass an expiry without waiting for it (one test waits for real).
 */

let harness: Harness;
let clockOffsetMs = 0;
const now = () => Date.now() + clockOffsetMs;

beforeAll(async () => {
  harness = await startHarness({ memcachedNodes: 2, tuning: { clock: now } });
  await putItem(harness.baseUrl, 'globe', { name: 'Globe', price: 15 });
  clockOffsetMs += 60_000;
});

afterAll(async () => {
  await harness.stop();
});

afterEach(async () => {
  await harness.writeFaults([]);
  // Let the self-ejection window forget this test's responses.
  clockOffsetMs += 60_000;
});

function fault(
  type: string,
  params: Record<string, unknown> = {},
  options: { targets?: string[]; expiresInMs?: number } = {},
) {
  return {
    type,
    targets: options.targets ?? ['*'],
    expiresAt: new Date(now() + (options.expiresInMs ?? 60_000)).toISOString(),
    params,
  };
}

const ready = () => api(harness.baseUrl, '/health/ready');
const getGlobe = () => api(harness.baseUrl, '/api/items/globe');

test('empty-response: clients get fast empty 200s (the guard bypassed, as in the incident), readiness fails and the task self-ejects, and it recovers after expiry', async () => {
  // GIVEN the fault on every API response, with its default bypassGuard: true
  await harness.writeFaults([fault('empty-response', { ratio: 1 })]);

  // WHEN clients read
  const responses = await Promise.all(Array.from({ length: 6 }, getGlobe));

  // THEN they get the failure the issue describes: 200 with no body
  for (const response of responses) {
    expect(response.status).toBe(200);
    expect(response.text).toBe('');
    expect(response.headers.get('x-fault-injected')).toBe('empty-response');
  }
  // AND readiness fails on both counts: the sentinel body and the share of zero-length responses
  const during = await ready();
  expect(during.status).toBe(503);
  expect(during.text).not.toContain('"status":"ready"');
  expect(during.json<{ reasons: string[] }>().reasons).toEqual([
    'self-ejected: 5 of 5 API responses in 2s were zero-length or malformed (ejection 1 in a row, hold 2s); ready again 2s after the last bad response, or after 10 good API responses in a row (0 so far)',
    'sentinel read answered an empty body',
  ]);
  // AND each is logged as it happens, and counted in the request metrics the next flush writes
  const zeroLength = harness.logs.find((line) => line.msg === 'zero-length response');
  expect(zeroLength.length).toBeGreaterThanOrEqual(6);
  expect(zeroLength[0]).toMatchObject({ responseBytes: 0, statusCode: 200, guardReplaced: false });
  harness.service.requestMetrics.flush();
  const metrics = harness.logs.find((line) => line.msg === 'request metrics');
  expect(metrics.at(-1)).toMatchObject({
    _aws: { CloudWatchMetrics: [{ Namespace: 'Blueprint/Service', Dimensions: [['Region']] }] },
    Region: 'us-east-1',
  });
  const sum = (field: string) => metrics.reduce((total, line) => total + Number(line[field]), 0);
  // (every zero-length response this service sent so far, replaced or not, once)
  const everyZeroLength = harness.logs.find(
    (line) => typeof line.msg === 'string' && line.msg.startsWith('zero-length response'),
  );
  expect(sum('ZeroLengthResponses')).toBe(everyZeroLength.length);

  // WHEN the fault expires and the window moves on
  clockOffsetMs += 61_000;

  // THEN clients get bodies again and the task is ready
  expect((await getGlobe()).json()).toMatchObject({ id: 'globe' });
  const after = await ready();
  expect(after.status).toBe(200);
  expect(after.text).toContain('"status":"ready"');
});

test('latency: clients wait at least latencyMs within the window, readiness stays up, and it stops after expiry', async () => {
  // GIVEN a 400 ms latency fault
  await harness.writeFaults([fault('latency', { latencyMs: 400 })]);

  // WHEN a client reads
  const started = performance.now();
  const slow = await getGlobe();
  const elapsedMs = performance.now() - started;

  // THEN the answer is right but late (a lower bound set by the injected timer, not a benchmark)
  expect(slow.status).toBe(200);
  expect(slow.headers.get('x-fault-injected')).toBe('latency');
  expect(elapsedMs).toBeGreaterThanOrEqual(395);
  const during = await ready();
  expect(during.status).toBe(200);
  expect(during.json()).toMatchObject({ activeFaults: ['latency'] });

  // WHEN it expires THEN no more delay is injected
  clockOffsetMs += 61_000;
  const after = await getGlobe();
  expect(after.headers.get('x-fault-injected')).toBeNull();
  expect((await ready()).json()).toMatchObject({ activeFaults: [] });
});

test('error-status: clients and the readiness sentinel get the status, and it recovers after expiry', async () => {
  await harness.writeFaults([fault('error-status', { status: 502 })]);

  const failed = await getGlobe();
  expect(failed.status).toBe(502);
  expect(failed.json()).toMatchObject({ error: 'fault_injected' });
  const during = await ready();
  expect(during.status).toBe(503);
  expect(during.json<{ reasons: string[] }>().reasons).toEqual(['sentinel read answered 502']);

  clockOffsetMs += 61_000;
  expect((await getGlobe()).status).toBe(200);
  expect((await ready()).status).toBe(200);
});

test('health-fail: readiness fails while clients are still served, and it recovers after expiry', async () => {
  await harness.writeFaults([fault('health-fail')]);

  expect((await getGlobe()).status).toBe(200);
  const during = await ready();
  expect(during.status).toBe(503);
  expect(during.json<{ reasons: string[] }>().reasons).toEqual(['fault: health-fail']);

  clockOffsetMs += 61_000;
  expect((await ready()).status).toBe(200);
});

test('cache-blackhole: cache calls time out into misses, breakers open, clients are still served; the cache comes back after expiry', async () => {
  // GIVEN a cached item
  await getGlobe();
  expect((await getGlobe()).headers.get('x-cache')).toBe('HIT');

  // WHEN the cache is blackholed
  await harness.writeFaults([fault('cache-blackhole')]);

  // THEN reads miss (served from DynamoDB) and readiness shows the cache gone but stays up
  for (let attempt = 0; attempt < 4; attempt += 1) {
    const read = await getGlobe();
    expect(read.status).toBe(200);
    expect(read.headers.get('x-cache')).toBe('MISS');
  }
  const during = await ready();
  expect(during.status).toBe(200);
  const body = during.json<{ activeFaults: string[]; cache: { unavailable: number } }>();
  expect(body.activeFaults).toEqual(['cache-blackhole']);
  expect(body.cache.unavailable).toBeGreaterThanOrEqual(1);
  const unknown = await eventually(
    () =>
      Promise.resolve(
        harness.logs.find((line) => line.Dependency === 'memcached' && line.Outcome === 'unknown'),
      ),
    (lines) => lines.length > 0,
  );
  expect(unknown.length).toBeGreaterThan(0);

  // WHEN it expires THEN the breaker's probe finds the node and reads hit again
  clockOffsetMs += 61_000;
  const hit = await eventually(getGlobe, (read) => read.headers.get('x-cache') === 'HIT');
  expect(hit.status).toBe(200);
});

test('a fault for another task does not apply; one naming this task does', async () => {
  await harness.writeFaults([fault('health-fail', {}, { targets: ['some-other-task'] })]);
  expect((await ready()).status).toBe(200);

  await harness.writeFaults([
    fault('health-fail', {}, { targets: ['some-other-task', 'task-under-test'] }),
  ]);
  expect((await ready()).status).toBe(503);
});

test('a fault whose expiresAt has passed is ignored', async () => {
  await harness.writeFaults([fault('health-fail', {}, { expiresInMs: -1000 })]);
  const response = await ready();
  expect(response.status).toBe(200);
  expect(response.json()).toMatchObject({ activeFaults: [] });
});

test('an invalid document is logged and ignored: the faults it replaced stop, the service keeps serving', async () => {
  // GIVEN a fault in force
  await harness.writeFaults([fault('health-fail')]);
  expect((await ready()).status).toBe(503);

  // WHEN the document is replaced by an invalid one
  await harness.writeFaults(
    JSON.stringify({ faults: [{ type: 'meteor-strike', targets: [''], expiresAt: 'soon' }] }),
  );

  // THEN no fault applies, the problems are logged, and the service answers
  expect((await ready()).status).toBe(200);
  expect((await getGlobe()).status).toBe(200);
  const logged = harness.logs.find(
    (line) => line.msg === 'invalid fault document ignored; no faults apply',
  );
  expect(logged.at(-1)).toMatchObject({
    level: 50,
    problems: [
      'faults[0].type must be one of empty-response, latency, error-status, health-fail, cache-blackhole, got "meteor-strike"',
      'faults[0].targets must be a list of up to 100 non-empty strings (task ids or "*"), got [""]',
      'faults[0].expiresAt must be an ISO-8601 date-time with a zone, got "soon"',
    ],
  });

  // AND text that is not JSON at all is ignored the same way
  await harness.writeFaults('{"faults": [');
  expect((await ready()).status).toBe(200);
});

test('the service picks up a new document by polling, and a fault really expires with the wall clock', async () => {
  // WHEN the file changes without anyone telling the service
  await writeFile(
    harness.faultsFile,
    JSON.stringify({ faults: [fault('health-fail', {}, { expiresInMs: 1500 })] }),
  );

  // THEN within a few polls readiness fails, and after the real expiry it recovers
  const failing = await eventually(ready, (response) => response.status === 503);
  expect(failing.json<{ reasons: string[] }>().reasons).toEqual(['fault: health-fail']);
  const recovered = await eventually(ready, (response) => response.status === 200, 5000);
  expect(recovered.status).toBe(200);
});
