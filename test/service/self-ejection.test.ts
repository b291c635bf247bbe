import { ResponseWindow } from '../../service/src/health/response-window';

/**
 * Self-ejection with the production defaults (30 s window, 20 % bad, at least 20 responses, hold
 * 30 s doubling to 600 s, 50 good responses in a row readmit), driven by a fake clock: no test
 * waits for real time, and nothing here depends on timing.
 */

/** A fake clock in epoch ms. */
function fakeClock(start = 1_700_000_000_000) {
  const clock = { now: start, read: () => clock.now };
  return clock;
}

function recordMany(window: ResponseWindow, count: number, bad: boolean): void {
  for (let index = 0; index < count; index += 1) window.record(bad);
}

interface AlbRunResult {
  /** Share of the simulated time the ALB sent the task traffic. */
  readonly inServiceShare: number;
  readonly delivered: number;
  /** Bad (empty) bodies clients received. */
  readonly badDelivered: number;
  /** Times the ALB put the task back in service after taking it out. */
  readonly reentries: number;
}

/**
 * An ALB target-group health check as the service construct sets it up (every 5 s; 3 failures
 * take the target out, 2 passes put it back), sending `requestsPerSecond` only while the target is
 * healthy. `isBad(n)` says whether the n-th request gets a bad body (a partly broken task).
 */
function simulateAlb(
  window: ResponseWindow,
  clock: { now: number },
  options: {
    readonly seconds: number;
    readonly requestsPerSecond: number;
    readonly isBad: (request: number, second: number) => boolean;
  },
): AlbRunResult {
  const intervalSeconds = 5;
  const unhealthyThreshold = 3;
  const healthyThreshold = 2;
  let healthy = true;
  let passes = 0;
  let failures = 0;
  let inServiceSeconds = 0;
  let delivered = 0;
  let badDelivered = 0;
  let reentries = 0;
  let request = 0;
  for (let second = 0; second < options.seconds; second += 1) {
    if (second % intervalSeconds === 0) {
      const pass = !window.stats().ejected;
      passes = pass ? passes + 1 : 0;
      failures = pass ? 0 : failures + 1;
      if (healthy && failures >= unhealthyThreshold) healthy = false;
      if (!healthy && passes >= healthyThreshold) {
        healthy = true;
        reentries += 1;
      }
    }
    const start = clock.now;
    if (healthy) {
      inServiceSeconds += 1;
      for (let index = 0; index < options.requestsPerSecond; index += 1) {
        clock.now = start + Math.floor((index * 1000) / options.requestsPerSecond);
        const bad = options.isBad(request, second);
        request += 1;
        delivered += 1;
        if (bad) badDelivered += 1;
        window.record(bad);
      }
    }
    clock.now = start + 1000;
  }
  return { inServiceShare: inServiceSeconds / options.seconds, delivered, badDelivered, reentries };
}

/** 35 % of requests bad, spread evenly (7 of every 20). */
const partlyBroken = (request: number) => request % 20 < 7;

