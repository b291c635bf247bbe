import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import {
  ReadResult,
  httpGet,
  readItems,
  readWhoami,
} from '../../lambda/gameday-observe/client-reads';
import { Signals, countTargets, nextObservation } from '../../lambda/gameday-observe/observe';
import {
  ObserveDeps,
  observeFunction,
  parseObserveEvent,
} from '../../lambda/gameday-observe/observe-function';
import { parseGameDayInput, preflight } from '../../lambda/gameday-observe/preflight';
import { ObserveEnv, loadObserveEnv } from '../../lambda/gameday-shared/env';
import {
  GameDayState,
  Observation,
  RunPlan,
  TargetCounts,
  injectEvent,
  runLimits,
} from '../../lambda/gameday-shared/run';
import { SCENARIOS, ScenarioName } from '../../lib/gameday/scenarios';

const SETTINGS = {
  albIntervalSeconds: 5,
  albHealthyThreshold: 2,
  albUnhealthyThreshold: 3,
  route53IntervalSeconds: 10,
  route53FailureThreshold: 3,
  taskStartSeconds: 90,
  faultPollSeconds: 7,
  selfEjectionSeconds: 10,
};
const IMPAIRED = 'Blueprint-eu-west-1-region-impaired';
const ENV: ObserveEnv = {
  region: 'eu-west-1',
  settings: SETTINGS,
  regionImpairedAlarm: IMPAIRED,
  watchedAlarms: [IMPAIRED, 'Blueprint-eu-west-1-unhealthy-hosts'],
  stateTable: 'chaos-state',
  service: 'arn:aws:ecs:eu-west-1:123456789012:service/blueprint/api',
  regionEndpoint: 'https://eu-west-1.api.example.com',
  globalEndpoint: 'https://api.example.com',
  availabilityZones: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'],
  maxFaultDurationMinutes: 30,
  holdSeconds: 30,
  requestsPerPoll: 4,
  requestTimeoutMs: 500,
};
const T0 = Date.parse('2026-11-21T10:00:00.000Z');
const at = (seconds: number) => T0 + seconds * 1000;

const targets = (healthy: number, others: Partial<TargetCounts> = {}): TargetCounts => {
  const counts = { healthy, unhealthy: 0, initial: 0, draining: 0, other: 0, ...others };
  return {
    ...counts,
    total: counts.healthy + counts.unhealthy + counts.initial + counts.draining + counts.other,
  };
};
const ok = (extra: Partial<ReadResult> = {}): ReadResult => ({
  ok: true,
  latencyMs: 20,
  faulted: false,
  cache: 'HIT',
  ...extra,
});
const failed: ReadResult = { ok: false, latencyMs: 3000, faulted: false };

function plan(scenario: ScenarioName): RunPlan {
  const budget = SCENARIOS[scenario].budget(SETTINGS);
  return {
    scenario,
    experimentId: 'gd-test-1',
    dryRun: false,
    region: 'eu-west-1',
    inject: 'stop-tasks',
    injectEvent: {},
    budget,
    limits: runLimits(scenario, budget, 30),
    clientEndpoint: 'https://eu-west-1.api.example.com',
    startedAt: at(-5),
  };
}

type Poll = Omit<Signals, 'alarms'> & { readonly alarms?: Signals['alarms'] };

/** Plays recorded polls through nextObservation, as the state machine would, and returns each. */
function play(
  scenario: ScenarioName,
  polls: readonly Poll[],
  options: { phase?: 'fault' | 'recovery'; previous?: Observation; restoredAt?: number } = {},
): Observation[] {
  const run = plan(scenario);
  const out: Observation[] = [];
  let previous = options.previous;
  for (const poll of polls) {
    previous = nextObservation(
      {
        run,
        phase: options.phase ?? 'fault',
        baseline: targets(3),
        previous,
        injectedAt: at(0),
        restoredAt: options.restoredAt,
        region: 'eu-west-1',
        regionImpairedAlarm: IMPAIRED,
      },
      { alarms: {}, ...poll },
    );
    out.push(previous);
  }
  return out;
}

