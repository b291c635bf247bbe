import fc from 'fast-check';

import type { ReadResult } from '../../lambda/gameday-observe/client-reads';
import { GuardrailRefusal } from '../../lambda/shared/errors';
import type { ExperimentState } from '../../lambda/shared/state-table';
import { endExperimentShifts, shiftComment } from '../../lambda/shared/zonal-shift';
import { ZonalShiftClient } from '../../lambda/shared/zonal-shift-client';
import { observeShift, startObservation } from '../../lambda/zonal-shift/mitigation';
import {
  ZonalShiftDeps,
  parseZonalShiftEvent,
  zonalShiftFunction,
} from '../../lambda/zonal-shift/zonal-shift-function';
import { FakeArcZonalShift } from '../support/fake-arc-zonal-shift';

const ALB =
  'arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/api/0123456789abcdef';
const T0 = Date.parse('2026-03-01T12:00:00Z');
const ok: ReadResult = { ok: true, latencyMs: 5, faulted: false };
const failed: ReadResult = { ok: false, latencyMs: 5, faulted: false };

describe('observeShift: time to shift and user errors', () => {
  const limits = { holdPolls: 2, timeoutSeconds: 120 };
  const first = startObservation({
    experimentId: 'exp-1',
    zonalShiftId: 'zs-1',
    availabilityZone: 'eu-west-1c',
    awayFrom: 'euw1-az3',
    startedAt: T0,
  });

  test('counts errors until ARC applied the shift and every read succeeded, then holds', () => {
    // GIVEN errors while ARC has not applied, then applied with one error, then clean polls
    let o = observeShift(first, { at: T0 + 5_000, appliedWeight: 1, reads: [ok, failed] }, limits);
    o = observeShift(o, { at: T0 + 10_000, appliedWeight: 0, reads: [failed, ok] }, limits);
    expect(o.appliedAt).toBe(T0 + 10_000);
    expect(o.shiftedAt).toBeUndefined();
    o = observeShift(o, { at: T0 + 15_000, appliedWeight: 0, reads: [ok, ok] }, limits);
    // THEN users stopped seeing errors 15 s after the start, after 2 errors
    expect(o.shiftedAt).toBe(T0 + 15_000);
    expect(o.timeToShiftSeconds).toBe(15);
    expect(o.errorsDuringShift).toBe(2);
    expect(o.done).toBe(false);
    o = observeShift(o, { at: T0 + 20_000, appliedWeight: 0, reads: [ok] }, limits);
    o = observeShift(o, { at: T0 + 25_000, appliedWeight: 0, reads: [ok] }, limits);
    expect(o).toMatchObject({
      done: true,
      reason: 'held',
      errorsAfterShift: 0,
      polls: 5,
      reads: 8,
    });
  });

  test('clean reads before ARC applied the weight do not count as shifted', () => {
    const o = observeShift(first, { at: T0 + 5_000, appliedWeight: 1, reads: [ok, ok] }, limits);
    expect(o.shiftedAt).toBeUndefined();
  });

  test('an error after the shift resets the hold and is counted apart', () => {
    let o = observeShift(first, { at: T0 + 5_000, appliedWeight: 0, reads: [ok] }, limits);
    o = observeShift(o, { at: T0 + 10_000, appliedWeight: 0, reads: [failed] }, limits);
    expect(o).toMatchObject({ cleanPolls: 0, errorsAfterShift: 1, errorsDuringShift: 0 });
  });

  test('ends at the deadline when the shift never took, with no time to shift', () => {
    const o = observeShift(first, { at: T0 + 120_000, appliedWeight: 1, reads: [failed] }, limits);
    expect(o).toMatchObject({ done: true, reason: 'timeout', errorsDuringShift: 1 });
    expect(o.timeToShiftSeconds).toBeUndefined();
  });
});

describe('parseZonalShiftEvent', () => {
  test('refuses a start without an AZ, naming the field and what is allowed', () => {
    expect(() => parseZonalShiftEvent({ action: 'start', experimentId: 'exp-1' })).toThrow(
      'availabilityZone is required: an AZ name such as eu-west-1a',
    );
  });

  test('refuses an observe whose observation lost its AZ ID', () => {
    expect(() =>
      parseZonalShiftEvent({
        action: 'observe',
        shift: {
          ...startObservation({
            experimentId: 'e',
            zonalShiftId: 'zs-1',
            availabilityZone: 'eu-west-1a',
            awayFrom: 'x',
            startedAt: 1,
          }),
        },
      }),
    ).toThrow('shift: awayFrom must be an AZ ID such as euw1-az1, got "x"');
  });

  test('refuses an unknown action', () => {
    expect(() =>
      parseZonalShiftEvent({ action: 'stop', experimentId: 'e', availabilityZone: 'eu-west-1a' }),
    ).toThrow(/action must be "start"/);
  });
});

