/**
 * The edge-health writer: its KeyValueStore requests (SigV4A-signed, with the endpoint pointed
 * at a loopback fake speaking the KVS protocol) writing each region's health entry under faults:
 * the answer lost after the write landed, a reset, a late answer, ETag races (explored with
 * fast-check's scheduler), alarm events out of order, and malformed events.
 */
import type { Context } from 'aws-lambda';
import fc from 'fast-check';

import { EdgeHealthEventError, parseEdgeHealthEvent } from '../../lambda/edge-health/events';
import {
  HealthObservation,
  HealthStore,
  keyValueStoreHealth,
} from '../../lambda/edge-health/health-store';
import { handler, parseRegionAlarms } from '../../lambda/edge-health/index';
import { AlarmState, reconcile } from '../../lambda/edge-health/reconcile';
import { HealthWriteError, writeHealth } from '../../lambda/edge-health/write-health';
import { FakeKvs } from '../support/fake-kvs';

const ARN = 'arn:aws:cloudfront::111111111111:key-value-store/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const SEEDED = { 'us-east-1': 'healthy', 'eu-west-1': 'healthy' };
const ALARMS = { 'Unhealthy-us-east-1': 'us-east-1', 'Unhealthy-eu-west-1': 'eu-west-1' };
/** Short, so a late answer is lost quickly; the fake's late answer comes well after it. */
const REQUEST_TIMEOUT_MS = 300;
const LATE_MS = 2_000;
const noSleep = () => Promise.resolve();

function alarmEvent(alarmName: string, value: string, timestamp: string): unknown {
  return {
    version: '0',
    source: 'aws.cloudwatch',
    'detail-type': 'CloudWatch Alarm State Change',
    resources: [`arn:aws:cloudwatch:us-east-1:111111111111:alarm:${alarmName}`],
    detail: { alarmName, state: { value, reason: 'test', timestamp }, previousState: {} },
  };
}

const at = (minute: number) => new Date(Date.UTC(2026, 10, 30, 7, minute)).toISOString();
const unhealthy = (region: string, minute: number): HealthObservation => ({
  region,
  health: 'unhealthy',
  observedAt: at(minute),
});
const healthy = (region: string, minute: number): HealthObservation => ({
  region,
  health: 'healthy',
  observedAt: at(minute),
});

