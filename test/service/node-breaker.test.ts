import { BrokenCircuitError, isBrokenCircuitError } from 'cockatiel';
import fc from 'fast-check';

import { NodeBreaker, type NodeBreakerState } from '../../service/src/cache/node-breaker';

function breakerWithClock(failureThreshold = 3, halfOpenAfterMs = 5000) {
  const clock = { now: 0 };
  const events: string[] = [];
  const breaker = new NodeBreaker(
    { failureThreshold, halfOpenAfterMs, clock: () => clock.now },
    {
      onBreak: () => events.push('break'),
      onHalfOpen: () => events.push('half-open'),
      onReset: () => events.push('reset'),
    },
  );
  return { breaker, clock, events };
}

describe('NodeBreaker (one memcached node’s circuit breaker)', () => {
  test('closed: lets calls through, and a success resets the count of consecutive failures', () => {
    // GIVEN a breaker that opens after 3 consecutive failures
    const { breaker, events } = breakerWithClock(3);
    // WHEN two calls fail, one succeeds, and two more fail
    for (const ok of [false, false, true, false, false]) {
      expect(breaker.admit()).toBeUndefined();
      if (ok) breaker.succeeded();
      else breaker.failed();
    }
    // THEN it is still closed: no three failures were consecutive
    expect(breaker.state).toBe('closed');
    expect(events).toEqual([]);
  });

  test('fault: consecutive failures open it, and it refuses calls with BrokenCircuitError until the wait has passed', () => {
    // GIVEN / WHEN three consecutive failures
    const { breaker, clock, events } = breakerWithClock(3, 5000);
    for (let call = 0; call < 3; call += 1) {
      breaker.admit();
      breaker.failed();
    }
    // THEN it is open and refuses calls, as cockatiel's breaker would
    expect(breaker.state).toBe('open');
    expect(events).toEqual(['break']);
    clock.now = 4999;
    const refused = breaker.admit();
    expect(refused).toBeInstanceOf(BrokenCircuitError);
    expect(isBrokenCircuitError(refused)).toBe(true);
    expect(breaker.state).toBe('open');
  });

  test('half-open: after the wait one probe goes through, the others are refused while it runs, and its success closes it', () => {
    // GIVEN an open breaker whose wait has passed
    const { breaker, clock, events } = breakerWithClock(1, 5000);
    breaker.admit();
    breaker.failed();
    clock.now = 5000;
    // WHEN a call arrives, and another while it runs
    expect(breaker.admit()).toBeUndefined();
    expect(breaker.state).toBe('half-open');
    expect(breaker.admit()).toBeInstanceOf(BrokenCircuitError);
    // AND the probe succeeds
    breaker.succeeded();
    // THEN it is closed and lets calls through
    expect(breaker.state).toBe('closed');
    expect(breaker.admit()).toBeUndefined();
    expect(events).toEqual(['break', 'half-open', 'reset']);
  });

  test('fault: a failed probe opens it again and the wait starts over', () => {
    const { breaker, clock, events } = breakerWithClock(1, 5000);
    breaker.admit();
    breaker.failed();
    clock.now = 5000;
    breaker.admit();
    breaker.failed();
    expect(breaker.state).toBe('open');
    clock.now = 9999;
    expect(breaker.admit()).toBeInstanceOf(BrokenCircuitError);
    clock.now = 10_000;
    expect(breaker.admit()).toBeUndefined();
    expect(events).toEqual(['break', 'half-open', 'break', 'half-open']);
  });

  test('race: an answer to a call admitted before it opened does not move an open breaker', () => {
    // GIVEN two calls admitted while closed, and the breaker opened by other failures
    const { breaker } = breakerWithClock(1, 5000);
    breaker.admit();
    breaker.admit();
    breaker.failed();
    expect(breaker.state).toBe('open');
    // WHEN the other call's answer arrives late, a success or a failure
    breaker.succeeded();
    breaker.failed();
    // THEN it is still open, with its wait unchanged
    expect(breaker.state).toBe('open');
  });

  test.each([
    [
      { failureThreshold: 0, halfOpenAfterMs: 1 },
      'failureThreshold must be a whole number of at least 1, got 0',
    ],
    [
      { failureThreshold: 2.5, halfOpenAfterMs: 1 },
      'failureThreshold must be a whole number of at least 1, got 2.5',
    ],
    [
      { failureThreshold: 1, halfOpenAfterMs: -1 },
      'halfOpenAfterMs must be a whole number of at least 0, got -1',
    ],
  ])('refuses %p, naming what is allowed', (options, message) => {
    expect(() => new NodeBreaker(options)).toThrow(`NodeBreaker: ${message}`);
  });

  test('property: whatever calls, answers and waits come, it moves only along its transitions and never runs two probes', () => {
    type Step = { kind: 'call' } | { kind: 'answer'; ok: boolean } | { kind: 'wait'; ms: number };
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.constant<Step>({ kind: 'call' }),
      fc.boolean().map<Step>((ok) => ({ kind: 'answer', ok })),
      fc.integer({ min: 0, max: 3000 }).map<Step>((ms) => ({ kind: 'wait', ms })),
    );
    const allowed = new Set([
      'closed>open',
      'open>half-open',
      'half-open>closed',
      'half-open>open',
    ]);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.array(step, { maxLength: 60 }),
        (threshold, steps) => {
          const { breaker, clock } = breakerWithClock(threshold, 2000);
          // Calls admitted and not yet answered, oldest first; `probe` marks the half-open probe.
          const inFlight: Array<{ probe: boolean }> = [];
          let previous: NodeBreakerState = breaker.state;
          for (const next of steps) {
            if (next.kind === 'wait') clock.now += next.ms;
            if (next.kind === 'call') {
              const before = breaker.state;
              if (breaker.admit() === undefined) {
                inFlight.push({ probe: before === 'open' });
              }
            }
            if (next.kind === 'answer' && inFlight.length > 0) {
              inFlight.shift();
              if (next.ok) breaker.succeeded();
              else breaker.failed();
            }
            const state = breaker.state;
            if (state !== previous) expect(allowed).toContain(`${previous}>${state}`);
            // Half-open means exactly the one probe may be out; no second one is ever admitted.
            expect(inFlight.filter((call) => call.probe).length).toBeLessThanOrEqual(1);
            previous = state;
          }
        },
      ),
    );
  });
});
