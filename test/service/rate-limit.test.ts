import fc from 'fast-check';

import { ClientRateLimiter } from '../../service/src/rate-limit';

import { api, startHarness, type Harness } from './harness';

/** One request per 1 s window, room for `maxClients`, on a clock the test moves with `at`. */
function smallLimiter(maxClients: number) {
  let now = 0;
  const limiter = new ClientRateLimiter({ max: 1, windowMs: 1000, maxClients, clock: () => now });
  return {
    limiter,
    at: (ms: number) => {
      now = ms;
    },
  };
}

describe('ClientRateLimiter', () => {
  test('admits max requests per window from the first one, then refuses until the window ends', () => {
    // GIVEN 3 requests per 60 s and a clock at 1000
    let now = 1000;
    const limiter = new ClientRateLimiter({ max: 3, windowMs: 60_000, clock: () => now });
    // WHEN one client sends 4 requests 10 s apart
    const verdicts = [0, 1, 2, 3].map(() => {
      const verdict = limiter.take('10.0.0.1');
      now += 10_000;
      return verdict;
    });
    // THEN the first 3 pass with what is left, the 4th is refused, resetting when the window ends
    expect(verdicts.map((v) => [v.allowed, v.remaining, v.resetSeconds])).toEqual([
      [true, 2, 60],
      [true, 1, 50],
      [true, 0, 40],
      [false, 0, 30],
    ]);
    // AND once the window that began at the first request has ended, the client starts afresh
    now = 1000 + 60_000;
    expect(limiter.take('10.0.0.1')).toMatchObject({ allowed: true, remaining: 2 });
  });

  test('counts each client on its own', () => {
    const limiter = new ClientRateLimiter({ max: 1, clock: () => 0 });
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('b').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(false);
  });

  test('tracks at most maxClients: with no window ended, the oldest client goes', () => {
    // GIVEN room for 2 clients
    const { limiter, at } = smallLimiter(2);
    limiter.take('old');
    at(500);
    limiter.take('newer');
    // WHEN a third client comes while both windows run
    limiter.take('third');
    // THEN the oldest was dropped (its next request starts afresh) and the bound held
    expect(limiter.size).toBe(2);
    expect(limiter.take('newer').allowed).toBe(false);
  });

  test('when full, an ended window is dropped before the oldest running one', () => {
    // GIVEN room for 2 clients: 'a' (window 0-1000) and 'b' (window 900-1900)
    const { limiter, at } = smallLimiter(2);
    limiter.take('a');
    at(900);
    limiter.take('b');
    // WHEN a third client comes after a's window ended
    at(1100);
    limiter.take('c');
    // THEN b, the oldest still running, was kept: its next request is still over budget
    expect(limiter.size).toBe(2);
    expect(limiter.take('b').allowed).toBe(false);
  });

  test('when full, every ended window goes, and a running one stays', () => {
    // GIVEN room for 3: a (window 0-1000), b (100-1100), c (200-1200)
    const { limiter, at } = smallLimiter(3);
    for (const [index, client] of ['a', 'b', 'c'].entries()) {
      at(index * 100);
      limiter.take(client);
    }
    // WHEN d comes after a's and b's windows ended, while c's runs
    at(1150);
    limiter.take('d');
    // THEN a and b are gone, and c still counts its window
    expect(limiter.size).toBe(2);
    expect(limiter.take('c').allowed).toBe(false);
  });

  test('never admits more than 2 × max of one client within any span shorter than a window, whatever the timing (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.record({ client: fc.constantFrom('a', 'b', 'c'), gap: fc.nat(40) }), {
          maxLength: 80,
        }),
        (max, requests) => {
          let now = 0;
          const windowMs = 100;
          const limiter = new ClientRateLimiter({ max, windowMs, clock: () => now });
          const admitted = new Map<string, number[]>();
          for (const { client, gap } of requests) {
            now += gap;
            if (limiter.take(client).allowed) {
              admitted.set(client, [...(admitted.get(client) ?? []), now]);
            }
          }
          // A fixed window admits max per window, so any span shorter than a window (which
          // may straddle two windows) holds at most 2 × max admissions of one client.
          for (const times of admitted.values()) {
            for (let index = 0; index + 2 * max < times.length; index += 1) {
              expect(times[index + 2 * max] - times[index]).toBeGreaterThanOrEqual(windowMs);
            }
          }
        },
      ),
    );
  });

  test.each([
    [{ max: 0 }, /max must be a whole number of at least 1, got 0/],
    [{ max: 1.5 }, /max must be a whole number of at least 1, got 1.5/],
    [{ max: 1, windowMs: 0 }, /windowMs must be a whole number of at least 1, got 0/],
    [{ max: 1, maxClients: -1 }, /maxClients must be a whole number of at least 1, got -1/],
  ])('refuses %p with a message naming what is allowed', (options, message) => {
    expect(() => new ClientRateLimiter(options)).toThrow(message);
  });
});

describe('the service rate limit, over HTTP behind one trusted proxy', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({
      memcachedNodes: 1,
      env: { RATE_LIMIT_PER_MINUTE: '3', TRUST_PROXY_HOPS: '1' },
    });
  });

  afterAll(async () => {
    await harness.stop();
  });

  const whoami = (clientIp: string) =>
    api(harness.baseUrl, '/api/whoami', { headers: { 'x-forwarded-for': clientIp } });

  test('each response says the budget left; the client over it gets 429 with Retry-After, another client does not', async () => {
    // GIVEN 3 requests per minute per client, keyed by the address the proxy saw
    // WHEN client A sends 4 requests and client B one
    const fromA = [];
    for (let index = 0; index < 4; index += 1) fromA.push(await whoami('198.51.100.7'));
    const fromB = await whoami('203.0.113.9');
    // THEN A's first 3 pass, counting down, and its 4th is refused with the reset time
    expect(fromA.map((response) => response.status)).toEqual([200, 200, 200, 429]);
    expect(fromA.map((response) => response.headers.get('x-ratelimit-remaining'))).toEqual([
      '2',
      '1',
      '0',
      '0',
    ]);
    expect(fromA[0].headers.get('x-ratelimit-limit')).toBe('3');
    const retryAfter = Number(fromA[3].headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const refusal = fromA[3].json<{ error: string; message: string }>();
    expect(refusal.error).toBe('rate_limited');
    expect(refusal.message).toMatch(/^rate limit of 3 requests per 60 s exceeded; retry in \d+ s$/);
    // AND B has its own budget
    expect(fromB.status).toBe(200);
    expect(fromB.headers.get('x-ratelimit-remaining')).toBe('2');
  });

  test('health checks are neither limited nor counted', async () => {
    // GIVEN a client that has used its budget on health checks first
    for (let index = 0; index < 5; index += 1) {
      const ready = await api(harness.baseUrl, '/health/live', {
        headers: { 'x-forwarded-for': '192.0.2.44' },
      });
      expect(ready.status).toBe(200);
      expect(ready.headers.get('x-ratelimit-limit')).toBeNull();
    }
    // WHEN it calls the API
    // THEN its whole budget is still there
    expect((await whoami('192.0.2.44')).headers.get('x-ratelimit-remaining')).toBe('2');
  });
});