describe('counting target health', () => {
  test('counts each state DescribeTargetHealth reports, and the rest as other', () => {
    const response = {
      TargetHealthDescriptions: [
        { TargetHealth: { State: 'healthy' } },
        { TargetHealth: { State: 'healthy' } },
        { TargetHealth: { State: 'draining' } },
        { TargetHealth: { State: 'unavailable' } },
      ],
    };
    expect(countTargets(response)).toEqual({
      healthy: 2,
      unhealthy: 0,
      initial: 0,
      draining: 1,
      other: 1,
      total: 4,
    });
  });

  test('counts the trimmed target states the state machine keeps (its ResultSelector), as the whole answer', () => {
    expect(countTargets({ states: ['healthy', 'initial', 'draining'] })).toEqual({
      healthy: 1,
      unhealthy: 0,
      initial: 1,
      draining: 1,
      other: 0,
      total: 3,
    });
    expect(countTargets({ states: [] })).toMatchObject({ healthy: 0, total: 0 });
  });

  test('refuses a response without the descriptions, naming what it needs', () => {
    for (const bad of [{}, [], [{ states: ['healthy'] }, {}]]) {
      expect(() => countTargets(bad)).toThrow(
        'targetHealth must be one poll of the target groups ([{ ids, ports, states }, ...], one per group), { states: [...] } (target states) or a DescribeTargetHealth response with a TargetHealthDescriptions list',
      );
    }
  });

  test('after a canary deployment, counts the targets of the alternate group when the first is empty', () => {
    // GIVEN a poll of both groups: the first empty, the service in the alternate one
    const poll = [
      { ids: [], ports: [], states: [] },
      { ids: ['10.0.1.1', '10.0.2.1'], ports: [8080, 8080], states: ['healthy', 'healthy'] },
    ];

    // WHEN / THEN both targets count
    expect(countTargets(poll)).toMatchObject({ healthy: 2, total: 2 });
  });

  test('counts a target registered in both groups mid-deployment once, healthy only if healthy in both', () => {
    // GIVEN one target in both groups (healthy in both), one draining from the first group
    // while healthy in the second, and one in the second group alone
    const poll = [
      { ids: ['10.0.1.1', '10.0.2.1'], ports: [8080, 8080], states: ['healthy', 'draining'] },
      {
        ids: ['10.0.1.1', '10.0.2.1', '10.0.3.1'],
        ports: [8080, 8080, 8080],
        states: ['healthy', 'healthy', 'initial'],
      },
    ];

    // WHEN / THEN three targets: one healthy, one draining, one initial
    expect(countTargets(poll)).toEqual({
      healthy: 1,
      unhealthy: 0,
      initial: 1,
      draining: 1,
      other: 0,
      total: 3,
    });
  });
});

describe('observing a task loss', () => {
  test('records the ejection, the move of traffic and the replacement, then ends as recovered', () => {
    // GIVEN a recorded run: the stopped task drains at once, its replacement is healthy at 71 s
    const observations = play('task-loss', [
      { at: at(5), targets: targets(2, { draining: 1 }), reads: [ok(), ok(), ok(), ok()] },
      { at: at(40), targets: targets(2, { initial: 1 }), reads: [ok(), ok(), ok(), ok()] },
      { at: at(71), targets: targets(3), reads: [ok(), ok(), ok(), ok()] },
    ]);
    // THEN
    const last = observations[2];
    expect(last.timeline).toEqual({
      injectedAt: at(0),
      detectedAt: at(5),
      trafficMovedAt: at(5),
      recoveredAt: at(71),
    });
    expect(observations.map((o) => o.done)).toEqual([false, false, true]);
    expect(last.reason).toBe('recovered');
    expect(last.requests).toEqual({ total: 12, succeeded: 12 });
    expect(last.lowestHealthy).toBe(2);
    expect(last.series.map((p) => p.t)).toEqual([5, 40, 71]);
  });

  test('gives up when the task never comes back within twice the recovery budget', () => {
    const budget = SCENARIOS['task-loss'].budget(SETTINGS).recoverSeconds; // 100 s
    const [, last] = play('task-loss', [
      { at: at(5), targets: targets(2, { draining: 1 }), reads: [ok()] },
      { at: at(2 * budget), targets: targets(2), reads: [ok()] },
    ]);
    expect(last).toMatchObject({ done: true, reason: 'timeout' });
    expect(last.timeline.recoveredAt).toBeUndefined();
  });
});