describe('self-ejection with the production defaults', () => {
  test('fault: 19 empty responses do not eject (too few), the 20th does, and readiness is told why', () => {
    // GIVEN a task in service with the production defaults
    const clock = fakeClock();
    const window = new ResponseWindow({}, clock.read);

    // WHEN 19 responses in a row are bad
    recordMany(window, 19, true);

    // THEN that is too few to judge
    expect(window.stats()).toMatchObject({ state: 'in-service', total: 19, bad: 19 });

    // WHEN the 20th is bad too
    window.record(true);

    // THEN the task ejects itself, and the reason names the share, the hold and the way back
    const stats = window.stats();
    expect(stats).toMatchObject({
      state: 'ejected',
      ejected: true,
      ejections: 1,
      holdRemainingSeconds: 30,
    });
    expect(stats.reason).toBe(
      'self-ejected: 20 of 20 API responses in 30s were zero-length or malformed (ejection 1 in a row, hold 30s); ready again 30s after the last bad response, or after 50 good API responses in a row (0 so far)',
    );
  });

  test('fault: an ejected task that gets no traffic is not readmitted by its empty window, only by the hold', () => {
    // GIVEN a task ejected by 20 % bad responses, then a second ejection soon after readmission
    const clock = fakeClock();
    const window = new ResponseWindow({}, clock.read);
    recordMany(window, 16, false);
    recordMany(window, 4, true);
    expect(window.stats().ejected).toBe(true);
    clock.now += 30_000;
    expect(window.stats().ejected).toBe(false);
    recordMany(window, 16, false);
    recordMany(window, 4, true);
    expect(window.stats()).toMatchObject({ ejected: true, ejections: 2, holdRemainingSeconds: 60 });

    // WHEN the balancer stops sending traffic and the 30 s window has emptied
    clock.now += 31_000;

    // THEN it is still ejected: the second hold is 60 s
    expect(window.stats()).toMatchObject({ ejected: true, holdRemainingSeconds: 29 });

    // WHEN the hold has passed
    clock.now += 29_000;

    // THEN it is in service again, with an empty window
    expect(window.stats()).toMatchObject({ state: 'in-service', ejected: false, total: 0 });
  });

  test('fault: bad responses that still arrive while ejected (the ALB takes 15 s to notice) extend the hold', () => {
    const clock = fakeClock();
    const window = new ResponseWindow({}, clock.read);
    recordMany(window, 20, true);

    clock.now += 14_000;
    window.record(true);
    clock.now += 29_000;

    expect(window.stats()).toMatchObject({ ejected: true, holdRemainingSeconds: 1 });
    clock.now += 1000;
    expect(window.stats().ejected).toBe(false);
  });

  test('a task readmitted when its hold ended long ago, and ejected again, starts at the first hold', () => {
    const clock = fakeClock();
    const window = new ResponseWindow({}, clock.read);
    recordMany(window, 20, true);

    // Nobody asks for an hour (no readiness checks, no traffic)
    clock.now += 3_600_000;
    recordMany(window, 20, true);

    expect(window.stats()).toMatchObject({ ejections: 1, holdRemainingSeconds: 30 });
  });

  test('fault: 50 good API responses in a row end the hold early; one bad one starts the count again', () => {
    const clock = fakeClock();
    const window = new ResponseWindow({}, clock.read);
    recordMany(window, 20, true);

    recordMany(window, 49, false);
    window.record(true);
    recordMany(window, 49, false);
    expect(window.stats()).toMatchObject({ ejected: true, goodStreak: 49 });

    window.record(false);
    expect(window.stats()).toMatchObject({ state: 'in-service', ejected: false });
  });

  test('fault: repeated ejections double the hold up to 600 s; 600 s in service forgive them', () => {
    const clock = fakeClock();
    const window = new ResponseWindow({}, clock.read);
    const holds: number[] = [];
    for (let ejection = 0; ejection < 7; ejection += 1) {
      recordMany(window, 20, true);
      const stats = window.stats();
      holds.push(stats.holdRemainingSeconds ?? -1);
      clock.now += (stats.holdRemainingSeconds ?? 0) * 1000;
      expect(window.stats().ejected).toBe(false);
    }
    expect(holds).toEqual([30, 60, 120, 240, 480, 600, 600]);

    // WHEN the task then serves well for 600 s
    clock.now += 600_000;
    recordMany(window, 20, true);

    // THEN the next ejection starts again at 30 s
    expect(window.stats()).toMatchObject({ ejections: 1, holdRemainingSeconds: 30 });
  });

  test('fault: a partly broken task (35 % empty bodies) behind a simulated ALB stays out instead of cycling in and out', () => {
    // GIVEN the production defaults and an ALB checking every 5 s (3 to fail, 2 to pass)
    const clock = fakeClock();
    const window = new ResponseWindow({}, clock.read);

    // WHEN a task that answers 35 % of API calls with an empty body runs for an hour at 20 req/s
    const run = simulateAlb(window, clock, {
      seconds: 3600,
      requestsPerSecond: 20,
      isBad: partlyBroken,
    });

    // THEN it is in service for a few short stretches only, and delivers few empty bodies
    // (without hysteresis it was in service about a third of the time: some 7,500 empty bodies, re-entering 71 times)
    expect(run.reentries).toBeLessThanOrEqual(10);
    expect(run.inServiceShare).toBeLessThan(0.06);
    expect(run.badDelivered).toBeLessThan(1500);
  });

  test('a task that recovers (bad for 20 s only) is back in service within the hold and two ALB checks', () => {
    // GIVEN a task whose responses are all bad for 20 s, then all good
    const clock = fakeClock();
    const window = new ResponseWindow({}, clock.read);
    const run = simulateAlb(window, clock, {
      seconds: 600,
      requestsPerSecond: 20,
      isBad: (_request, second) => second >= 10 && second < 30,
    });

    // THEN it was ejected once and came back: last bad response (at most 30 s) + hold 30 s + at
    // most 3 check intervals to be checked twice; the rest of the 10 minutes it served
    expect(run.reentries).toBe(1);
    expect(run.inServiceShare).toBeGreaterThan((600 - 30 - 30 - 15) / 600);
    expect(window.stats().state).toBe('in-service');
  });

  test('a healthy task is never ejected', () => {
    const clock = fakeClock();
    const window = new ResponseWindow({}, clock.read);
    const run = simulateAlb(window, clock, {
      seconds: 600,
      requestsPerSecond: 20,
      isBad: () => false,
    });
    expect(run.inServiceShare).toBe(1);
    expect(run.badDelivered).toBe(0);
  });
});
