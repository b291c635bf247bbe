import { Metrics } from '@aws-lambda-powertools/metrics';

import {
  buildReport,
  emitMetrics,
  failureOf,
  parseReportEvent,
  storeReport,
} from '../../lambda/gameday-reporter/report';
import type { ReportEnv } from '../../lambda/gameday-shared/env';
import { renderReport } from '../../lambda/gameday-shared/report';
import {
  GameDayState,
  Observation,
  RunPlan,
  SCENARIO_RUNS,
  runLimits,
  scoredBudget,
} from '../../lambda/gameday-shared/run';
import { AwsApiError } from '../../lambda/shared/aws-json-api';
import { keyPath, S3Objects } from '../../lambda/shared/s3-objects';
import { SCENARIOS, ScenarioName } from '../../lib/gameday/scenarios';
import { FakeS3 } from '../support/fake-s3';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy';
import { signedClientOptions } from '../support/signed-client-options';

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
const ENV: ReportEnv = {
  region: 'eu-west-1',
  settings: SETTINGS,
  bucket: 'blueprint-gameday-reports',
};
const T0 = Date.parse('2026-11-21T10:00:00.000Z');
const at = (seconds: number) => T0 + seconds * 1000;
const isoAt = (seconds: number) => new Date(at(seconds)).toISOString();
const FINISHED = new Date(at(120));

function run(scenario: ScenarioName, dryRun = false): RunPlan {
  // As the preflight plans it: scored on the scenario's budget less what it does not score.
  const budget = scoredBudget(scenario, SCENARIOS[scenario].budget(SETTINGS));
  return {
    scenario,
    experimentId: `gd-${scenario}-20261121-100000`,
    dryRun,
    region: 'eu-west-1',
    inject: 'stop-tasks',
    injectEvent: { experimentId: `gd-${scenario}-20261121-100000`, dryRun, count: 1 },
    budget,
    limits: runLimits(scenario, SCENARIOS[scenario].budget(SETTINGS), 30),
    clientEndpoint: 'https://eu-west-1.api.example.com',
    startedAt: at(-4),
  };
}

const observation = (o: Partial<Observation>): Observation => ({
  phase: 'recovery',
  phaseStartedAt: at(80),
  polls: 20,
  done: true,
  reason: 'recovered',
  faultPhaseEnd: 'recovered',
  timeline: {},
  requests: { total: 0, succeeded: 0 },
  lowestHealthy: 3,
  alarmsFired: {},
  series: [],
  ...o,
});

/**
 * A recorded task-loss run (the timeline test/gameday/scoring.test.ts scores): the stopped task
 * was ejected after 12.4 s, its replacement was healthy at 71 s, the restore ran at 80 s, and
 * 996 of 1000 client reads succeeded.
 */
const TASK_LOSS: GameDayState = {
  preflight: {
    ok: true,
    problems: [],
    run: run('task-loss'),
    baseline: { healthy: 3, unhealthy: 0, initial: 0, draining: 0, other: 0, total: 3 },
  },
  inject: {
    ok: true,
    result: { status: 'applied', plan: { summary: 'stop 1 of 3 task(s)' } },
  },
  injectedAt: { at: isoAt(0) },
  restore: {
    ok: true,
    result: { status: 'restored', detail: 'undid: stop 1 of 3 task(s)' },
  },
  restoredAt: { at: isoAt(80) },
  observation: observation({
    timeline: {
      injectedAt: at(0),
      detectedAt: at(12.4),
      trafficMovedAt: at(12.4),
      recoveredAt: at(71),
      restoredAt: at(80),
    },
    requests: { total: 1000, succeeded: 996 },
    lowestHealthy: 2,
    alarmsFired: { 'Blueprint-eu-west-1-unhealthy-hosts': at(64) },
    series: [{ t: 12.4, healthy: 2, ok: 15, total: 15 }],
  }),
};

const event = (state: GameDayState, execution = 'gd-task-loss-20261121-100000') =>
  parseReportEvent({ execution, startedAt: isoAt(-5), state });

