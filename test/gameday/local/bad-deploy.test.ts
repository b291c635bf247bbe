import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { deployGateChecks } from '../../../gameday/local/assemble';
import type { DeployGateRecord } from '../../../gameday/local/bad-deploy';
import type { Sample } from '../../../gameday/local/load';
import { planRun } from '../../../gameday/local/plan';
import type { LocalReport } from '../../../gameday/local/report';
import type { GateVerdict } from '../../../lambda/deploy-gate/gate';
import { DEFAULT_CONFIG } from '../../../lib/config';

import { runCli } from './run-cli';

/**
 * The "bad deploy" rehearsal with real processes: three bundled replicas behind HAProxy under user
 * load, a new revision started with the empty-response fault (bypassGuard: empty 200s leave it),
 * the deploy gate (lambda/deploy-gate/gate.ts) checking it in-process before HAProxy gets it.
 */

let outDir: string;

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'gameday-bad-deploy-test-'));
});

afterAll(async () => {
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

test('empty-response revision: GIVEN user load through HAProxy WHEN a revision answering empty 200s is deployed THEN the deploy gate refuses it, HAProxy never gets it and users get 0 empty bodies', async () => {
  // WHEN
  const result = await runCli(['bad-deploy', '--quick', '--out', outDir], {}, 110_000);

  // THEN a report was written
  const files = existsSync(outDir) ? await readdir(outDir) : [];
  const json = files.find((file) => file.startsWith('bad-deploy-') && file.endsWith('.json'));
  if (!json)
    throw new Error(`no report (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  expect(files).toContain(json.replace(/\.json$/, '.html'));
  const report = JSON.parse(await readFile(join(outDir, json), 'utf8')) as LocalReport;
  const gate = report.deployGate as DeployGateRecord;

  // ...the control call proves the revision really answers empty 200s
  expect(gate.control).toMatchObject({ status: 200, bytes: 0, faultInjected: 'empty-response' });
  // ...the gate refused it, naming the empty bodies
  expect(gate.verdict.passed).toBe(false);
  expect(gate.verdict.checks.filter((check) => check.failure === 'empty-body').length).toBe(3);
  expect(gate.registered).toBe(false);
  expect(gate.rolledBackAt).toBeGreaterThanOrEqual(gate.gateEndedAt);
  // ...HAProxy never got the revision: no target was registered (re-addressed) during the run
  expect(report.balancerEvents.filter((event) => event.reason.includes('registered'))).toEqual([]);
  // ...users kept being served, and none got an empty body
  expect(report.requests.total).toBeGreaterThan(0);
  expect(report.requests.zeroLength).toBe(0);
  expect(report.zeroLengthResponses).toEqual([]);
  expect(report.writes.lost).toEqual([]);
  // ...and the timeline shows the refusal
  expect(report.timeline.detectedAt).toBe(gate.gateEndedAt);
  expect(report.markers.map((marker) => marker.label)).toEqual(
    expect.arrayContaining([
      expect.stringMatching(
        /^control: GET \/api\/items\/_health-sentinel on .* answered 200 with 0 bytes$/,
      ),
      expect.stringMatching(/^deploy gate REFUSED /),
      expect.stringMatching(/^rolled back: /),
    ]),
  );
  expect(report.localChecks.map((check) => [check.name, check.measured, check.verdict])).toEqual([
    ['zero-length responses delivered to users', 0, 'pass'],
    ['control call without an empty 200', 0, 'pass'],
    ['bad revisions the deploy gate passed', 0, 'pass'],
    ['bad revisions registered in HAProxy', 0, 'pass'],
    ['acknowledged writes lost', 0, 'pass'],
  ]);
  expect(report.verdict).toBe('pass');
  expect(result.code).toBe(0);
  expect(result.stdout).toContain('Deploy gate: REFUSED');
});

describe('bad-deploy checks', () => {
  const verdict = (passed: boolean): GateVerdict => ({
    passed,
    baseUrl: 'http://127.0.0.1:1',
    attempts: 1,
    checks: [],
    problems: [],
  });
  const record = (overrides: Partial<DeployGateRecord>): DeployGateRecord => ({
    revisionTaskId: 'us-east-1a-rev2-task-1',
    revisionUrl: 'http://127.0.0.1:1',
    control: { path: '/api/items/_health-sentinel', status: 200, bytes: 0 },
    verdict: verdict(false),
    gateStartedAt: 1,
    gateEndedAt: 2,
    registered: false,
    ...overrides,
  });
  const measured = (checks: ReturnType<typeof deployGateChecks>) =>
    Object.fromEntries(checks.map((check) => [check.name, check.measured]));

  test('a gate that passed the bad revision (which then got registered) is counted against the run', () => {
    const checks = deployGateChecks(record({ verdict: verdict(true), registered: true }), []);

    expect(measured(checks)).toMatchObject({
      'bad revisions the deploy gate passed': 1,
      'bad revisions registered in HAProxy': 1,
    });
  });

  test('a control call that did not get an empty 200 makes the run prove nothing, and it says so', () => {
    const checks = deployGateChecks(
      record({ control: { path: '/api/items/_health-sentinel', status: 200, bytes: 120 } }),
      [],
    );

    expect(measured(checks)['control call without an empty 200']).toBe(1);
  });

  test('an empty body any user got counts, whenever it was', () => {
    const sample = { zeroLength: true } as Sample;

    expect(
      measured(deployGateChecks(record({}), [sample]))['zero-length responses delivered to users'],
    ).toBe(1);
  });
});

describe('the bad-deploy plan', () => {
  test('the budget is the task start plus the gate longest run, from the gate settings the run uses', () => {
    const plan = planRun('bad-deploy', DEFAULT_CONFIG, { quick: true, rate: 30 });

    expect(plan.deployGate).toEqual({ attempts: 3, spacingMs: 400, timeoutMs: 3000 });
    // 3 attempts × 4 checks × 3 s + 2 waits × 0.4 s
    expect(plan.settings.deployGateSeconds).toBeCloseTo(36.8);
    expect(plan.budget.detectSeconds).toBeCloseTo(plan.settings.taskStartSeconds + 36.8);
    expect(plan.budget.minSuccessRate).toBe(0.999);
    expect(plan.holdSeconds).toBeUndefined();
  });
});