describe('observing a zero-length responder', () => {
  test('waits for clean reads after the ejection, then holds the fault before ending', () => {
    const observations = play('zero-length-responder', [
      // the faulted task still answers: empty bodies
      { at: at(10), targets: targets(3), reads: [ok(), { ...failed, faulted: true }] },
      // ejected: unhealthy, but one faulted read was already in flight
      {
        at: at(25),
        targets: targets(2, { unhealthy: 1 }),
        reads: [ok(), { ...failed, faulted: true }],
      },
      { at: at(31), targets: targets(2, { unhealthy: 1 }), reads: [ok(), ok()] },
      { at: at(60), targets: targets(2, { unhealthy: 1 }), reads: [ok(), ok()] },
      { at: at(61), targets: targets(2, { unhealthy: 1 }), reads: [ok(), ok()] },
    ]);
    expect(observations[4].timeline).toMatchObject({ detectedAt: at(25), trafficMovedAt: at(31) });
    expect(observations.map((o) => o.reason)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      'held',
    ]);
    expect(observations[4].requests).toEqual({ total: 10, succeeded: 8 });
  });

  test('goes on when the region-impaired alarm fires only for the zero-length alarm it expects', () => {
    const alarms = {
      [IMPAIRED]: 'ALARM',
      'Blueprint-eu-west-1-zero-length-responses': 'ALARM',
      'Blueprint-eu-west-1-target-5xx-rate': 'OK',
    };
    const [expected] = play('zero-length-responder', [
      { at: at(40), targets: targets(2, { unhealthy: 1 }), reads: [ok()], alarms },
    ]);
    expect(expected.reason).toBeUndefined();
    const [unexpected] = play('zero-length-responder', [
      {
        at: at(40),
        targets: targets(2, { unhealthy: 1 }),
        reads: [ok()],
        alarms: { ...alarms, 'Blueprint-eu-west-1-target-5xx-rate': 'ALARM' },
      },
    ]);
    expect(unexpected).toMatchObject({ done: true, reason: 'stop-condition' });
  });

  test('stops at once when the region-impaired alarm fires, and records the alarm', () => {
    const [obs] = play('zero-length-responder', [
      {
        at: at(12),
        targets: targets(3),
        reads: [ok()],
        alarms: { [IMPAIRED]: 'ALARM', 'Blueprint-eu-west-1-unhealthy-hosts': 'OK' },
      },
    ]);
    expect(obs).toMatchObject({ done: true, reason: 'stop-condition' });
    expect(obs.alarmsFired).toEqual({ [IMPAIRED]: at(12) });
  });
});

describe('observing a region evacuation', () => {
  test('detects the move when the global name answers from another region', () => {
    const observations = play('region-evacuation', [
      {
        at: at(20),
        targets: targets(0, { unhealthy: 3 }),
        reads: [ok()],
        whoami: [ok({ region: 'eu-west-1' })],
      },
      {
        at: at(80),
        targets: targets(0, { unhealthy: 3 }),
        reads: [ok(), ok()],
        whoami: [ok({ region: 'us-east-1' }), ok({ region: 'us-east-1' })],
        // the region-impaired alarm is expected here: the whole region is out by design
        alarms: { [IMPAIRED]: 'ALARM' },
      },
    ]);
    expect(observations[1].timeline).toMatchObject({ detectedAt: at(80), trafficMovedAt: at(80) });
    expect(observations[1].done).toBe(false);
    expect(observations[1].latest?.answeredBy).toEqual(['us-east-1']);
  });

  test('recovers only once this region answers its users again', () => {
    const previous = play('region-evacuation', [
      {
        at: at(80),
        targets: targets(0, { unhealthy: 3 }),
        reads: [ok()],
        whoami: [ok({ region: 'us-east-1' })],
      },
    ])[0];
    const recovery = play(
      'region-evacuation',
      [
        { at: at(130), targets: targets(3), reads: [ok()], whoami: [ok({ region: 'us-east-1' })] },
        { at: at(170), targets: targets(3), reads: [ok()], whoami: [ok({ region: 'eu-west-1' })] },
      ],
      {
        phase: 'recovery',
        previous: { ...previous, done: true, reason: 'held' },
        restoredAt: at(120),
      },
    );
    expect(recovery.map((o) => o.reason)).toEqual([undefined, 'recovered']);
    expect(recovery[1].timeline).toMatchObject({ restoredAt: at(120), recoveredAt: at(170) });
    expect(recovery[1].faultPhaseEnd).toBe('held');
  });
});

