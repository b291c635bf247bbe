import { AccessLogPolicy, type FinishedResponse } from '../../service/src/access-log';

import { api, eventually, putItem, startHarness, type Harness } from './harness';

const success: FinishedResponse = { statusCode: 200, latencyMs: 1, bad: false, shed: false };

describe('AccessLogPolicy', () => {
  test('logs the first plain success and one in sampleEvery after it, by count', () => {
    // GIVEN one line per 3 successes
    const policy = new AccessLogPolicy({ sampleEvery: 3 });
    // WHEN 7 plain successes finish
    const logged = Array.from({ length: 7 }, () => policy.shouldLog(success));
    // THEN the 1st, 4th and 7th get a line
    expect(logged).toEqual([true, false, false, true, false, false, true]);
  });

  test('sampleEvery 1 logs every request', () => {
    const policy = new AccessLogPolicy({ sampleEvery: 1 });
    expect(Array.from({ length: 5 }, () => policy.shouldLog(success))).toEqual(Array(5).fill(true));
  });

  test.each([
    ['a 400', { statusCode: 400 }],
    ['a 404', { statusCode: 404 }],
    ['a 429', { statusCode: 429 }],
    ['a 503', { statusCode: 503 }],
    ['an empty or malformed body', { bad: true }],
    ['a shed request', { shed: true }],
    ['a slow response', { latencyMs: 1000 }],
  ])('always logs %s, and it does not use up a sample', (_name, overrides) => {
    // GIVEN a policy that has just logged its sampled success
    const policy = new AccessLogPolicy({ sampleEvery: 1000, slowMs: 1000 });
    expect(policy.shouldLog(success)).toBe(true);
    // WHEN a response an operator must see finishes, three times
    const notable = { ...success, ...overrides };
    // THEN each gets a line, and the next plain success is still not sampled
    expect([1, 2, 3].map(() => policy.shouldLog(notable))).toEqual([true, true, true]);
    expect(policy.shouldLog(success)).toBe(false);
  });

  test.each([
    [{ sampleEvery: 0 }, /sampleEvery must be a whole number of at least 1 .*got 0/],
    [{ sampleEvery: 2.5 }, /sampleEvery must be a whole number of at least 1 .*got 2.5/],
    [{ slowMs: -1 }, /slowMs must be a number of at least 0, got -1/],
    [{ slowMs: Number.NaN }, /slowMs must be a number of at least 0, got NaN/],
  ])('refuses %p with a message naming what is allowed', (options, message) => {
    expect(() => new AccessLogPolicy(options)).toThrow(message);
  });
});

describe('the service access log', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({ env: { ACCESS_LOG_SAMPLE_EVERY: '3' } });
    await putItem(harness.baseUrl, 'sampled', { name: 'Sampled', price: 1 });
  });

  afterAll(async () => {
    await harness.stop();
  });

  test('samples plain successes, logs every 404, and the metrics still count every request', async () => {
    // GIVEN a service logging one plain success in 3, with its counters read from zero
    harness.service.requestMetrics.flush();
    const metricsBefore = harness.logs.find((line) => line.msg === 'request metrics').length;
    const before = harness.logs.find((line) => line.msg === 'request completed').length;
    // WHEN 9 GETs of an item succeed and 2 GETs of a missing item answer 404, one at a time
    for (let index = 0; index < 9; index += 1) {
      expect((await api(harness.baseUrl, '/api/items/sampled')).status).toBe(200);
    }
    for (let index = 0; index < 2; index += 1) {
      expect((await api(harness.baseUrl, '/api/items/absent')).status).toBe(404);
    }
    // THEN the request metrics count all 11 (a response is counted once it has finished, which
    // may be just after the client read it)
    const counted = () => {
      harness.service.requestMetrics.flush();
      return harness.logs
        .find((line) => line.msg === 'request metrics')
        .slice(metricsBefore)
        .reduce((total, line) => total + Number(line.Requests), 0);
    };
    expect(
      await eventually(
        () => Promise.resolve(counted()),
        (total) => total >= 11,
      ),
    ).toBe(11);
    // AND 3 of the successes and both 404s have a line
    const lines = harness.logs
      .find((line) => line.msg === 'request completed')
      .slice(before)
      .filter((line) => line.url === '/api/items/sampled' || line.url === '/api/items/absent');
    expect(lines.filter((line) => line.statusCode === 200)).toHaveLength(3);
    expect(lines.filter((line) => line.statusCode === 404)).toHaveLength(2);
  });

  test('a bad ACCESS_LOG_SAMPLE_EVERY stops the start with what is allowed', async () => {
    const { loadConfig } = await import('../../service/src/config');
    expect(() =>
      loadConfig({
        AWS_REGION: 'eu-west-1',
        TABLE_NAME: 'items',
        MEMCACHED_ENDPOINTS: '127.0.0.1:11211',
        FAULTS_FILE: '/tmp/faults.json',
        ACCESS_LOG_SAMPLE_EVERY: '0',
      }),
    ).toThrow(/ACCESS_LOG_SAMPLE_EVERY/);
  });
});