describe('the report of a recorded task-loss run', () => {
  const report = buildReport(event(TASK_LOSS), ENV, FINISHED);

  test('scores the run against the deployed budget and passes it', () => {
    expect(report.outcome).toBe('completed');
    expect(report.score).toMatchObject({
      // recovery counts from the injection: ECS replaced the task while the fault stood
      timeToRecoverSeconds: 71,
      successRate: 0.996,
      verdict: 'pass',
    });
    expect(report.summary).toBe('PASS: every check within budget');
  });

  test('lists every moment as a time and as seconds after the injection', () => {
    expect(report.timeline).toEqual({
      injectedAt: '2026-11-21T10:00:00.000Z',
      detectedAt: '2026-11-21T10:00:12.400Z',
      trafficMovedAt: '2026-11-21T10:00:12.400Z',
      restoredAt: '2026-11-21T10:01:20.000Z',
      recoveredAt: '2026-11-21T10:01:11.000Z',
    });
    expect(report.seconds).toEqual({
      detected: 12.4,
      trafficMoved: 12.4,
      restored: 80,
      recovered: 71,
    });
    expect(report.signals.alarmsFired).toEqual({ 'Blueprint-eu-west-1-unhealthy-hosts': 64 });
  });

  test('is stored under the scenario and the execution name', () => {
    expect(report.location).toEqual({
      bucket: 'blueprint-gameday-reports',
      key: 'reports/task-loss/gd-task-loss-20261121-100000.json',
    });
  });

  test('renders the verdict, each check against its budget and how the budget was derived', () => {
    const text = renderReport(report);
    expect(text).toContain(
      'eu-west-1 · experiment gd-task-loss-20261121-100000 · completed · verdict PASS',
    );
    expect(text).toContain('PASS  time to recover: 71 s (budget ≤ 100 s)');
    expect(text).toContain('PASS  success rate: 99.6 % (budget ≥ 99 %)');
    expect(text).toContain('Budget: detect = ALB interval 5 s × unhealthy threshold 3');
    expect(text).toContain('  detected       +12.4 s');
    // in the order they happened: the replacement was healthy before the (empty) restore
    expect(text.indexOf('  recovered      +71.0 s')).toBeLessThan(
      text.indexOf('  restored       +80.0 s'),
    );
    expect(text).toContain('  Blueprint-eu-west-1-unhealthy-hosts at +64.0 s');
  });
});

describe('what a lost-task report measures', () => {
  const report = buildReport(event(TASK_LOSS), ENV, FINISHED);

  test('task-loss is not scored on time to detect: StopTask deregistered the target at once, so the first poll timed the deregistration', () => {
    expect(report.score?.checks.map((c) => c.name)).toEqual(['time to recover', 'success rate']);
    expect(report.budget?.derivation).toContain(
      'the 15 s detect budget is not scored in AWS: StopTask deregisters the target at once',
    );
  });

  test("says which event each figure times: users' errors and the time to full capacity", () => {
    const text = renderReport(report);
    expect(text).toContain('What each figure times:');
    expect(text).toContain('  time to detect: not scored: StopTask deregisters the target at once');
    expect(text).toContain(
      '  time to recover: time to full capacity: injection to the first poll with as many healthy targets as before',
    );
    expect(text).toContain("  success rate: users' errors: the share of client reads");
    expect(report.measures).toEqual(SCENARIO_RUNS['task-loss'].measures);
  });

  test('zero-length-responder is scored on the health check ejecting the bad task, and says so', () => {
    const state: GameDayState = {
      ...TASK_LOSS,
      preflight: { ...TASK_LOSS.preflight!, run: run('zero-length-responder') },
    };
    const zeroLength = buildReport(event(state), ENV, FINISHED);
    expect(zeroLength.score?.checks.map((c) => c.name)).toContain('time to detect');
    expect(zeroLength.measures?.detect).toContain(
      "the load balancer's health check has taken the bad task out",
    );
  });
});