describe('observing scenarios that expect no ejection', () => {
  test('holds a cache outage for two holds, then recovers only on cache hits after the restore', () => {
    const fault = play('cache-outage', [
      { at: at(30), targets: targets(3), reads: [ok({ cache: 'MISS' }), ok()] },
      { at: at(60), targets: targets(3), reads: [ok({ cache: 'MISS' }), ok()] },
    ]);
    expect(fault.map((o) => o.reason)).toEqual([undefined, 'held']);
    expect(fault[1].timeline.detectedAt).toBeUndefined();

    const recovery = play(
      'cache-outage',
      [
        { at: at(66), targets: targets(3), reads: [ok({ cache: 'MISS' }), ok()] },
        { at: at(75), targets: targets(3), reads: [ok(), ok()] },
      ],
      { phase: 'recovery', previous: fault[1], restoredAt: at(62) },
    );
    expect(recovery.map((o) => o.reason)).toEqual([undefined, 'recovered']);
    expect(recovery[1].timeline.recoveredAt).toBe(at(75));
  });

  test('records an ejection during a latency fault, which the report flags', () => {
    const [obs] = play('latency', [
      { at: at(20), targets: targets(2, { unhealthy: 1 }), reads: [ok({ faulted: true })] },
    ]);
    expect(obs.timeline.detectedAt).toBe(at(20));
  });
});

describe('the execution input', () => {
  test('accepts a scenario with an experiment id and defaults to a dry run (acting needs dryRun false)', () => {
    expect(parseGameDayInput({ scenario: 'latency', experimentId: 'gd-1' }, ENV)).toEqual({
      scenario: 'latency',
      experimentId: 'gd-1',
      dryRun: true,
    });
  });

  test('names every problem: unknown scenario, a typo, an AZ of another region', () => {
    expect(() =>
      parseGameDayInput(
        { scenario: 'az-down', experimentId: 'gd-1', dryrun: true, availabilityZone: 'us-east-1a' },
        ENV,
      ),
    ).toThrow(
      'Invalid event: scenario must be one of task-loss, az-outage, zero-length-responder, region-evacuation, cache-outage, latency, got "az-down"; ' +
        'availabilityZone must be one of eu-west-1a, eu-west-1b, eu-west-1c (the AZs of eu-west-1), got "us-east-1a"; ' +
        'dryrun is not an allowed field; allowed: scenario, experimentId, dryRun, availabilityZone',
    );
  });

  test('builds the chaos event each scenario needs, with a fault that outlasts the observation', () => {
    const input = { experimentId: 'gd-1', dryRun: true };
    expect(injectEvent({ ...input, scenario: 'az-outage' }, 'eu-west-1c', 9)).toEqual({
      experimentId: 'gd-1',
      dryRun: true,
      durationMinutes: 9,
      availabilityZone: 'eu-west-1c',
    });
    expect(injectEvent({ ...input, scenario: 'latency' }, undefined, 6)).toMatchObject({
      count: 1,
      ratio: 1,
      latencyMs: 800,
    });
  });
});

