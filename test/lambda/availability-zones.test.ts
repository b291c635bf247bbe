import {
  AvailabilityZones,
  Ec2ApiError,
  UnknownAvailabilityZoneError,
  parseZones,
} from '../../lambda/shared/availability-zones';
import { FakeEc2 } from '../support/fake-ec2';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy';

const credentials = () =>
  Promise.resolve({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' });

let ec2: FakeEc2;
let proxy: FaultProxy;

beforeAll(async () => {
  ec2 = await FakeEc2.start('eu-west-1', {
    'eu-west-1a': 'euw1-az3',
    'eu-west-1b': 'euw1-az1',
    'eu-west-1c': 'euw1-az2',
  });
  proxy = await startFaultProxy({ targetPort: Number(new URL(ec2.endpoint).port) });
});
afterAll(async () => {
  await proxy?.stop();
  await ec2?.close();
});
beforeEach(() => {
  ec2.clear();
  proxy.heal();
});

/** A client through the fault proxy that retries without waiting. */
const zones = (options: { maxAttempts?: number; requestTimeoutMs?: number } = {}) =>
  new AvailabilityZones({
    region: 'eu-west-1',
    endpoint: proxy.endpoint,
    credentials,
    requestTimeoutMs: options.requestTimeoutMs ?? 2_000,
    maxAttempts: options.maxAttempts ?? 4,
    sleep: () => Promise.resolve(),
  });

describe('the AZ name to AZ ID lookup (EC2 DescribeAvailabilityZones on the query API)', () => {
  test('GIVEN a zone of the region THEN one request signed for ec2 in the region, and its AZ ID', async () => {
    // WHEN
    const id = await zones().zoneIdOf('eu-west-1c');
    // THEN
    expect(id).toBe('euw1-az2');
    expect(ec2.calls).toEqual([
      {
        action: 'DescribeAvailabilityZones',
        version: '2016-11-15',
        zoneNames: ['eu-west-1c'],
        signedFor: 'eu-west-1/ec2',
        answer: 'ok',
      },
    ]);
  });

  test('GIVEN a reset before the request landed THEN it asks again and answers', async () => {
    // GIVEN
    proxy.inject({ action: { kind: 'reset' } });
    // WHEN
    const id = await zones().zoneIdOf('eu-west-1a');
    // THEN
    expect(id).toBe('euw1-az3');
    expect(ec2.calls).toHaveLength(1);
  });

  test('GIVEN the response lost after the request landed THEN it asks again (a read) and answers', async () => {
    // GIVEN
    proxy.inject({ action: { kind: 'lose-response' } });
    // WHEN
    const id = await zones().zoneIdOf('eu-west-1b');
    // THEN both requests landed, the second answered
    expect(id).toBe('euw1-az1');
    expect(ec2.calls).toHaveLength(2);
  });

  test('GIVEN a response lost in a black hole after landing THEN the attempt times out and the next one answers', async () => {
    // GIVEN
    proxy.inject({ action: { kind: 'hang-response' } });
    // WHEN
    const id = await zones({ requestTimeoutMs: 1_000 }).zoneIdOf('eu-west-1b');
    // THEN
    expect(id).toBe('euw1-az1');
    expect(ec2.calls).toHaveLength(2);
  });

  test('GIVEN a black-holed link THEN every attempt times out and it fails with a TimeoutError after maxAttempts', async () => {
    // GIVEN
    proxy.setMode('black-hole');
    // WHEN
    const lookup = zones({ maxAttempts: 2, requestTimeoutMs: 200 }).zoneIdOf('eu-west-1a');
    // THEN
    await expect(lookup).rejects.toMatchObject({
      name: 'TimeoutError',
      message: 'no complete answer within 200 ms',
    });
    expect(ec2.calls).toHaveLength(0);
  });

  test('GIVEN a malformed (cut short) 200 THEN it asks again and answers', async () => {
    // GIVEN
    ec2.inject({ kind: 'malformed' });
    // WHEN
    const id = await zones().zoneIdOf('eu-west-1a');
    // THEN
    expect(id).toBe('euw1-az3');
    expect(ec2.calls.map((c) => c.answer)).toEqual(['malformed', 'ok']);
  });

  test('GIVEN only malformed answers THEN it fails naming the unreadable answer, after maxAttempts', async () => {
    // GIVEN
    ec2.inject({ kind: 'malformed' }, { kind: 'malformed' }, { kind: 'malformed' });
    // WHEN
    const lookup = zones({ maxAttempts: 3 }).zoneIdOf('eu-west-1a');
    // THEN
    await expect(lookup).rejects.toThrow(/^DescribeAvailabilityZones: unreadable 200 answer/);
    expect(ec2.calls).toHaveLength(3);
  });

  test('GIVEN throttling (503 RequestLimitExceeded) THEN it backs off, asks again and answers', async () => {
    // GIVEN
    ec2.inject({ kind: 'throttle' }, { kind: 'throttle' });
    const waits: number[] = [];
    const client = new AvailabilityZones({
      region: 'eu-west-1',
      endpoint: proxy.endpoint,
      credentials,
      backoffBaseMs: 100,
      random: () => 0.5,
      sleep: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
    });
    // WHEN
    const id = await client.zoneIdOf('eu-west-1c');
    // THEN exponential backoff with jitter between the attempts
    expect(id).toBe('euw1-az2');
    expect(waits).toEqual([50, 100]);
    expect(ec2.calls.map((c) => c.answer)).toEqual(['throttle', 'throttle', 'ok']);
  });

  test('GIVEN a client error (400 UnauthorizedOperation) THEN it is thrown at once with EC2 code, never retried', async () => {
    // GIVEN
    ec2.inject({ kind: 'error', code: 'UnauthorizedOperation' });
    // WHEN
    const lookup = zones().zoneIdOf('eu-west-1a');
    // THEN
    await expect(lookup).rejects.toBeInstanceOf(Ec2ApiError);
    await expect(zones().zoneIdOf('eu-west-1a')).resolves.toBe('euw1-az3');
    expect(ec2.calls.map((c) => c.answer)).toEqual(['error', 'ok']);
  });

  test('GIVEN the error answer THEN its message names the operation, code and EC2 message', async () => {
    ec2.inject({ kind: 'error', code: 'UnauthorizedOperation' });
    await expect(zones().zoneIdOf('eu-west-1a')).rejects.toThrow(
      'DescribeAvailabilityZones failed: UnauthorizedOperation: injected UnauthorizedOperation',
    );
  });

  test('GIVEN a zone name EC2 does not know THEN its InvalidParameterValue is thrown, naming the zone', async () => {
    await expect(zones().zoneIdOf('eu-west-1z')).rejects.toMatchObject({
      name: 'Ec2ApiError',
      code: 'InvalidParameterValue',
      message: expect.stringContaining('eu-west-1z') as unknown,
    });
    expect(ec2.calls).toHaveLength(1);
  });

  test('GIVEN something that is not a zone name THEN it is refused before any request', async () => {
    await expect(zones().zoneIdOf('euw1-az1')).rejects.toThrow(UnknownAvailabilityZoneError);
    await expect(zones().zoneIdOf('eu-west-1a&Action=RunInstances')).rejects.toThrow(
      /is not an availability zone name \(like eu-west-1a\)/,
    );
    expect(ec2.calls).toHaveLength(0);
  });
});

describe('parseZones', () => {
  test('reads zoneName and zoneId of each item, past nested items and parent zone fields', () => {
    const xml =
      '<DescribeAvailabilityZonesResponse xmlns="x"><availabilityZoneInfo>' +
      '<item><messageSet><item><message>m</message></item></messageSet><zoneName>eu-west-1a</zoneName>' +
      '<parentZoneId>p</parentZoneId><zoneId>euw1-az3</zoneId></item>' +
      '<item><zoneName>eu-west-1b</zoneName><zoneId>euw1-az1</zoneId></item>' +
      '</availabilityZoneInfo></DescribeAvailabilityZonesResponse>';
    expect(parseZones(xml)).toEqual([
      { zoneName: 'eu-west-1a', zoneId: 'euw1-az3' },
      { zoneName: 'eu-west-1b', zoneId: 'euw1-az1' },
    ]);
  });

  test('an empty zone list is a list; a cut-short answer, another document or a zone without ID is unreadable', () => {
    expect(
      parseZones(
        '<DescribeAvailabilityZonesResponse><availabilityZoneInfo/></DescribeAvailabilityZonesResponse>',
      ),
    ).toEqual([]);
    expect(
      parseZones('<DescribeAvailabilityZonesResponse><availabilityZoneInfo><item><zoneName>a'),
    ).toBeUndefined();
    expect(parseZones('<html>busy</html>')).toBeUndefined();
    expect(
      parseZones(
        '<DescribeAvailabilityZonesResponse><availabilityZoneInfo><item><zoneName>a</zoneName></item>' +
          '</availabilityZoneInfo></DescribeAvailabilityZonesResponse>',
      ),
    ).toBeUndefined();
  });
});