describe('reports of runs that did not complete', () => {
  test('a refused preflight lists why, and is not scored', () => {
    const report = buildReport(
      event({
        preflight: {
          ok: false,
          problems: ['alarm Blueprint-eu-west-1-region-impaired is ALARM, not OK'],
          run: run('latency'),
        },
      }),
      ENV,
      FINISHED,
    );
    expect(report).toMatchObject({
      outcome: 'refused',
      summary: 'refused: alarm Blueprint-eu-west-1-region-impaired is ALARM, not OK',
    });
    expect(report.score).toBeUndefined();
    expect(report.inject).toBeUndefined();
  });

  test('a chaos function that refused names its code and message', () => {
    const report = buildReport(
      event({
        ...TASK_LOSS,
        inject: {
          ok: false,
          error: { code: 'REFUSED', message: 'service api is not tagged chaos-enabled=true' },
        },
        observation: undefined,
      }),
      ENV,
      FINISHED,
    );
    expect(report.summary).toBe(
      'refused by stop-tasks: REFUSED: service api is not tagged chaos-enabled=true',
    );
    expect(report.score).toBeUndefined();
  });

  test('a failure after the injection is reported without the stack the runtime recorded', () => {
    const cause = JSON.stringify({
      errorType: 'Error',
      errorMessage: 'connect ETIMEDOUT 10.0.0.1:443',
      trace: ['Error: connect ETIMEDOUT', '    at TCPConnectWrap.afterConnect (node:net:1555:16)'],
    });
    const report = buildReport(
      event({ ...TASK_LOSS, failure: { Error: 'Error', Cause: cause } }),
      ENV,
      FINISHED,
    );
    expect(report.outcome).toBe('aborted');
    expect(report.failure).toEqual({ error: 'Error', message: 'connect ETIMEDOUT 10.0.0.1:443' });
    expect(JSON.stringify(report)).not.toContain('afterConnect');
    expect(report.summary).toMatch(
      /^aborted after injection \(Error: connect ETIMEDOUT 10\.0\.0\.1:443\); restored\. PASS/,
    );
  });

  test('a failed restore says so loudly and points at the runbook', () => {
    const report = buildReport(
      event({
        ...TASK_LOSS,
        restore: undefined,
        restoreFailure: { Error: 'States.Timeout', Cause: 'Task timed out after 80 seconds' },
      }),
      ENV,
      FINISHED,
    );
    expect(report.outcome).toBe('restore-failed');
    expect(report.summary).toBe(
      'RESTORE FAILED (Task timed out after 80 seconds); clean up by hand: docs/gameday/task-loss.md',
    );
    expect(report.restore).toEqual({ status: 'failed', detail: 'Task timed out after 80 seconds' });
  });

  test('a dry run shows the plan and changes nothing', () => {
    const report = buildReport(
      event({
        preflight: { ...TASK_LOSS.preflight!, run: run('task-loss', true) },
        inject: {
          ok: true,
          result: { status: 'dry-run', plan: { summary: 'stop 1 of 3 task(s)' } },
        },
        injectedAt: { at: isoAt(0) },
        observation: observation({ reason: 'not-injected', faultPhaseEnd: 'not-injected' }),
        restore: { ok: true, result: { status: 'nothing-to-restore' } },
      }),
      ENV,
      FINISHED,
    );
    expect(report).toMatchObject({
      outcome: 'dry-run',
      dryRun: true,
      summary: 'dry run, nothing changed; would: stop 1 of 3 task(s)',
    });
    expect(report.score).toBeUndefined();
  });

  test('a run the region-impaired alarm stopped is scored and marked stopped', () => {
    const report = buildReport(
      event({
        ...TASK_LOSS,
        observation: observation({
          ...TASK_LOSS.observation,
          faultPhaseEnd: 'stop-condition',
        }),
      }),
      ENV,
      FINISHED,
    );
    expect(report.outcome).toBe('stopped');
    expect(report.summary).toMatch(/^stopped early, the region-impaired alarm fired; restored\./);
  });

  test('an ejection during a scenario that expects none is flagged', () => {
    const report = buildReport(
      event({
        ...TASK_LOSS,
        preflight: { ...TASK_LOSS.preflight!, run: run('cache-outage') },
      }),
      ENV,
      FINISHED,
    );
    expect(report.signals.unexpectedEjection).toBe(true);
    expect(renderReport(report)).toContain(
      'NOTE  a target left the healthy set, which this scenario expects not to happen',
    );
  });

  test('an invalid input is filed under invalid-input, named by the execution', () => {
    const report = buildReport(
      event(
        { preflight: { ok: false, problems: ['input: scenario must be one of ...'] } },
        'exec-1',
      ),
      ENV,
      FINISHED,
    );
    expect(report.location.key).toBe('reports/invalid-input/exec-1.json');
    expect(report.experimentId).toBe('exec-1');
  });
});