describe('preflight', () => {
  const healthy = {
    TargetHealthDescriptions: [1, 2, 3].map(() => ({ TargetHealth: { State: 'healthy' } })),
  };
  const green = { ok: true, results: [{ name: 'eu-west-1', ok: true }] };
  const deps = (overrides: Partial<ObserveDeps> = {}): ObserveDeps => ({
    env: ENV,
    alarmStates: (names) => Promise.resolve(Object.fromEntries(names.map((n) => [n, 'OK']))),
    lease: () => Promise.resolve(undefined),
    now: () => at(0),
    get: () => Promise.reject(new Error('no network in preflight')),
    clock: () => 0,
    ...overrides,
  });

  test('passes a steady region and plans the run: az-outage takes the last AZ', async () => {
    const result = await preflight(
      { scenario: 'az-outage', experimentId: 'gd-az-1', dryRun: false },
      { targetHealth: healthy, canary: green },
      deps(),
    );
    expect(result).toMatchObject({
      ok: true,
      problems: [],
      baseline: { healthy: 3, total: 3 },
      run: {
        scenario: 'az-outage',
        inject: 'az-outage',
        injectEvent: {
          experimentId: 'gd-az-1',
          dryRun: false,
          availabilityZone: 'eu-west-1c',
          durationMinutes: 6, // ceil((2 × 15 + 30) / 60) + 5
        },
        clientEndpoint: 'https://eu-west-1.api.example.com',
        budget: { recoverSeconds: 100 },
      },
    });
  });

  test.each(['task-loss', 'az-outage'] as const)(
    '%s is not scored on time to detect: StopTask deregisters the target at once, so the first poll would time the deregistration',
    async (scenario) => {
      const result = await preflight(
        { scenario, experimentId: 'gd-1', dryRun: false },
        { targetHealth: healthy, canary: green },
        deps(),
      );
      expect(result.run?.budget.detectSeconds).toBeUndefined();
      expect(result.run?.budget.derivation).toContain(
        'the 15 s detect budget is not scored in AWS: StopTask deregisters the target at once',
      );
      // The phases still last as long as the whole budget asks.
      expect(result.run?.limits).toEqual(
        runLimits(scenario, SCENARIOS[scenario].budget(ENV.settings), ENV.holdSeconds),
      );
    },
  );

  test('zero-length-responder is scored on the health check ejecting the bad task', async () => {
    const result = await preflight(
      { scenario: 'zero-length-responder', experimentId: 'gd-1', dryRun: false },
      { targetHealth: healthy, canary: green },
      deps(),
    );
    expect(result.run?.budget.detectSeconds).toBe(
      SCENARIOS['zero-length-responder'].budget(ENV.settings).detectSeconds,
    );
  });

  test('refuses an experiment id other than the execution name: the restore after an aborted execution finds the experiment by that name', async () => {
    // GIVEN an execution started under another name than its experiment id
    const result = await preflight(
      { scenario: 'task-loss', experimentId: 'gd-tl-1', dryRun: false },
      { targetHealth: healthy, canary: green },
      deps(),
      'my-console-run',
    );
    // THEN nothing is injected, and the problem says how to start it
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      'input: experimentId must equal the execution name, got "gd-tl-1" in an execution named "my-console-run"; start the execution with name = experimentId (npm run gameday does)',
    ]);
    const same = await preflight(
      { scenario: 'task-loss', experimentId: 'gd-tl-1', dryRun: false },
      { targetHealth: healthy, canary: green },
      deps(),
      'gd-tl-1',
    );
    expect(same.ok).toBe(true);
  });

  test('sends region-evacuation reads to the global name', async () => {
    const result = await preflight(
      { scenario: 'region-evacuation', experimentId: 'gd-r-1' },
      { targetHealth: healthy, canary: green },
      deps(),
    );
    expect(result.run?.clientEndpoint).toBe('https://api.example.com');
  });

  test('lists every way the steady state fails, and plans nothing it cannot', async () => {
    // GIVEN the alarm firing, a red canary, a live lease and a draining target
    const result = await preflight(
      { scenario: 'task-loss', experimentId: 'gd-tl-1' },
      {
        targetHealth: {
          TargetHealthDescriptions: [
            { TargetHealth: { State: 'healthy' } },
            { TargetHealth: { State: 'draining' } },
          ],
        },
        canary: { ok: false, results: [{ name: 'global', ok: false, failure: 'timeout' }] },
      },
      deps({
        alarmStates: () => Promise.resolve({ [IMPAIRED]: 'ALARM' }),
        lease: () => Promise.resolve({ holder: 'gd-other', expiresAt: new Date(at(300)) }),
      }),
    );
    // THEN
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      `alarm ${IMPAIRED} is ALARM, not OK`,
      'the canary is not green: global (timeout)',
      'experiment gd-other holds the service\'s lease until 2026-11-21T10:05:00.000Z; wait for it, or restore it with {"experimentId": "gd-other"}',
      'the target group is not steady: 1 of 2 target(s) healthy (0 unhealthy, 0 initial, 1 draining); wait until every target is healthy',
    ]);
  });

  test('ignores an expired lease, and says so when the canary could not run at all', async () => {
    const result = await preflight(
      { scenario: 'task-loss', experimentId: 'gd-tl-2' },
      {
        targetHealth: healthy,
        canaryFailure: { Error: 'States.Timeout', Cause: 'the task timed out' },
      },
      deps({
        lease: () => Promise.resolve({ holder: 'gd-old', expiresAt: new Date(at(-1)) }),
      }),
    );
    expect(result.problems).toEqual([
      'the canary could not run (States.Timeout): the task timed out',
    ]);
  });

  test('refuses a scenario whose observation would outlast the chaos fault cap', async () => {
    const result = await preflight(
      { scenario: 'region-evacuation', experimentId: 'gd-r-3' },
      { targetHealth: healthy, canary: green },
      deps({ env: { ...ENV, maxFaultDurationMinutes: 4 } }),
    );
    expect(result.problems).toEqual([
      "chaos.maxFaultDurationMinutes 4 is shorter than region-evacuation's observation of 224 s plus a minute to restore; raise it to at least 5",
    ]);
  });

  test('refuses region-evacuation without a global name, and reports an invalid input', async () => {
    const noDomain = deps({ env: { ...ENV, globalEndpoint: undefined } });
    const evacuation = await preflight(
      { scenario: 'region-evacuation', experimentId: 'gd-r-2' },
      { targetHealth: healthy, canary: green },
      noDomain,
    );
    expect(evacuation.problems).toEqual([
      'region-evacuation needs the global name, which exists only with a domain in the config; without one, other regions are unknown here and region-outage refuses',
    ]);
    const invalid = await preflight(
      { scenario: 'nope' },
      { targetHealth: healthy, canary: green },
      deps(),
    );
    expect(invalid.run).toBeUndefined();
    expect(invalid.problems).toContain(
      "input: experimentId is required: 1-64 letters, digits, '.', '_', ':' or '-', starting with a letter or digit",
    );
  });
});

