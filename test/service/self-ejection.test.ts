import fc from 'fast-check';

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

describe('the in-service -> ejected transition against a model', () => {
  /**
   * The rule, with nothing cached: every response since the start, bucketed by whole second; the
   * window holds the last `windowSeconds` seconds; the task ejects when, before or after counting
   * a response, the window holds at least `minResponses` with a bad share at or above the threshold.
   */
  function modelEjectsAt(
    events: ReadonlyArray<{ readonly at: number; readonly bad: boolean }>,
    options: { windowSeconds: number; threshold: number; minResponses: number },
  ): number | undefined {
    const counted: Array<{ second: number; bad: boolean }> = [];
    const over = (now: number): boolean => {
      const oldest = Math.floor(now / 1000) - options.windowSeconds + 1;
      const inWindow = counted.filter((event) => event.second >= oldest);
      const bad = inWindow.filter((event) => event.bad).length;
      return inWindow.length >= options.minResponses && bad / inWindow.length >= options.threshold;
    };
    for (const [index, event] of events.entries()) {
      if (over(event.at)) return index;
      counted.push({ second: Math.floor(event.at / 1000), bad: event.bad });
      if (over(event.at)) return index;
    }
    return undefined;
  }

  test('property: the window ejects at exactly the response the model does, whatever mix and spacing of good and bad responses', () => {
    fc.assert(
      fc.property(
        fc.record({
          windowSeconds: fc.integer({ min: 1, max: 5 }),
          threshold: fc.constantFrom(0.1, 0.2, 0.34, 0.5, 0.67, 1),
          minResponses: fc.integer({ min: 1, max: 8 }),
        }),
        // Each response after a gap: often none or about a second (so buckets fill, then slide
        // out at their edges), else anything up to 2.5 s.
        fc.array(
          fc.record({
            gapMs: fc.oneof(
              fc.constantFrom(0, 1, 999, 1000, 1001),
              fc.integer({ min: 0, max: 2500 }),
            ),
            bad: fc.boolean(),
          }),
          { maxLength: 60 },
        ),
        (options, responses) => {
          // GIVEN a window with these options on a fake clock
          const clock = fakeClock();
          const window = new ResponseWindow(options, clock.read);
          const events: Array<{ at: number; bad: boolean }> = [];
          let at = clock.now;
          for (const response of responses) {
            at += response.gapMs;
            events.push({ at, bad: response.bad });
          }
          // WHEN the responses are recorded in turn
          let ejectedAt: number | undefined;
          for (const [index, event] of events.entries()) {
            clock.now = event.at;
            window.record(event.bad);
            if (ejectedAt === undefined && window.stats().ejected) ejectedAt = index;
          }
          // THEN it ejected at the same response as the model, or never when the model never did
          expect(ejectedAt).toBe(modelEjectsAt(events, options));
        },
      ),
      { numRuns: 1000 },
    );
  });

  test('good responses leaving the window eject a task whose only bad response is in its oldest second', () => {
    // GIVEN a 2 s window that ejects at 100 % bad from one response: a good one, then a bad one
    // a second later (50 %, in service)
    const clock = fakeClock();
    const window = new ResponseWindow(
      { windowSeconds: 2, threshold: 1, minResponses: 1 },
      clock.read,
    );
    window.record(false);
    clock.now += 1000;
    window.record(true);
    expect(window.stats().ejected).toBe(false);

    // WHEN a second later the good one has left the window (the bad one is in its oldest second)
    clock.now += 1000;

    // THEN the window holds only the bad one: the task ejects itself
    expect(window.stats()).toMatchObject({ ejected: true, bad: 1, total: 1 });
  });
});
