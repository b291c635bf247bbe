import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { LocalReport } from '../../gameday/local/report';
import { DEFAULT_CONFIG } from '../../lib/config';

import { runCli, type CliResult } from './local/run-cli';

/**
 * CI's local game day: `npm run gameday:local -- <scenario> --quick` for the zero-length responder
 * and the lost task, with real processes (three bundled service replicas, memcached, dynalite,
 * HAProxy) on loopback. Each test reads the report JSON the run wrote and checks the acceptance
 * points: the bad target was ejected within its budget, no client got a zero-length response after
 * the ejection, and no acknowledged write was lost.
 */

const RUN_TIMEOUT_MS = 110_000;

let outDir: string;

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'gameday-local-test-'));
});

afterAll(async () => {
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

async function runQuick(scenario: string): Promise<{ result: CliResult; report: LocalReport }> {
  const out = join(outDir, scenario);
  const result = await runCli([scenario, '--quick', '--out', out], {}, RUN_TIMEOUT_MS);
  const files = existsSync(out) ? await readdir(out) : [];
  const json = files.find((file) => file.startsWith(`${scenario}-`) && file.endsWith('.json'));
  if (!json) {
    throw new Error(
      `no report for ${scenario} (exit ${result.code}):\n${result.stdout}\n${result.stderr}`,
    );
  }
  expect(files).toContain(json.replace(/\.json$/, '.html'));
  const report = JSON.parse(await readFile(join(out, json), 'utf8')) as LocalReport;
  return { result, report };
}

/** Seconds from injection to the balancer's DOWN for the bad target, read from the events. */
function ejectionSeconds(report: LocalReport): number {
  const [bad] = report.fault.badTargets;
  const down = report.balancerEvents.find(
    (event) =>
      event.target === bad && event.state === 'DOWN' && event.at >= report.timeline.injectedAt,
  );
  if (!down) throw new Error(`${bad} was never ejected: ${JSON.stringify(report.balancerEvents)}`);
  return (down.at - report.timeline.injectedAt) / 1000;
}

function expectNoAcknowledgedWriteLost(report: LocalReport): void {
  expect(report.writes.acknowledged).toBeGreaterThan(0);
  expect(report.writes.lost).toEqual([]);
  expect(report.writes.unreadable).toEqual([]);
  expect(report.writes.verified).toBe(report.writes.acknowledged);
}

function expectExitCodeToMatchVerdict(result: CliResult, report: LocalReport): void {
  expect(result.code).toBe(report.verdict === 'pass' ? 0 : 1);
  expect(result.stdout).toContain(report.summary);
}

test(
  'a zero-length responder is ejected within its budget, and clients get no empty body after that',
  async () => {
    // WHEN
    const { result, report } = await runQuick('zero-length-responder');

    // THEN the budget is derived from the health-check settings HAProxy ran with
    const { balancer } = report.plan;
    expect(balancer.intervalMs).toBe(
      DEFAULT_CONFIG.healthCheck.albIntervalSeconds * 1000 * report.plan.timeScale,
    );
    expect(report.budget.detectSeconds).toBeCloseTo(
      report.settings.faultPollSeconds +
        report.settings.selfEjectionSeconds +
        (balancer.intervalMs / 1000) * balancer.unhealthyThreshold,
    );
    // AND the fault reached clients (empty bodies, only from the bad target) before the ejection
    const [bad] = report.fault.badTargets;
    expect(report.zeroLengthResponses.length).toBeGreaterThan(0);
    const region = report.topology.regions[0].name;
    expect(
      new Set(report.zeroLengthResponses.map((response) => `${region}/${response.target}`)),
    ).toEqual(new Set([bad]));
    // AND the bad target was ejected within its budget
    expect(ejectionSeconds(report)).toBeLessThanOrEqual(report.budget.detectSeconds ?? 0);
    expect(report.timeline.detectedAt).toBeDefined();
    // AND no request sent after the ejection got an empty body
    const detectedAt = report.timeline.detectedAt ?? Infinity;
    expect(report.zeroLengthResponses.filter((response) => response.sentAt > detectedAt)).toEqual(
      [],
    );
    // AND no acknowledged write was lost
    expectNoAcknowledgedWriteLost(report);
    expectExitCodeToMatchVerdict(result, report);
  },
  RUN_TIMEOUT_MS + 10_000,
);

test(
  'a stopped task is deregistered at once and drains (users see no error), its replacement joins only after its checks, and no acknowledged write is lost',
  async () => {
    // WHEN
    const { result, report } = await runQuick('task-loss');

    // THEN the stopped target left the rotation at the injection itself: it was deregistered, as
    // StopTask does, not ejected by failing checks; so "time to detect" is not scored, as in AWS
    const [bad] = report.fault.badTargets;
    const first = report.balancerEvents.find(
      (event) => event.target === bad && event.at >= report.timeline.injectedAt,
    );
    expect(first).toMatchObject({ state: 'DOWN', reason: 'deregistered (maintenance)' });
    expect(report.score.checks.map((check) => check.name)).not.toContain('time to detect');
    // AND users saw no more errors than the budget allows, since no request went to the task
    // after its deregistration and it drained the ones it had
    const successRate = report.score.checks.find((check) => check.name === 'success rate');
    expect(successRate?.verdict).toBe('pass');
    // AND no client got a zero-length response after the deregistration
    const detectedAt = report.timeline.detectedAt ?? Infinity;
    expect(report.zeroLengthResponses.filter((response) => response.sentAt > detectedAt)).toEqual(
      [],
    );
    // AND the replacement (a new task id in the same AZ) came back into the rotation
    const az = bad.split('/')[1];
    expect(
      report.topology.regions[0].targets.find((target) => target.name === az)?.taskIds,
    ).toEqual([`${az}-task-1`, `${az}-task-2`]);
    // (deregistered; registered again, unchecked like an `initial` ALB target; UP after its checks)
    expect(
      report.balancerEvents
        .filter((event) => event.target === bad)
        .map((event) => [event.state, event.reason.split(',')[0]]),
    ).toEqual([
      ['DOWN', 'deregistered (maintenance)'],
      ['DOWN', 'registered'],
      ['UP', 'Layer7 check passed'],
    ]);
    const lastBucket = report.series.buckets.filter((bucket) => bucket.requests > 0).at(-2);
    expect(lastBucket?.byTarget[az]).toBeGreaterThan(0);
    // AND no acknowledged write was lost
    expectNoAcknowledgedWriteLost(report);
    expectExitCodeToMatchVerdict(result, report);
  },
  RUN_TIMEOUT_MS + 10_000,
);