describe('the observe function', () => {
  const run = plan('task-loss');
  const base: GameDayState = {
    preflight: { ok: true, problems: [], run, baseline: targets(3) },
    targetHealth: { TargetHealthDescriptions: [{ TargetHealth: { State: 'healthy' } }] },
  };
  const deps = (get: ObserveDeps['get']): ObserveDeps => ({
    env: ENV,
    alarmStates: (names) => Promise.resolve(Object.fromEntries(names.map((n) => [n, 'OK']))),
    lease: () => Promise.resolve(undefined),
    now: () => at(3),
    get,
    clock: () => 0,
  });
  const noNetwork = () => Promise.reject(new Error('must not be called'));

  test('ends at once without reading anything when the chaos function refused', async () => {
    const get = jest.fn(noNetwork);
    const result = await observeFunction(
      parseObserveEvent({
        action: 'observe',
        state: {
          ...base,
          inject: { ok: false, error: { code: 'LEASE_HELD', message: 'held' } },
        },
      }),
      deps(get),
    );
    expect(result).toMatchObject({ done: true, reason: 'not-injected' });
    expect(get).not.toHaveBeenCalled();
  });

  test('verifies nothing after a restore that failed, and says why', async () => {
    const result = await observeFunction(
      parseObserveEvent({
        action: 'verify',
        state: {
          ...base,
          inject: { ok: true, result: {} },
          restoreFailure: { Error: 'Lambda.Unknown', Cause: 'boom' },
        },
      }),
      deps(noNetwork),
    );
    expect(result).toMatchObject({ done: true, reason: 'restore-failed' });
  });

  test('still verifies recovery when the inject itself failed, since it may have acted', async () => {
    const get = jest.fn(() =>
      Promise.resolve({ status: 200, headers: {}, body: '{"id":"_health-sentinel"}' }),
    );
    const result = (await observeFunction(
      parseObserveEvent({
        action: 'verify',
        state: {
          ...base,
          failure: { Error: 'States.Timeout', Cause: 'inject timed out' },
          restore: { ok: true, result: { status: 'restored' } },
          restoredAt: { at: new Date(at(1)).toISOString() },
        },
      }),
      deps(get),
    )) as Observation;
    expect(get).toHaveBeenCalledTimes(ENV.requestsPerPoll);
    expect(result).toMatchObject({ phase: 'recovery', requests: { total: 4, succeeded: 4 } });
  });

  test("reads the item through the run's endpoint on every poll", async () => {
    const get = jest.fn(() =>
      Promise.resolve({
        status: 200,
        headers: { 'x-cache': 'HIT' },
        body: '{"id":"_health-sentinel"}',
      }),
    );
    await observeFunction(
      parseObserveEvent({
        action: 'observe',
        state: {
          ...base,
          inject: { ok: true, result: {} },
          injectedAt: { at: new Date(at(0)).toISOString() },
        },
      }),
      deps(get),
    );
    expect(get).toHaveBeenCalledWith(
      'https://eu-west-1.api.example.com/api/items/_health-sentinel',
      500,
    );
  });

  test('refuses an event with an unknown action or no state', () => {
    expect(() => parseObserveEvent({ action: 'inject' })).toThrow(
      'Invalid event: action must be one of preflight, observe, verify, got "inject"; state is required: a JSON object',
    );
  });
});