describe('failure causes', () => {
  test('keeps the first line of a plain-text cause', () => {
    expect(failureOf({ Error: 'States.Timeout', Cause: 'timed out\nmore' })).toEqual({
      error: 'States.Timeout',
      message: 'timed out',
    });
  });
});

describe('storing and measuring', () => {
  const report = buildReport(event(TASK_LOSS), ENV, FINISHED);
  const KEY = 'blueprint-gameday-reports/reports/task-loss/gd-task-loss-20261121-100000.json';
  let fake: FakeS3;
  let proxy: FaultProxy;
  let s3: S3Objects;
  const backoffs: number[] = [];

  beforeEach(async () => {
    backoffs.length = 0;
    fake = await FakeS3.start(['blueprint-gameday-reports']);
    proxy = await startFaultProxy({ targetPort: Number(new URL(fake.endpoint).port) });
    s3 = new S3Objects(signedClientOptions(proxy.endpoint, backoffs, { region: 'eu-west-1' }));
  });
  afterEach(async () => {
    await proxy.stop();
    await fake.close();
  });

  test('GIVEN a report WHEN it is stored THEN one signed PUT writes it as JSON where its location says', async () => {
    // WHEN
    await storeReport(s3, report);

    // THEN
    const stored = fake.objects.get(KEY);
    expect(stored?.contentType).toBe('application/json');
    expect(JSON.parse(stored?.body ?? '')).toEqual(JSON.parse(JSON.stringify(report)));
    expect(fake.puts).toEqual([
      { key: 'reports/task-loss/gd-task-loss-20261121-100000.json', answer: 'ok' },
    ]);
  });

  test('lost response: GIVEN the PUT landed and its answer was lost THEN it is put again (a repeat, not a new question) and the report is stored once, whole', async () => {
    // GIVEN
    proxy.inject({ action: { kind: 'lose-response' } });

    // WHEN
    await storeReport(s3, report);

    // THEN
    expect(fake.puts.map((p) => p.answer)).toEqual(['ok', 'ok']);
    expect(JSON.parse(fake.objects.get(KEY)?.body ?? '')).toEqual(
      JSON.parse(JSON.stringify(report)),
    );
    expect(backoffs).toHaveLength(1);
  });

  test('slow answer, then SlowDown and a 500: GIVEN S3 answers late and then throttles THEN each is asked again, and the report is stored', async () => {
    // GIVEN
    fake.inject({ kind: 'slow', delayMs: 1_000 }, { kind: 'slow-down' }, { kind: 'server-error' });

    // WHEN
    await storeReport(s3, report);

    // THEN
    expect(fake.puts.map((p) => p.answer)).toEqual(['slow', 'slow-down', 'server-error', 'ok']);
    expect(fake.objects.has(KEY)).toBe(true);
  });

  test("a missing bucket is thrown at once with S3's code and message, not asked again", async () => {
    // GIVEN
    const elsewhere = { ...report, location: { ...report.location, bucket: 'no-such-bucket' } };

    // WHEN / THEN
    await expect(storeReport(s3, elsewhere)).rejects.toThrow(
      new AwsApiError('PutObject', 'NoSuchBucket', 404, 'The specified bucket does not exist'),
    );
    expect(fake.puts).toHaveLength(1);
    expect(backoffs).toEqual([]);
  });

  test('black hole: GIVEN S3 never answers THEN every attempt times out and the timeout is thrown', async () => {
    // GIVEN
    proxy.setMode('black-hole');

    // WHEN / THEN
    await expect(storeReport(s3, report)).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(backoffs).toHaveLength(3);
  });

  test('a key with spaces, parentheses and a quote is sent percent-encoded once and stored under the same key', async () => {
    // GIVEN
    const key = "reports/it's (1)/a b+c.json";
    expect(keyPath(key)).toBe('reports/it%27s%20%281%29/a%20b%2Bc.json');

    // WHEN
    await s3.put('blueprint-gameday-reports', key, '{}', 'application/json');

    // THEN
    expect(fake.objects.get(`blueprint-gameday-reports/${key}`)?.body).toBe('{}');
  });

  test('a bucket name a TLS virtual-hosted address cannot take is refused before any request', async () => {
    const dotted = { ...report, location: { ...report.location, bucket: 'reports.example.com' } };
    await expect(storeReport(s3, dotted)).rejects.toThrow(
      'S3 bucket name "reports.example.com" must be 3-63 lowercase letters, digits and hyphens (no dots)',
    );
    expect(fake.puts).toEqual([]);
  });

  test('emits the run count, the measured times, the success rate and the verdict as EMF', () => {
    // GIVEN a real Metrics instance whose EMF lines are captured
    const lines: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      const metrics = new Metrics({ namespace: 'GameDayTest', serviceName: 'gameday-report' });
      // WHEN
      emitMetrics(metrics, report);
    } finally {
      write.mockRestore();
    }
    // THEN
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records).toEqual([
      expect.objectContaining({ Runs: 1, scenario: 'task-loss', outcome: 'completed' }),
      expect.objectContaining({
        scenario: 'task-loss',
        TimeToDetect: 12.4,
        TimeToRecover: 71,
        SuccessRate: 99.6,
        Passed: 1,
      }),
    ]);
  });
});