describe('edge-health writer against a KeyValueStore fake, through its signed SigV4A requests', () => {
  let kvs: FakeKvs;
  let store: HealthStore;

  beforeEach(async () => {
    kvs = await FakeKvs.start(ARN, SEEDED);
    store = keyValueStoreHealth(ARN, {
      endpoint: kvs.endpoint,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    });
  });
  afterEach(async () => {
    await kvs.close();
  });

  test('writes the value and its alarm time in one SigV4A-signed UpdateKeys conditioned on the current ETag', async () => {
    // GIVEN the seeded store, whose ETag is ETAG1
    // WHEN eu-west-1's alarm goes off
    const result = await writeHealth(store, unhealthy('eu-west-1', 5), { sleep: noSleep });
    // THEN one conditional write changed both keys
    expect(result).toEqual({ region: 'eu-west-1', outcome: 'written', writes: 1, retries: 0 });
    expect(kvs.snapshot()).toEqual({
      'eu-west-1': 'unhealthy',
      'eu-west-1.changed-at': at(5),
      'us-east-1': 'healthy',
    });
    const writes = kvs.calls.filter((c) => c.operation === 'UpdateKeys');
    expect(writes).toEqual([expect.objectContaining({ ifMatch: 'ETAG1', answer: 'ok' })]);
    // AND every call is signed with SigV4A over all regions, as the KVS API requires
    for (const call of kvs.calls) {
      expect(call).toMatchObject({ algorithm: 'AWS4-ECDSA-P256-SHA256', regionSet: '*' });
    }
  });

  test('a store ARN that is not a KeyValueStore ARN is refused, naming the form it must have', () => {
    expect(() => keyValueStoreHealth('arn:aws:s3:::bucket')).toThrow(
      '"arn:aws:s3:::bucket" is not a KeyValueStore ARN (arn:aws:cloudfront::<account>:key-value-store/<id>)',
    );
  });

  test('a write whose answer is lost after it landed is confirmed by reading back, never applied twice', async () => {
    // GIVEN the fake applies the next write, then cuts the connection
    kvs.inject([{ kind: 'lose-response' }]);
    // WHEN
    const result = await writeHealth(store, unhealthy('eu-west-1', 5), { sleep: noSleep });
    // THEN the read-back finds the same value and time: done, with one applied write
    expect(result.outcome).toBe('already');
    expect(kvs.appliedWrites).toBe(1);
    expect(kvs.snapshot()['eu-west-1']).toBe('unhealthy');
  });

  test('a write whose answer comes after the client timeout (a delay) is confirmed by reading back', async () => {
    // GIVEN the next write lands but answers after the client gave up
    kvs.inject([{ kind: 'delay', delayMs: LATE_MS }]);
    // WHEN
    const result = await writeHealth(store, unhealthy('eu-west-1', 5), { sleep: noSleep });
    // THEN
    expect(result.outcome).toBe('already');
    expect(kvs.appliedWrites).toBe(1);
  });

  test('a write reset before it landed is written again, once', async () => {
    // GIVEN the next write's connection is reset before anything is applied
    kvs.inject([{ kind: 'reset' }]);
    // WHEN
    const result = await writeHealth(store, unhealthy('eu-west-1', 5), { sleep: noSleep });
    // THEN
    expect(result).toMatchObject({ outcome: 'written', writes: 2, retries: 1 });
    expect(kvs.appliedWrites).toBe(1);
    expect(kvs.snapshot()['eu-west-1']).toBe('unhealthy');
  });

  test('reads that fail (reset, 500) are retried; nothing is written from a failed read', async () => {
    // GIVEN the first DescribeKeyValueStore is reset and the first GetKey fails with a 500
    kvs.inject([{ kind: 'reset' }, { kind: 'server-error' }], ['DescribeKeyValueStore', 'GetKey']);
    // WHEN
    const result = await writeHealth(store, unhealthy('eu-west-1', 5), { sleep: noSleep });
    // THEN
    expect(result.outcome).toBe('written');
    expect(kvs.appliedWrites).toBe(1);
  });

  test('an ETag conflict (another writer landed between read and write) starts over from a fresh ETag', async () => {
    // GIVEN another writer changes us-east-1 just before our first write reaches the store
    let raced = false;
    kvs.beforeWrite = () => {
      if (raced) return;
      raced = true;
      kvs.externalWrite({ 'us-east-1': 'unhealthy', 'us-east-1.changed-at': at(4) });
    };
    // WHEN
    const result = await writeHealth(store, unhealthy('eu-west-1', 5), { sleep: noSleep });
    // THEN the first write met a 409, the second used the new ETag, and the other write survived
    const writes = kvs.calls.filter((c) => c.operation === 'UpdateKeys');
    expect(writes.map((w) => [w.ifMatch, w.answer])).toEqual([
      ['ETAG1', 'conflict'],
      ['ETAG2', 'ok'],
    ]);
    expect(result).toMatchObject({ outcome: 'written', retries: 1 });
    expect(kvs.snapshot()).toMatchObject({ 'us-east-1': 'unhealthy', 'eu-west-1': 'unhealthy' });
  });

  test('gives up after a bounded number of ETag conflicts, backing off with capped full jitter', async () => {
    // GIVEN every write loses the race
    kvs.beforeWrite = () => kvs.externalWrite({ other: String(kvs.appliedWrites) });
    const delays: number[] = [];
    // WHEN the jitter draws its maximum each time
    const attempt = writeHealth(store, unhealthy('eu-west-1', 5), {
      maxAttempts: 5,
      baseDelayMs: 100,
      maxDelayMs: 300,
      random: () => 1,
      sleep: (ms) => {
        delays.push(ms);
        return Promise.resolve();
      },
    });
    // THEN a clear error, and delays doubling from the base up to the cap
    await expect(attempt).rejects.toThrow(HealthWriteError);
    await expect(attempt).rejects.toThrow(
      /gave up writing eu-west-1=unhealthy \(2026-11-30T07:05:00.000Z\) after 5 attempts; last: the store changed between read and write \(ETag conflict\)/,
    );
    expect(delays).toEqual([100, 200, 300, 300]);
    expect(kvs.snapshot()['eu-west-1']).toBe('healthy');
  });

  test('out-of-order alarm events: an older state arriving late never overwrites a newer one', async () => {
    // GIVEN the recovery at 07:09 was written first
    await writeHealth(store, healthy('eu-west-1', 9), { sleep: noSleep });
    // WHEN the alarm of 07:05 arrives late
    const late = await writeHealth(store, unhealthy('eu-west-1', 5), { sleep: noSleep });
    // THEN it is dropped as stale and the entry still says healthy at 07:09
    expect(late).toMatchObject({ outcome: 'stale', writes: 0 });
    expect(kvs.snapshot()).toMatchObject({
      'eu-west-1': 'healthy',
      'eu-west-1.changed-at': at(9),
    });
    expect(kvs.appliedWrites).toBe(1);
  });

  test('ETag races between concurrent writers, in every interleaving fast-check finds, leave each region at its newest state', async () => {
    const observation = fc.record({
      region: fc.constantFrom('us-east-1', 'eu-west-1'),
      health: fc.constantFrom('healthy' as const, 'unhealthy' as const),
      minute: fc.integer({ min: 0, max: 30 }),
    });
    let conflicts = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.uniqueArray(observation, {
          minLength: 2,
          maxLength: 4,
          selector: (o) => `${o.region}@${o.minute}`,
        }),
        async (s, observations) => {
          const conflictsBefore = kvs.calls.filter((c) => c.answer === 'conflict').length;
          // GIVEN a fresh seeded store, and every store call's start under the scheduler's control
          kvs.externalWrite({ 'us-east-1': 'healthy', 'eu-west-1': 'healthy' });
          for (const key of Object.keys(kvs.snapshot())) {
            if (key.endsWith('.changed-at')) kvs.externalWrite({ [key]: '' });
          }
          const scheduled: HealthStore = {
            etag: async () => {
              await s.schedule(Promise.resolve('etag'));
              return store.etag();
            },
            read: async (region) => {
              await s.schedule(Promise.resolve(`read ${region}`));
              return store.read(region);
            },
            write: async (etag, o) => {
              await s.schedule(Promise.resolve(`write ${o.region}=${o.health}@${o.observedAt}`));
              return store.write(etag, o);
            },
          };
          // WHEN they are written concurrently
          const writers = Promise.all(
            observations.map((o) =>
              writeHealth(
                scheduled,
                { region: o.region, health: o.health, observedAt: at(o.minute) },
                {
                  maxAttempts: 20,
                  sleep: () => s.schedule(Promise.resolve()).then(() => undefined),
                },
              ),
            ),
          );
          await s.waitFor(writers);
          // THEN every region holds its newest observation
          const snapshot = kvs.snapshot();
          for (const region of ['us-east-1', 'eu-west-1']) {
            const mine = observations.filter((o) => o.region === region);
            if (mine.length === 0) continue;
            const newest = mine.reduce((a, b) => (b.minute > a.minute ? b : a));
            expect([snapshot[region], snapshot[`${region}.changed-at`]]).toEqual([
              newest.health,
              at(newest.minute),
            ]);
          }
          conflicts += kvs.calls.filter((c) => c.answer === 'conflict').length - conflictsBefore;
        },
      ),
      {
        numRuns: 25,
        verbose: 1,
        // Printed by fast-check on failure, with the failing schedule, so it can be replayed.
        reporter: (details) => {
          if (details.failed) {
            throw new Error(
              `seed ${details.seed}, path ${details.counterexamplePath}:\n${fc.defaultReportMessage(details)}`,
            );
          }
        },
      },
    );
    // AND the schedules did make writers race (else the property proved nothing)
    expect(conflicts).toBeGreaterThan(0);
  });

  test('reconcile writes only the regions whose alarm disagrees with the store, and a quiet run writes nothing', async () => {
    // GIVEN eu-west-1's alarm is in ALARM since 07:05 (its event was lost), us-east-1's is OK
    // and us-east-1's has no data
    const states: AlarmState[] = [
      { alarmName: 'Unhealthy-eu-west-1', stateValue: 'ALARM', stateUpdatedAt: new Date(at(5)) },
      {
        alarmName: 'Unhealthy-us-east-1',
        stateValue: 'INSUFFICIENT_DATA',
        stateUpdatedAt: new Date(at(1)),
      },
    ];
    // WHEN the schedule reconciles twice
    const first = await reconcile(() => Promise.resolve(states), store, ALARMS, { sleep: noSleep });
    const second = await reconcile(() => Promise.resolve(states), store, ALARMS, {
      sleep: noSleep,
    });
    // THEN the first corrects eu-west-1, leaves the unknown one alone; the second writes nothing
    expect(first.results).toEqual([
      expect.objectContaining({ region: 'eu-west-1', outcome: 'written' }),
    ]);
    expect(first.unknown).toEqual(['us-east-1']);
    expect(second.results).toEqual([
      expect.objectContaining({ region: 'eu-west-1', outcome: 'already' }),
    ]);
    expect(kvs.appliedWrites).toBe(1);
    expect(kvs.snapshot()).toMatchObject({ 'eu-west-1': 'unhealthy', 'us-east-1': 'healthy' });
  });

  test('reconcile reports an alarm DescribeAlarms no longer returns', async () => {
    const result = await reconcile(() => Promise.resolve([]), store, ALARMS, { sleep: noSleep });
    expect(result.missingAlarms).toEqual(['Unhealthy-us-east-1', 'Unhealthy-eu-west-1']);
    expect(kvs.appliedWrites).toBe(0);
  });
});