describe('the zonal-shift function against the ARC fake', () => {
  let arc: FakeArcZonalShift;
  let client: ZonalShiftClient;
  beforeAll(async () => {
    arc = await FakeArcZonalShift.start();
    client = new ZonalShiftClient({
      region: 'eu-west-1',
      endpoint: arc.endpoint,
      credentials: () => Promise.resolve({ accessKeyId: 'AKID', secretAccessKey: 'secret' }),
      requestTimeoutMs: 300,
      sleep: () => Promise.resolve(),
    });
  });
  afterAll(async () => {
    await arc.close();
  });
  beforeEach(() => {
    arc.shifts.length = 0;
    arc.calls.length = 0;
    arc.clearInjections();
  });

  const state = (status: ExperimentState['status'], experimentId = 'exp-1'): ExperimentState => ({
    experimentId,
    kind: 'az-outage',
    status,
    version: 3,
    startedAt: new Date(T0).toISOString(),
    faultExpiresAt: new Date(T0 + 10 * 60_000).toISOString(),
    plan: { summary: '', affectedTaskIds: [], stopTasks: [], addFaults: [] },
  });
  const deps = (over: Partial<ZonalShiftDeps> = {}): ZonalShiftDeps => ({
    api: client,
    resourceIdentifier: ALB,
    azIdOf: (name) => Promise.resolve(name === 'eu-west-1c' ? 'euw1-az3' : 'euw1-az1'),
    state: () => Promise.resolve(state('active')),
    reads: () => Promise.resolve([ok]),
    limits: { holdPolls: 1, timeoutSeconds: 300 },
    maxFaultDurationMinutes: 30,
    now: () => T0 + 60_000,
    ...over,
  });
  const startEvent = parseZonalShiftEvent({
    action: 'start',
    experimentId: 'exp-1',
    availabilityZone: 'eu-west-1c',
  });

  test('shifts away from the AZ ID of the AZ name, expiring with the fault', async () => {
    const observation = await zonalShiftFunction(startEvent, deps());
    expect(observation).toMatchObject({ awayFrom: 'euw1-az3', availabilityZone: 'eu-west-1c' });
    expect(arc.active(ALB)).toEqual([
      expect.objectContaining({
        awayFrom: 'euw1-az3',
        expiresIn: '9m',
        comment: shiftComment('exp-1'),
      }),
    ]);
  });

  test('one poll reads the weight ARC applied to the AZ', async () => {
    const started = await zonalShiftFunction(startEvent, deps());
    const polled = await zonalShiftFunction(
      parseZonalShiftEvent({ action: 'observe', shift: started }),
      deps({ now: () => T0 + 70_000 }),
    );
    expect(polled).toMatchObject({
      appliedAt: T0 + 70_000,
      shiftedAt: T0 + 70_000,
      timeToShiftSeconds: 10,
    });
  });

  test.each<[string, ExperimentState | undefined]>([
    ['no experiment has run', undefined],
    ['another experiment is running', state('active', 'exp-other')],
    ['the experiment is being restored', state('restoring')],
    ['the experiment was restored', state('restored')],
  ])('refuses when %s, and starts nothing', async (_name, current) => {
    await expect(
      zonalShiftFunction(startEvent, deps({ state: () => Promise.resolve(current) })),
    ).rejects.toThrow(GuardrailRefusal);
    expect(arc.calls.filter((c) => c.operation === 'StartZonalShift')).toEqual([]);
  });

  test("refuses while an operator's shift is active on the load balancer", async () => {
    arc.addShift({
      resourceIdentifier: ALB,
      awayFrom: 'euw1-az1',
      expiresIn: '1h',
      comment: 'ops',
      status: 'ACTIVE',
    });
    await expect(zonalShiftFunction(startEvent, deps())).rejects.toThrow(
      /already has an active zonal shift/,
    );
  });

  test('a restore racing the start never leaves our shift active, whatever the interleaving', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), async (s) => {
        arc.shifts.length = 0;
        let status: ExperimentState['status'] = 'active';
        const scheduled = {
          ...client,
          listZonalShifts: s.scheduleFunction(
            (input: Parameters<typeof client.listZonalShifts>[0]) => client.listZonalShifts(input),
          ),
          startZonalShift: s.scheduleFunction(
            (input: Parameters<typeof client.startZonalShift>[0]) => client.startZonalShift(input),
          ),
          cancelZonalShift: s.scheduleFunction((id: string) => client.cancelZonalShift(id)),
          getManagedResource: (id: string) => client.getManagedResource(id),
        } as unknown as ZonalShiftClient;
        const readState = s.scheduleFunction(() => Promise.resolve(state(status)));
        // The restore: claims the experiment (restored), then ends its shifts, as restore.ts does.
        const restorer = (async () => {
          await s.schedule(Promise.resolve('claim'));
          status = 'restored';
          await endExperimentShifts(scheduled, { experimentId: 'exp-1', resourceIdentifier: ALB });
        })();
        const starter = zonalShiftFunction(
          startEvent,
          deps({ api: scheduled, state: readState }),
        ).catch((e: unknown) => e);
        await s.waitFor(Promise.all([restorer, starter]));
        expect(arc.active(ALB)).toEqual([]);
      }),
      { numRuns: 30, verbose: true },
    );
  });
});