describe('the report event', () => {
  test('refuses an event without the execution name or state', () => {
    expect(() => parseReportEvent({ startedAt: isoAt(0) })).toThrow(
      'Invalid event: execution is required: the execution name',
    );
    expect(() => parseReportEvent({ execution: 'x', startedAt: isoAt(0), state: [] })).toThrow(
      'state must be the state machine state, a JSON object',
    );
  });
});

describe('the report of an az-outage run with its zonal shift', () => {
  const shift = {
    experimentId: 'gd-az-outage-1',
    zonalShiftId: 'zs-1',
    availabilityZone: 'eu-west-1c',
    awayFrom: 'euw1-az3',
    startedAt: at(20),
    polls: 5,
    reads: 75,
    errorsDuringShift: 2,
    errorsAfterShift: 0,
    appliedAt: at(25),
    shiftedAt: at(30),
    cleanPolls: 4,
    done: true,
    reason: 'held' as const,
    timeToShiftSeconds: 10,
  };

  test('shows time to shift and users errors during and after it', () => {
    const report = buildReport(event({ ...TASK_LOSS, mitigation: shift }), ENV, FINISHED);
    expect(report.zonalShift).toEqual({
      zonalShiftId: 'zs-1',
      availabilityZone: 'eu-west-1c',
      awayFrom: 'euw1-az3',
      timeToShiftSeconds: 10,
      errorsDuringShift: 2,
      errorsAfterShift: 0,
      reads: 75,
      end: 'held',
    });
  });

  test('says why the shift did not start, from the failure the state machine caught', () => {
    const report = buildReport(
      event({
        ...TASK_LOSS,
        mitigationFailure: {
          Error: 'GuardrailRefusal',
          Cause: 'NO_TARGET: arn already has an active zonal shift zs-9 away from euw1-az1',
        },
      }),
      ENV,
      FINISHED,
    );
    expect(report.zonalShift?.failure).toContain('already has an active zonal shift zs-9');
  });

  test('has no zonal shift section for a run without one', () => {
    expect(buildReport(event(TASK_LOSS), ENV, FINISHED).zonalShift).toBeUndefined();
  });
});