describe('client reads against a loopback server', () => {
  let server: Server;
  let base: string;
  const handlers: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {};

  beforeAll(async () => {
    server = createServer((req, res) => {
      const handler = handlers[req.url ?? ''];
      if (handler) handler(req, res);
      else res.writeHead(404).end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });
  const options = { get: httpGet, timeoutMs: 300, concurrency: 2, clock: () => performance.now() };

  test('counts a well-formed item as a success and an empty 200 as a failure, with its fault header', async () => {
    let n = 0;
    handlers['/api/items/_health-sentinel'] = (_req, res) => {
      n += 1;
      if (n % 2 === 0) {
        res.writeHead(200, { 'x-fault-injected': 'empty-response' }).end();
      } else {
        res.writeHead(200, { 'content-type': 'application/json', 'x-cache': 'MISS' });
        res.end('{"id":"_health-sentinel","name":"health sentinel"}');
      }
    };
    const reads = await readItems(base, 4, options);
    expect(reads.map((r) => [r.ok, r.faulted, r.cache])).toEqual([
      [true, false, 'MISS'],
      [false, true, undefined],
      [true, false, 'MISS'],
      [false, true, undefined],
    ]);
  });

  test('counts a read that outlasts its timeout as a failure', async () => {
    handlers['/api/items/_health-sentinel'] = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"id":'); // and never ends: the timeout must end it
    };
    const [read] = await readItems(base, 1, options);
    expect(read.ok).toBe(false);
  });

  test('names the region that answered a whoami read', async () => {
    handlers['/api/whoami'] = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"region":"us-east-1","availabilityZone":"us-east-1a"}');
    };
    const [read] = await readWhoami(base, 1, options);
    expect(read).toMatchObject({ ok: true, region: 'us-east-1' });
  });

  test('counts a refused connection as a failure', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, 'close');
    const [read] = await readItems(`http://127.0.0.1:${port}`, 1, options);
    expect(read.ok).toBe(false);
  });
});

describe('the observe environment', () => {
  const env = {
    AWS_REGION: 'eu-west-1',
    DEPLOYED_SETTINGS: JSON.stringify(SETTINGS),
    REGION_IMPAIRED_ALARM: IMPAIRED,
    WATCHED_ALARMS: '["Blueprint-eu-west-1-unhealthy-hosts"]',
    STATE_TABLE: 'chaos-state',
    SERVICE_ARN: ENV.service,
    REGION_ENDPOINT: 'http://blueprint-alb-123.eu-west-1.elb.amazonaws.com',
    AVAILABILITY_ZONES: '["eu-west-1a","eu-west-1b"]',
  };

  test("reads the construct's variables and puts the region-impaired alarm first among the watched", () => {
    expect(loadObserveEnv(env)).toMatchObject({
      watchedAlarms: [IMPAIRED, 'Blueprint-eu-west-1-unhealthy-hosts'],
      globalEndpoint: undefined,
      requestsPerPoll: 15,
      holdSeconds: 30,
    });
  });

  test('names each deployed setting that is missing', () => {
    expect(() => loadObserveEnv({ ...env, DEPLOYED_SETTINGS: '{"albIntervalSeconds":5}' })).toThrow(
      /missing or invalid: albHealthyThreshold, albUnhealthyThreshold, route53IntervalSeconds/,
    );
  });

  test('refuses an endpoint with a path', () => {
    expect(() => loadObserveEnv({ ...env, REGION_ENDPOINT: 'https://x.example.com/api' })).toThrow(
      'REGION_ENDPOINT environment variable must be a base URL such as https://api.example.com (no path), got "https://x.example.com/api"',
    );
  });
});
