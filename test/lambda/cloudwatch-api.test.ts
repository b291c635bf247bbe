/**
 * The alarm-state reads of gameday-observe, edge-health and the chaos functions' preflight through the small CloudWatch client
 * (lambda/shared/cloudwatch-api.ts), against a fake CloudWatch that speaks DescribeAlarms on the
 * JSON 1.0 protocol (test/support/fake-cloudwatch.ts), with the loopback fault proxy between them.
 */
import { cloudWatchAlarmStates } from '../../lambda/edge-health/reconcile';
import { describeAlarmStates } from '../../lambda/gameday-observe/observe-function';
import { CloudWatchApi } from '../../lambda/shared/cloudwatch-api';
import { GuardrailRefusal } from '../../lambda/shared/errors';
import { assertRegionNotImpaired } from '../../lambda/shared/experiment';
import { FakeCloudWatch, type FakeAlarm } from '../support/fake-cloudwatch';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy';
import { signedClientOptions } from '../support/signed-client-options';

const IMPAIRED = 'Blueprint-eu-west-1-region-impaired';
const UNHEALTHY = 'Blueprint-eu-west-1-unhealthy-hosts';
const UPDATED = Date.parse('2026-12-01T10:00:00.250Z') / 1000;

let fake: FakeCloudWatch;
let proxy: FaultProxy;
let cloudWatch: CloudWatchApi;
const backoffs: number[] = [];

async function start(alarms: readonly FakeAlarm[]): Promise<void> {
  fake = await FakeCloudWatch.start(alarms);
  proxy = await startFaultProxy({ targetPort: Number(new URL(fake.endpoint).port) });
  cloudWatch = new CloudWatchApi(
    signedClientOptions(proxy.endpoint, backoffs, { region: 'eu-west-1' }),
  );
}

beforeEach(async () => {
  backoffs.length = 0;
  await start([
    { name: IMPAIRED, type: 'CompositeAlarm', state: 'ALARM', updatedAt: UPDATED },
    { name: UNHEALTHY, type: 'MetricAlarm', state: 'OK', updatedAt: UPDATED },
  ]);
});
afterEach(async () => {
  await proxy.stop();
  await fake.close();
});

describe('gameday-observe: alarm states by name', () => {
  test('GIVEN a composite and a metric alarm WHEN read with a missing name THEN each state, and MISSING for the one that does not exist', async () => {
    // WHEN
    const states = await describeAlarmStates(cloudWatch, [IMPAIRED, UNHEALTHY, 'gone']);

    // THEN
    expect(states).toEqual({ [IMPAIRED]: 'ALARM', [UNHEALTHY]: 'OK', gone: 'MISSING' });
    expect(fake.calls.map((c) => c.input)).toEqual([
      {
        AlarmNames: [IMPAIRED, UNHEALTHY, 'gone'],
        AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
        MaxRecords: 100,
      },
    ]);
    const signed = (request: Buffer) =>
      /Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/monitoring\/aws4_request/.test(
        request.toString('latin1'),
      );
    expect(proxy.requestsSeen(signed)).toBe(1);
  });

  test('GIVEN 150 alarms WHEN all are read THEN two requests of at most 100 names, and every page of each', async () => {
    // GIVEN
    await proxy.stop();
    await fake.close();
    const many = Array.from({ length: 150 }, (_, i) => `alarm-${i}`);
    await start(many.map((name) => ({ name, type: 'MetricAlarm', state: 'OK', updatedAt: 1 })));

    // WHEN
    const states = await describeAlarmStates(cloudWatch, many);

    // THEN
    expect(Object.values(states).filter((s) => s === 'OK')).toHaveLength(150);
    expect(fake.calls.map((c) => (c.input.AlarmNames as string[]).length)).toEqual([100, 50]);
  });

  test('throttled, then a 500, then late: GIVEN each once THEN the read is asked again each time and answers', async () => {
    // GIVEN
    fake.inject({ kind: 'throttle' }, { kind: 'server-error' }, { kind: 'slow', delayMs: 1_000 });

    // WHEN
    const states = await describeAlarmStates(cloudWatch, [IMPAIRED]);

    // THEN
    expect(states).toEqual({ [IMPAIRED]: 'ALARM' });
    expect(fake.calls.map((c) => c.answer)).toEqual(['throttle', 'server-error', 'slow', 'ok']);
    expect(backoffs).toHaveLength(3);
  });

  test('lost response: GIVEN the answer was lost THEN the read is asked again and answers', async () => {
    proxy.inject({ action: { kind: 'lose-response' } });
    await expect(describeAlarmStates(cloudWatch, [UNHEALTHY])).resolves.toEqual({
      [UNHEALTHY]: 'OK',
    });
    expect(fake.calls).toHaveLength(2);
  });

  test('black hole: GIVEN CloudWatch never answers THEN every attempt times out and the timeout is thrown', async () => {
    proxy.setMode('black-hole');
    await expect(describeAlarmStates(cloudWatch, [IMPAIRED])).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    expect(backoffs).toHaveLength(3);
  });
});

describe('edge-health: metric alarm states for the reconcile', () => {
  test('GIVEN a metric alarm WHEN read THEN its state and when it changed, from the seconds the JSON protocol sends', async () => {
    // WHEN
    const states = await cloudWatchAlarmStates(cloudWatch)([UNHEALTHY, IMPAIRED]);

    // THEN only the metric alarm (the composite is not asked for), with its time to the millisecond
    expect(states).toEqual([
      {
        alarmName: UNHEALTHY,
        stateValue: 'OK',
        stateUpdatedAt: new Date('2026-12-01T10:00:00.250Z'),
      },
    ]);
    expect(fake.calls[0].input.AlarmTypes).toEqual(['MetricAlarm']);
  });
});

describe('chaos preflight: the region-impaired alarm must be known OK', () => {
  test('GIVEN the composite alarm OK THEN the experiment may go on', async () => {
    fake.alarms.get(IMPAIRED)!.state = 'OK';
    await expect(assertRegionNotImpaired(cloudWatch, IMPAIRED)).resolves.toBeUndefined();
    expect(fake.calls[0].input).toEqual({
      AlarmNames: [IMPAIRED],
      AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
    });
  });

  test.each([
    ['in ALARM', IMPAIRED, /is in ALARM/],
    ['missing', 'gone', /was not found/],
  ])('GIVEN the alarm %s THEN a region-impaired refusal', async (_, name, message) => {
    const refusal = await assertRegionNotImpaired(cloudWatch, name).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(GuardrailRefusal);
    expect(refusal).toMatchObject({ message: expect.stringMatching(message) as unknown });
  });

  test('black hole: GIVEN CloudWatch never answers THEN the preflight fails, never going on', async () => {
    fake.alarms.get(IMPAIRED)!.state = 'OK';
    proxy.setMode('black-hole');
    await expect(assertRegionNotImpaired(cloudWatch, IMPAIRED)).rejects.toMatchObject({
      name: 'TimeoutError',
    });
  });
});
