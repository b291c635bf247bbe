/**
 * The az-outage rehearsal's mitigation: a local zonal shift (HAProxy maint on the lost AZ's
 * targets), measured from the requests. The numbers first, then one quick run with real processes
 * (bundled service replicas, memcached, dynalite, HAProxy) on loopback.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Actions } from '../../../gameday/local/actions';
import { zonalShiftNumbers } from '../../../gameday/local/assemble';
import type { Sample } from '../../../gameday/local/load';
import type { LocalReport } from '../../../gameday/local/report';

import { runCli } from './run-cli';

const T0 = 1_000_000;
const sample = (sentAt: number, ok: boolean, target?: string): Sample => ({
  at: sentAt + 5,
  sentAt,
  latencyMs: 5,
  kind: 'read',
  status: ok ? 200 : 503,
  ok,
  zeroLength: false,
  ...(target ? { target } : {}),
});
const actions = (startedAt: number | undefined) =>
  ({
    zonalShift: { target: 'az-b', startedAt: () => startedAt, endedAt: () => undefined },
  }) as unknown as Actions;

describe('zonalShiftNumbers', () => {
  test('times the shift to the last request that failed or reached the shifted AZ, and splits the errors', () => {
    // GIVEN errors before the shift, one request in flight to az-b after it started, then clean
    const samples = [
      sample(T0 + 100, false),
      sample(T0 + 200, true, 'az-a'),
      sample(T0 + 1_000, false),
      sample(T0 + 1_200, true, 'az-b'),
      sample(T0 + 1_500, true, 'az-a'),
      sample(T0 + 2_000, true, 'az-c'),
    ];
    // WHEN the shift started at +1000 and the restore came at +5000
    const numbers = zonalShiftNumbers({ actions: actions(T0 + 1_000), samples }, T0, T0 + 5_000);
    // THEN
    expect(numbers).toMatchObject({
      shiftedAt: T0 + 1_200,
      timeToShiftSeconds: 0.2,
      before: { requests: 2, errors: 1 },
      during: { requests: 2, errors: 1 },
      after: { requests: 2, errors: 0 },
      servedByShiftedAz: 1,
    });
  });

  test('is absent when no shift started (another scenario, or restored first)', () => {
    expect(zonalShiftNumbers({ actions: actions(undefined), samples: [] }, T0, T0 + 1)).toBe(
      undefined,
    );
  });
});

const RUN_TIMEOUT_MS = 110_000;

test(
  'the az-outage rehearsal shifts away from the lost AZ before the health check would, and reports time to shift and user errors',
  async () => {
    const out = await mkdtemp(join(tmpdir(), 'gameday-zonal-shift-'));
    try {
      // WHEN
      const result = await runCli(['az-outage', '--quick', '--out', out], {}, RUN_TIMEOUT_MS);
      const files = existsSync(out) ? await readdir(out) : [];
      const json = files.find((file) => file.startsWith('az-outage-') && file.endsWith('.json'));
      if (!json)
        throw new Error(`no report (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
      const report = JSON.parse(await readFile(join(out, json), 'utf8')) as LocalReport;

      // THEN the shift took the lost AZ out through HAProxy's runtime API
      const shift = report.zonalShift;
      expect(shift).toBeDefined();
      const [bad] = report.fault.badTargets;
      expect(bad.endsWith(`/${shift?.target ?? ''}`)).toBe(true);
      const maint = report.balancerEvents.find(
        (event) => event.target === bad && event.reason === 'deregistered (maintenance)',
      );
      expect(maint?.at).toBeGreaterThanOrEqual(shift?.startedAt ?? Infinity);
      // AND users saw no error after the AZ stopped getting requests, until the restore
      expect(shift?.after.errors).toBe(0);
      expect(shift?.after.requests).toBeGreaterThan(0);
      // AND the report scores time to shift against the health check's ejection budget
      const check = report.localChecks.find((c) => c.name === 'time to zonal shift');
      expect(check).toMatchObject({
        measured: shift?.timeToShiftSeconds,
        budget: (report.plan.balancer.intervalMs * report.plan.balancer.unhealthyThreshold) / 1000,
      });
      expect(result.stdout).toContain('time to zonal shift');
      // AND the shift ended with the restore
      expect(shift?.endedAt).toBeDefined();
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  },
  RUN_TIMEOUT_MS + 10_000,
);
