/**
 * The restore path ends the az-outage game day's zonal shift on every exit: the state machine's
 * restore, the rule's restore after an aborted execution, and the sweep. ECS is the fake ECS
 * endpoint, ARC the fake zonal shift endpoint (both on loopback), the state table is dynalite;
 * SSM and CloudWatch have no local server and are mocked.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';

import { azOutage, parseAzOutageEvent } from '../../lambda/az-outage/az-outage';
import { parseRestoreEvent, restore } from '../../lambda/restore/restore';
import { EcsApi } from '../../lambda/shared/ecs-api';
import type { ExperimentShifts } from '../../lambda/shared/experiment';
import { endExperimentShifts, startExperimentShift } from '../../lambda/shared/zonal-shift';
import { ZonalShiftClient } from '../../lambda/shared/zonal-shift-client';
import { FakeArcZonalShift } from '../support/fake-arc-zonal-shift';
import { FakeEcs, fakeFleet } from '../support/fake-ecs';
import { signedClientOptions } from '../support/signed-client-options';

import { TestDeps, testDeps } from './helpers';
import { LocalDynamo, startLocalDynamo } from './local-dynamo';
import { mockAlarm, mockFaultParameter } from './mocks';

const ALB =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/api/0123456789abcdef';
const cloudWatch = mockClient(CloudWatchClient);
const ssm = mockClient(SSMClient);
const T0 = Date.parse('2026-03-01T12:00:00Z');

let dynamo: LocalDynamo;
let fake: FakeEcs;
let arc: FakeArcZonalShift;
let ecs: EcsApi;
let zonal: ZonalShiftClient;
let deps: TestDeps;
let tables = 0;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  arc = await FakeArcZonalShift.start();
});
afterAll(async () => {
  await arc.close();
  await dynamo.close();
});
beforeEach(async () => {
  cloudWatch.reset();
  ssm.reset();
  arc.shifts.length = 0;
  arc.calls.length = 0;
  arc.clearInjections();
  fake = await FakeEcs.start(fakeFleet({ count: 6 }));
  ecs = new EcsApi(signedClientOptions(fake.endpoint, [], { requestTimeoutMs: 300 }));
  zonal = new ZonalShiftClient({
    region: 'us-east-1',
    endpoint: arc.endpoint,
    credentials: () => Promise.resolve({ accessKeyId: 'AKID', secretAccessKey: 'secret' }),
    requestTimeoutMs: 300,
    sleep: () => Promise.resolve(),
  });
  const shifts: ExperimentShifts = {
    end: (experimentId) => endExperimentShifts(zonal, { experimentId, resourceIdentifier: ALB }),
  };
  deps = {
    ...testDeps(await dynamo.createTable(`zonal-restore-${++tables}`), { ecs }),
    zonalShifts: shifts,
  };
  mockAlarm(cloudWatch, 'OK');
  mockFaultParameter(ssm, { faults: [] });
});
afterEach(async () => {
  await fake.close();
});

const outage = () =>
  parseAzOutageEvent(
    { experimentId: 'exp-az', availabilityZone: 'us-east-1a', durationMinutes: 10, dryRun: false },
    deps.env,
  );
const restoreEvent = (fields: Record<string, unknown>) => parseRestoreEvent(fields, deps.env);
const mitigate = () =>
  startExperimentShift(zonal, {
    experimentId: 'exp-az',
    resourceIdentifier: ALB,
    awayFrom: 'use1-az1',
    expiresInMinutes: 10,
  });

describe('restore ends the experiment zonal shift', () => {
  test('the state machine restore puts the AZ back and cancels the shift', async () => {
    // GIVEN exp-az took us-east-1a out and shifted the ALB away from it
    await azOutage(outage(), deps);
    await mitigate();
    expect(arc.active(ALB)).toHaveLength(1);
    // WHEN restored by id
    const result = await restore(restoreEvent({ experimentId: 'exp-az' }), deps);
    // THEN it is restored and no shift of ours is left
    expect(result.status).toBe('restored');
    expect(result.detail).toMatch(/ended zonal shift\(s\) zs-/);
    expect(arc.active(ALB)).toEqual([]);
  });

  test('a restore of an already-restored experiment (the rule after an abort) still ends a late shift', async () => {
    // GIVEN the experiment was restored, then a late mitigation started a shift
    await azOutage(outage(), deps);
    await restore(restoreEvent({ experimentId: 'exp-az' }), deps);
    await mitigate();
    // WHEN the abnormal-end rule restores by the execution name
    const result = await restore(restoreEvent({ experimentId: 'exp-az' }), deps);
    // THEN
    expect(result.status).toBe('already-restored');
    expect(arc.active(ALB)).toEqual([]);
  });

  test('a cancel whose answer is lost: the restore still verifies the shift gone', async () => {
    await azOutage(outage(), deps);
    await mitigate();
    arc.inject('CancelZonalShift', { kind: 'lost', delayMs: 1_500 });
    const result = await restore(restoreEvent({ experimentId: 'exp-az' }), deps);
    expect(result.status).toBe('restored');
    expect(arc.active(ALB)).toEqual([]);
  });

  test('ARC unreachable: restore-failed naming the shift, so that the caller retries', async () => {
    await azOutage(outage(), deps);
    await mitigate();
    arc.inject('ListZonalShifts', ...Array.from({ length: 4 }, () => ({ kind: 'reset' as const })));
    const result = await restore(restoreEvent({ experimentId: 'exp-az' }), deps);
    expect(result.status).toBe('restore-failed');
    expect(result.detail).toMatch(/the zonal shift may still be active/);
    // WHEN retried with ARC back
    const again = await restore(restoreEvent({ experimentId: 'exp-az' }), deps);
    expect(again.status).toBe('already-restored');
    expect(arc.active(ALB)).toEqual([]);
  });

  test('the sweep leaves a running game day shift alone until the experiment expires, then ends it', async () => {
    await azOutage(outage(), deps);
    await mitigate();
    // WHEN the sweep runs before expiry
    const early = await restore(restoreEvent({ sweep: true }), deps);
    expect(early.status).toBe('not-expired');
    expect(arc.active(ALB)).toHaveLength(1);
    // WHEN it runs after the fault expired
    deps.setNow(new Date(T0 + 11 * 60_000));
    const late = await restore(restoreEvent({ sweep: true }), deps);
    expect(late.status).toBe('restored');
    expect(arc.active(ALB)).toEqual([]);
  });

  test('a dry-run restore ends nothing', async () => {
    await azOutage(outage(), deps);
    await mitigate();
    await restore(restoreEvent({ experimentId: 'exp-az', dryRun: true }), deps);
    expect(arc.active(ALB)).toHaveLength(1);
  });

  test("never ends someone else's shift", async () => {
    await azOutage(outage(), deps);
    arc.addShift({
      resourceIdentifier: ALB,
      awayFrom: 'use1-az2',
      expiresIn: '1h',
      comment: 'operator',
      status: 'ACTIVE',
    });
    const result = await restore(restoreEvent({ experimentId: 'exp-az' }), deps);
    expect(result.status).toBe('restored');
    expect(arc.active(ALB)).toHaveLength(1);
  });
});