describe('edge-health events', () => {
  test('an alarm state change becomes the region, its health and the alarm time', () => {
    expect(
      parseEdgeHealthEvent(
        alarmEvent('Unhealthy-eu-west-1', 'ALARM', '2026-11-30T07:05:00.123+0000'),
        ALARMS,
      ),
    ).toEqual({
      kind: 'alarm-state',
      observation: {
        region: 'eu-west-1',
        health: 'unhealthy',
        observedAt: '2026-11-30T07:05:00.123Z',
      },
    });
    expect(
      parseEdgeHealthEvent(alarmEvent('Unhealthy-eu-west-1', 'OK', at(6)), ALARMS),
    ).toMatchObject({
      observation: { health: 'healthy' },
    });
  });

  test('INSUFFICIENT_DATA leaves the entry alone', () => {
    expect(
      parseEdgeHealthEvent(alarmEvent('Unhealthy-eu-west-1', 'INSUFFICIENT_DATA', at(6)), ALARMS),
    ).toEqual({
      kind: 'alarm-state',
      observation: undefined,
    });
  });

  test('the schedule asks for a reconcile', () => {
    expect(
      parseEdgeHealthEvent({ source: 'aws.events', 'detail-type': 'Scheduled Event' }, ALARMS),
    ).toEqual({
      kind: 'reconcile',
    });
  });

  test.each([
    ['not an object', 'hello', /the event must be a JSON object, got "hello"/],
    [
      'another source',
      { source: 'aws.ec2', 'detail-type': 'x' },
      /source\/detail-type must be aws.cloudwatch/,
    ],
    [
      'an unknown alarm',
      alarmEvent('SomeoneElses', 'ALARM', at(1)),
      /detail.alarmName must be one of the region alarms \(Unhealthy-us-east-1, Unhealthy-eu-west-1\), got "SomeoneElses"/,
    ],
    [
      'an unknown state',
      alarmEvent('Unhealthy-eu-west-1', 'BROKEN', at(1)),
      /detail.state.value must be one of OK, ALARM, INSUFFICIENT_DATA, got "BROKEN"/,
    ],
    [
      'no timestamp',
      alarmEvent('Unhealthy-eu-west-1', 'ALARM', 'yesterday'),
      /detail.state.timestamp must be an ISO-8601 time, got "yesterday"/,
    ],
  ])('a malformed event (%s) gets a clear error', (_name, event, message) => {
    expect(() => parseEdgeHealthEvent(event, ALARMS)).toThrow(EdgeHealthEventError);
    expect(() => parseEdgeHealthEvent(event, ALARMS)).toThrow(message);
  });

  test('the handler answers a malformed event with the problem, no stack, and no store call', async () => {
    // GIVEN a configured function whose store is a fake that records every call
    const kvs = await FakeKvs.start(ARN, SEEDED);
    try {
      process.env.KVS_ARN = ARN;
      process.env.REGION_ALARMS = JSON.stringify({
        'us-east-1': 'Unhealthy-us-east-1',
        'eu-west-1': 'Unhealthy-eu-west-1',
      });
      // WHEN it gets an alarm event for an alarm that is not a region's
      const invoke = handler(alarmEvent('SomeoneElses', 'ALARM', at(1)), {
        awsRequestId: 'req-1',
      } as Context);
      // THEN
      await expect(invoke).rejects.toThrow(
        /^EdgeHealthEventError: Invalid event: detail.alarmName must be one of the region alarms/,
      );
      await invoke.catch((error: Error) => expect(error.stack).toBe(''));
      expect(kvs.calls).toEqual([]);
    } finally {
      delete process.env.KVS_ARN;
      delete process.env.REGION_ALARMS;
      await kvs.close();
    }
  });

  test.each([
    ['an array', ['Unhealthy-eu-west-1']],
    ['an empty object', {}],
    ['one alarm for two regions', { 'us-east-1': 'A', 'eu-west-1': 'A' }],
  ])('REGION_ALARMS as %s is refused with what it must be', (_name, value) => {
    expect(() => parseRegionAlarms(value)).toThrow(
      /REGION_ALARMS must be a non-empty JSON object of region to a distinct alarm name/,
    );
  });
});
