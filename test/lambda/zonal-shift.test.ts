import fc from 'fast-check';

import { OutcomeUnknownError } from '../../lambda/shared/errors';
import {
  ZonalShiftRefusal,
  endExperimentShifts,
  expiresInFor,
  shiftComment,
  startExperimentShift,
} from '../../lambda/shared/zonal-shift';
import { ZonalShiftApiError, ZonalShiftClient } from '../../lambda/shared/zonal-shift-client';
import { ArcInjection, FakeArcZonalShift } from '../support/fake-arc-zonal-shift';

const ALB =
  'arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/Blueprint/0123456789abcdef';
const credentials = () =>
  Promise.resolve({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' });

/** An answer this late is past the client's request timeout. */
const LATE_MS = 2_500;

let arc: FakeArcZonalShift;
let client: ZonalShiftClient;

beforeAll(async () => {
  arc = await FakeArcZonalShift.start();
  client = new ZonalShiftClient({
    region: 'eu-west-1',
    endpoint: arc.endpoint,
    credentials,
    // Well above a loopback round trip even on a loaded CI machine; every injected late answer
    // (LATE_MS) is well above it, so a late answer is always a timeout.
    requestTimeoutMs: 1_000,
    sleep: () => Promise.resolve(),
  });
});
afterAll(async () => {
  await arc.close();
});
beforeEach(() => {
  arc.shifts.length = 0;
  arc.calls.length = 0;
  // A property run that ended early leaves its unused injections queued: never let them reach
  // the next test.
  arc.clearInjections();
});

const start = (experimentId = 'exp-1', awayFrom = 'euw1-az3') =>
  startExperimentShift(client, {
    experimentId,
    resourceIdentifier: ALB,
    awayFrom,
    expiresInMinutes: 30,
  });
const starts = () => arc.calls.filter((c) => c.operation === 'StartZonalShift').length;

describe('the ARC zonal shift client', () => {
  test('signs every request with SigV4 for arc-zonal-shift in the region', async () => {
    await start();
    expect(arc.calls.length).toBeGreaterThan(0);
    for (const call of arc.calls) expect(call.signedFor).toBe('eu-west-1/arc-zonal-shift');
  });

  test('reads every page of ListZonalShifts', async () => {
    arc.addShift({
      resourceIdentifier: ALB,
      awayFrom: 'a',
      expiresIn: '1h',
      comment: 'x',
      status: 'EXPIRED',
    });
    arc.addShift({
      resourceIdentifier: ALB,
      awayFrom: 'b',
      expiresIn: '1h',
      comment: 'y',
      status: 'CANCELED',
    });
    arc.addShift({
      resourceIdentifier: ALB,
      awayFrom: 'c',
      expiresIn: '1h',
      comment: 'z',
      status: 'EXPIRED',
    });
    const all = await client.listZonalShifts({ resourceIdentifier: ALB });
    expect(all.map((s) => s.awayFrom)).toEqual(['a', 'b', 'c']);
  });

  test('retries a throttled list and answers', async () => {
    arc.inject('ListZonalShifts', { kind: 'throttle' }, { kind: 'server-error' });
    expect(await client.listZonalShifts({ resourceIdentifier: ALB, status: 'ACTIVE' })).toEqual([]);
  });

  test('names the error type and reason of a refused call', async () => {
    arc.addShift({
      resourceIdentifier: ALB,
      awayFrom: 'a',
      expiresIn: '1h',
      comment: 'x',
      status: 'ACTIVE',
    });
    const error = await client
      .startZonalShift({ resourceIdentifier: ALB, awayFrom: 'b', expiresIn: '30m', comment: 'c' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ZonalShiftApiError);
    expect((error as ZonalShiftApiError).type).toBe('ConflictException');
    expect((error as ZonalShiftApiError).reason).toBe('ZonalShiftAlreadyExists');
  });

  test('a start whose answer is lost after it landed is UNKNOWN, never a plain failure', async () => {
    arc.inject('StartZonalShift', { kind: 'lost', delayMs: LATE_MS });
    await expect(
      client.startZonalShift({
        resourceIdentifier: ALB,
        awayFrom: 'b',
        expiresIn: '30m',
        comment: 'c',
      }),
    ).rejects.toBeInstanceOf(OutcomeUnknownError);
    expect(arc.active(ALB)).toHaveLength(1);
  });
});

describe('startExperimentShift', () => {
  test('starts one shift away from the AZ ID, marked with the experiment and expiring by itself', async () => {
    const result = await start();
    expect(result.how).toBe('started');
    expect(arc.active(ALB)).toEqual([
      expect.objectContaining({
        awayFrom: 'euw1-az3',
        expiresIn: '30m',
        comment: shiftComment('exp-1'),
      }),
    ]);
  });

  test('a response lost after the start landed: finds ours by its comment and starts no second one', async () => {
    arc.inject('StartZonalShift', { kind: 'lost', delayMs: LATE_MS });
    const result = await start();
    expect(result.how).toBe('recovered');
    expect(starts()).toBe(1);
    expect(arc.active(ALB)).toHaveLength(1);
    expect(result.shift.zonalShiftId).toBe(arc.active(ALB)[0].zonalShiftId);
  });

  test.each<[string, ArcInjection]>([
    ['a reset before it landed', { kind: 'reset' }],
    ['a reset after it landed', { kind: 'reset-after-apply' }],
    ['a 500 before it landed', { kind: 'server-error' }],
    ['an unreadable 200 after it landed', { kind: 'malformed' }],
  ])('%s: exactly one active shift afterwards, and it is ours', async (_name, injection) => {
    arc.inject('StartZonalShift', injection);
    const result = await start();
    expect(arc.active(ALB)).toHaveLength(1);
    expect(result.shift.zonalShiftId).toBe(arc.active(ALB)[0].zonalShiftId);
    expect(result.shift.comment).toBe(shiftComment('exp-1'));
  });

  test('a second call for the same experiment (a retried step) finds ours and starts nothing', async () => {
    await start();
    const again = await start();
    expect(again.how).toBe('found');
    expect(starts()).toBe(1);
  });

  test("refuses while someone else's shift is active on the resource, and starts nothing", async () => {
    arc.addShift({
      resourceIdentifier: ALB,
      awayFrom: 'euw1-az1',
      expiresIn: '1h',
      comment: 'operator: AZ1 packet loss',
      status: 'ACTIVE',
    });
    await expect(start()).rejects.toThrow(ZonalShiftRefusal);
    await expect(start()).rejects.toThrow(
      /already has an active zonal shift .* away from euw1-az1/,
    );
    expect(starts()).toBe(0);
  });

  test('gives up UNKNOWN after repeated resets, never piling up shifts', async () => {
    arc.inject('StartZonalShift', { kind: 'reset' }, { kind: 'reset' }, { kind: 'reset' });
    await expect(start()).rejects.toBeInstanceOf(OutcomeUnknownError);
    expect(arc.active(ALB)).toHaveLength(0);
  });

  test('any mix of faults on start and list leaves at most one active shift, and a success names it', async () => {
    const fault = fc.constantFrom<ArcInjection | undefined>(
      undefined,
      { kind: 'lost', delayMs: LATE_MS },
      { kind: 'reset' },
      { kind: 'reset-after-apply' },
      { kind: 'server-error' },
      { kind: 'malformed' },
      { kind: 'throttle' },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fault, { maxLength: 4 }),
        fc.array(
          fc.constantFrom<ArcInjection | undefined>(
            undefined,
            { kind: 'throttle' },
            { kind: 'server-error' },
          ),
          { maxLength: 2 },
        ),
        async (startFaults, listFaults) => {
          arc.shifts.length = 0;
          arc.calls.length = 0;
          arc.clearInjections();
          for (const f of startFaults) if (f) arc.inject('StartZonalShift', f);
          for (const f of listFaults) if (f) arc.inject('ListZonalShifts', f);
          const outcome: Awaited<ReturnType<typeof start>> | Error = await start().catch(
            (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
          );
          expect(arc.active(ALB).length).toBeLessThanOrEqual(1);
          if (!(outcome instanceof Error)) {
            expect(outcome.shift.zonalShiftId).toBe(arc.active(ALB)[0]?.zonalShiftId);
          }
        },
      ),
      { numRuns: 25, verbose: true },
    );
  });
});

describe('endExperimentShifts', () => {
  test('cancels ours and verifies by a fresh list that none is active', async () => {
    const { shift } = await start();
    const result = await endExperimentShifts(client, {
      experimentId: 'exp-1',
      resourceIdentifier: ALB,
    });
    expect(result).toEqual({ cancelled: [shift.zonalShiftId], stillActive: [] });
    expect(arc.active(ALB)).toEqual([]);
  });

  test('a cancel whose answer is lost after it landed: cancels again, takes "not active" as done', async () => {
    await start();
    arc.inject('CancelZonalShift', { kind: 'lost', delayMs: LATE_MS });
    const result = await endExperimentShifts(client, {
      experimentId: 'exp-1',
      resourceIdentifier: ALB,
    });
    expect(result.stillActive).toEqual([]);
    expect(
      arc.calls.filter((c) => c.operation === 'CancelZonalShift').map((c) => c.answer),
    ).toEqual(['lost', 409]);
  });

  test('is idempotent: a second end finds nothing to cancel', async () => {
    await start();
    await endExperimentShifts(client, { experimentId: 'exp-1', resourceIdentifier: ALB });
    expect(
      await endExperimentShifts(client, { experimentId: 'exp-1', resourceIdentifier: ALB }),
    ).toEqual({
      cancelled: [],
      stillActive: [],
    });
  });

  test("never cancels a shift that is not this experiment's", async () => {
    const other = arc.addShift({
      resourceIdentifier: ALB,
      awayFrom: 'euw1-az1',
      expiresIn: '1h',
      comment: 'operator',
      status: 'ACTIVE',
    });
    const result = await endExperimentShifts(client, {
      experimentId: 'exp-1',
      resourceIdentifier: ALB,
    });
    expect(result.cancelled).toEqual([]);
    expect(other.status).toBe('ACTIVE');
  });

  test('reports a shift it could not cancel as still active (three cancels reset)', async () => {
    await start();
    arc.inject('CancelZonalShift', { kind: 'reset' }, { kind: 'reset' }, { kind: 'reset' });
    await expect(
      endExperimentShifts(client, { experimentId: 'exp-1', resourceIdentifier: ALB }),
    ).rejects.toBeInstanceOf(OutcomeUnknownError);
    expect(arc.active(ALB)).toHaveLength(1);
  });
});

describe('expiresInFor', () => {
  test('writes minutes as ARC takes them, and refuses beyond 3 days', () => {
    expect(expiresInFor(30)).toBe('30m');
    expect(() => expiresInFor(0)).toThrow('a zonal shift lasts 1 to 4320 minutes, got 0');
    expect(() => expiresInFor(4321)).toThrow('a zonal shift lasts 1 to 4320 minutes, got 4321');
  });
});
