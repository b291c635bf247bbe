/**
 * The experiment state machine under the faults of issue 14: a restore whose UpdateService times
 * out without effect (item 1), a restore racing an inject still in flight (item 2), a retried
 * inject, and a resume after the old expiry (item 10). ECS is the fake ECS endpoint on loopback,
 * the state table is dynalite; SSM and CloudWatch have no local server and are mocked.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';

import { azOutage, parseAzOutageEvent } from '../../lambda/az-outage/az-outage';
import {
  emptyResponses,
  parseEmptyResponsesEvent,
} from '../../lambda/empty-responses/empty-responses';
import { parseRestoreEvent, restore, restoreFunction } from '../../lambda/restore/restore';
import { EcsApi } from '../../lambda/shared/ecs-api';
import { GuardrailRefusal, LeaseHeldError } from '../../lambda/shared/errors';
import { createGuardedHandler } from '../../lambda/shared/handler';
import { StateTableIdempotencyStore } from '../../lambda/shared/idempotency-store';
import { readLease, readState, transition } from '../../lambda/shared/state-table';
import { FakeEcs, fakeFleet } from '../support/fake-ecs';
import { signedClientOptions } from '../support/signed-client-options';

import { SERVICE_ARN, TestDeps, fakeContext, testDeps } from './helpers';
import { LocalDynamo, startLocalDynamo } from './local-dynamo';
import { ORIGINAL_NETWORK, mockAlarm, mockFaultParameter } from './mocks';

const cloudWatch = mockClient(CloudWatchClient);
const ssm = mockClient(SSMClient);
/** Far above the client's timeout: the reply never arrives in time. */
const SLOW_MS = 1_500;
const T0 = Date.parse('2026-03-01T12:00:00Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000);

let dynamo: LocalDynamo;
let fake: FakeEcs;
let ecs: EcsApi;
let deps: TestDeps;
let faultDocument: () => unknown;
let tables = 0;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
});
afterAll(async () => {
  await dynamo.close();
});
beforeEach(async () => {
  cloudWatch.reset();
  ssm.reset();
  fake = await FakeEcs.start(fakeFleet({ count: 6 }));
  ecs = new EcsApi(signedClientOptions(fake.endpoint, [], { requestTimeoutMs: 300 }));
  deps = testDeps(await dynamo.createTable(`state-machine-${++tables}`), { ecs });
  mockAlarm(cloudWatch, 'OK');
  faultDocument = mockFaultParameter(ssm, { faults: [] });
});
afterEach(async () => {
  await fake.close();
});

const network = () =>
  fake.services.get(SERVICE_ARN)?.networkConfiguration?.awsvpcConfiguration?.subnets;
const outage = (fields: Record<string, unknown> = {}) =>
  parseAzOutageEvent(
    {
      experimentId: 'exp-az',
      availabilityZone: 'us-east-1a',
      durationMinutes: 10,
      dryRun: false,
      ...fields,
    },
    deps.env,
  );
const restoreEvent = (fields: Record<string, unknown>) => parseRestoreEvent(fields, deps.env);
const liveFaults = () => (faultDocument() as { faults: unknown[] } | undefined)?.faults ?? [];

/** A latch: `wait()` resolves once `open()` is called. */
function latch() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { wait: () => opened, open };
}

describe('a restore whose UpdateService times out without effect (issue 14, item 1)', () => {
  test('is restore-failed, keeps the lease, and the sweep restores it once ECS answers', async () => {
    // GIVEN exp-az took us-east-1a out
    await azOutage(outage(), deps);
    expect(network()).toEqual(['subnet-b', 'subnet-c']);

    // WHEN the restore's UpdateService times out and did not happen
    fake.inject('UpdateService', { kind: 'slow', delayMs: SLOW_MS, applied: false });
    const aborted = await restore(restoreEvent({ experimentId: 'exp-az' }), deps);

    // THEN it says so, keeps the state and the lease, and the AZ is (honestly) still out
    expect(aborted.status).toBe('restore-failed');
    expect(aborted.detail).toBe(
      "the service's network is not verified back to the original (UpdateService verified-not-done)",
    );
    expect((await readState(deps.table, SERVICE_ARN))?.status).toBe('restore-failed');
    expect((await readLease(deps.table, SERVICE_ARN))?.holder).toBe('exp-az');
    expect(network()).toEqual(['subnet-b', 'subnet-c']);

    // WHEN the sweep runs a minute later (before the fault's expiry) and ECS answers
    deps.setNow(at(1));
    const swept = await restore(restoreEvent({ sweep: true }), deps);

    // THEN the network is back, the state is restored and the lease is free
    expect(swept.status).toBe('restored');
    expect(network()).toEqual(ORIGINAL_NETWORK.subnets);
    expect((await readState(deps.table, SERVICE_ARN))?.status).toBe('restored');
    expect(await readLease(deps.table, SERVICE_ARN)).toBeUndefined();
  });

  test('through the deployed handler, the caller is answered RESTORE_FAILED naming what is left', async () => {
    // GIVEN
    await azOutage(outage(), deps);
    fake.inject('UpdateService', { kind: 'slow', delayMs: SLOW_MS, applied: false });
    const handler = createGuardedHandler(restoreFunction, () => ({
      chaos: deps,
      persistence: new StateTableIdempotencyStore(deps.table.api, deps.table.tableName),
      logger: new Logger({ serviceName: 'chaos-test', logLevel: 'SILENT' }),
      metrics: new Metrics({ namespace: 'ChaosTest', serviceName: 'chaos-test' }),
    }));

    // WHEN
    const response = await handler({ experimentId: 'exp-az' }, fakeContext());

    // THEN
    expect(response).toEqual({
      ok: false,
      error: {
        code: 'RESTORE_FAILED',
        message:
          "experiment exp-az is not restored: the service's network is not verified back to the " +
          'original (UpdateService verified-not-done); it keeps its lease and the restore sweep ' +
          'retries every minute',
      },
    });
  });

  test('while another restore is at work, the caller is answered IN_PROGRESS, not success', async () => {
    // GIVEN a restore claimed the experiment (restoring, within its window) and then crashed
    await azOutage(outage(), deps);
    const active = await readState(deps.table, SERVICE_ARN);
    await transition(deps.table, SERVICE_ARN, active!, 'restoring', {
      inFlightUntil: at(2).toISOString(),
    });
    const handler = createGuardedHandler(restoreFunction, () => ({
      chaos: deps,
      persistence: new StateTableIdempotencyStore(deps.table.api, deps.table.tableName),
      logger: new Logger({ serviceName: 'chaos-test', logLevel: 'SILENT' }),
      metrics: new Metrics({ namespace: 'ChaosTest', serviceName: 'chaos-test' }),
    }));

    // WHEN / THEN
    expect(await handler({ experimentId: 'exp-az' }, fakeContext())).toEqual({
      ok: false,
      error: {
        code: 'IN_PROGRESS',
        message:
          'experiment exp-az is not restored yet: another restore is at work until ' +
          '2026-03-01T12:02:00.000Z; ask again after that',
      },
    });

    // and after the window, the next restore takes over and restores
    deps.setNow(at(3));
    expect(await handler({ experimentId: 'exp-az' }, fakeContext())).toMatchObject({
      ok: true,
      result: { status: 'restored' },
    });
    expect(network()).toEqual(ORIGINAL_NETWORK.subnets);
  });

  test('an UNKNOWN UpdateService (the read-back fails too) is restore-failed, not restored', async () => {
    await azOutage(outage(), deps);
    fake.inject('UpdateService', { kind: 'slow', delayMs: SLOW_MS, applied: false });
    fake.inject(
      'DescribeServices',
      { kind: 'pass' },
      ...Array.from({ length: 4 }, () => ({ kind: 'server-error' as const })),
    );

    const aborted = await restore(restoreEvent({ experimentId: 'exp-az' }), deps);

    expect(aborted.status).toBe('restore-failed');
    expect(aborted.detail).toBe(
      "the service's network is not verified back to the original (UpdateService unknown)",
    );
    expect((await readState(deps.table, SERVICE_ARN))?.status).toBe('restore-failed');
  });

  test('the next az-outage does not plan against the degraded network while the restore fails', async () => {
    // GIVEN exp-az's restore failed, and its lease (fault expiry + margin) has run out
    await azOutage(outage(), deps);
    fake.inject('UpdateService', { kind: 'slow', delayMs: SLOW_MS, applied: false });
    await restore(restoreEvent({ experimentId: 'exp-az' }), deps);
    deps.setNow(at(12));

    // WHEN exp-az-2 wants 1b out and exp-az's network restore times out again
    fake.inject('UpdateService', { kind: 'slow', delayMs: SLOW_MS, applied: false });
    const run = azOutage(
      outage({ experimentId: 'exp-az-2', availabilityZone: 'us-east-1b' }),
      deps,
    );

    // THEN it is refused, nothing of its own is applied, and exp-az stays the one to restore
    await expect(run).rejects.toThrow(
      /^experiment exp-az is not restored yet \(the service's network/,
    );
    expect(network()).toEqual(['subnet-b', 'subnet-c']);
    const state = await readState(deps.table, SERVICE_ARN);
    expect(state).toMatchObject({ experimentId: 'exp-az', status: 'restore-failed' });
    expect(state?.plan.network?.original).toEqual(ORIGINAL_NETWORK);
    expect(await readLease(deps.table, SERVICE_ARN)).toBeUndefined();
  });
});

describe('a restore racing an inject still in flight (issue 14, item 2)', () => {
  /** Holds the inject just before it writes its fault, until the test opens the latch. */
  function holdFaultWrite() {
    const held = latch();
    const reached = latch();
    let first = true;
    let faultValue: string | undefined;
    const write = ssm.commandCalls(PutParameterCommand).length;
    ssm.on(PutParameterCommand).callsFake(async (input: { Value?: string }) => {
      if (first) {
        first = false;
        reached.open();
        await held.wait();
      }
      faultValue = input.Value;
      return { Version: write + 2 };
    });
    ssm.on(GetParameterCommand).callsFake(() => ({
      Parameter: { Value: faultValue ?? '{"faults":[]}', Version: 1 },
    }));
    faultDocument = () =>
      faultValue === undefined ? undefined : (JSON.parse(faultValue) as unknown);
    return { reached: reached.wait, release: held.open };
  }

  test('the abort is not restored while the inject may still write; the late inject undoes its fault', async () => {
    // GIVEN an inject that has claimed `applying` and is about to write its fault
    const hold = holdFaultWrite();
    const inject = emptyResponses(
      parseEmptyResponsesEvent({ experimentId: 'exp-race', count: 1, dryRun: false }, deps.env),
      deps,
    );
    await hold.reached();

    // WHEN the operator aborts, and then the inject's write lands
    const aborted = await restore(restoreEvent({ experimentId: 'exp-race' }), deps);
    hold.release();
    const injected = await inject.then(
      () => undefined,
      (error: unknown) => error,
    );

    // THEN the abort did not claim `restored`, the late inject took its fault back out,
    expect(aborted.status).toBe('restore-failed');
    expect(aborted.detail).toMatch(/an inject of this experiment may still be applying until/);
    expect(injected).toBeInstanceOf(GuardrailRefusal);
    expect((injected as GuardrailRefusal).guardrail).toBe('state-changed');
    expect(liveFaults()).toEqual([]);
    // and the lease stays with exp-race, so no other experiment takes the service meanwhile
    expect((await readLease(deps.table, SERVICE_ARN))?.holder).toBe('exp-race');
    await expect(
      emptyResponses(
        parseEmptyResponsesEvent({ experimentId: 'exp-other', count: 1, dryRun: false }, deps.env),
        deps,
      ),
    ).rejects.toBeInstanceOf(LeaseHeldError);

    // WHEN the sweep runs after the inject's window
    deps.setNow(at(3));
    const swept = await restore(restoreEvent({ sweep: true }), deps);

    // THEN it verifies and restores, and frees the lease
    expect(swept.status).toBe('restored');
    expect((await readState(deps.table, SERVICE_ARN))?.status).toBe('restored');
    expect(await readLease(deps.table, SERVICE_ARN)).toBeUndefined();
  });

  test('a retried inject (Lambda.ServiceException retry) while the first still applies is refused and applies nothing', async () => {
    // GIVEN the first invocation is about to write its fault
    const hold = holdFaultWrite();
    const event = parseEmptyResponsesEvent(
      { experimentId: 'exp-retry', count: 1, dryRun: false },
      deps.env,
    );
    const first = emptyResponses(event, deps);
    await hold.reached();

    // WHEN Step Functions retries the same inject
    const retried = emptyResponses(event, deps).then(
      () => undefined,
      (error: unknown) => error,
    );

    // THEN the retry is refused, naming the window; the first completes alone
    const refusal = await retried;
    expect(refusal).toBeInstanceOf(GuardrailRefusal);
    expect((refusal as GuardrailRefusal).guardrail).toBe('apply-in-flight');
    hold.release();
    await expect(first).resolves.toMatchObject({ status: 'applied' });
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(1);
    expect((await readState(deps.table, SERVICE_ARN))?.status).toBe('active');
  });
});

describe('resuming a run that stopped part-way (issue 14, item 10)', () => {
  test('gets a fresh faultExpiresAt and the blast radius is checked again', async () => {
    // GIVEN exp-resume planned 1 task for 10 minutes at 12:00, then stopped before applying
    const event = parseEmptyResponsesEvent(
      { experimentId: 'exp-resume', count: 2, durationMinutes: 10, dryRun: false },
      deps.env,
    );
    ssm.on(PutParameterCommand).rejectsOnce(new Error('ThrottlingException'));
    await expect(emptyResponses(event, deps)).rejects.toThrow('ThrottlingException');
    expect((await readState(deps.table, SERVICE_ARN))?.faultExpiresAt).toBe(at(10).toISOString());

    // WHEN it resumes at 12:20, after two of the six tasks stopped (only 1 more may be affected)
    faultDocument = mockFaultParameter(ssm, { faults: [] });
    deps.setNow(at(20));
    const [t1, t2] = [...fake.tasks.values()];
    t1.desiredStatus = 'STOPPED';
    t1.lastStatus = 'STOPPED';
    t2.desiredStatus = 'STOPPED';
    t2.lastStatus = 'STOPPED';

    // THEN the resumed run is refused by the blast radius instead of applying the stale plan
    await expect(emptyResponses(event, deps)).rejects.toThrow(
      'a empty-response fault on 2 task(s) would leave 4 of 6 desired tasks affected',
    );
    expect(liveFaults()).toEqual([]);

    // WHEN the tasks are back and it resumes again
    for (const t of [t1, t2]) {
      t.desiredStatus = 'RUNNING';
      t.lastStatus = 'RUNNING';
    }
    const resumed = await emptyResponses(event, deps);

    // THEN its fault expires 10 minutes from now, not at the stale 12:10
    expect(resumed.expiresAt).toBe(at(30).toISOString());
    expect(liveFaults()).toMatchObject([{ expiresAt: at(30).toISOString() }]);
    expect((await readLease(deps.table, SERVICE_ARN))?.expiresAt).toEqual(at(31));
  });
});

describe('the transitions', () => {
  test('a transition the state machine does not allow is refused before any write', async () => {
    await emptyResponses(
      parseEmptyResponsesEvent({ experimentId: 'exp-t', count: 1, dryRun: false }, deps.env),
      deps,
    );
    const state = await readState(deps.table, SERVICE_ARN);
    await expect(transition(deps.table, SERVICE_ARN, state!, 'applying')).rejects.toThrow(
      'experiment exp-t cannot go from active to applying; allowed: restoring',
    );
  });

  test('of two writers from the same version, exactly one wins', async () => {
    await emptyResponses(
      parseEmptyResponsesEvent({ experimentId: 'exp-t', count: 1, dryRun: false }, deps.env),
      deps,
    );
    const state = await readState(deps.table, SERVICE_ARN);
    const results = await Promise.allSettled([
      transition(deps.table, SERVICE_ARN, state!, 'restoring'),
      transition(deps.table, SERVICE_ARN, state!, 'restoring'),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((await readState(deps.table, SERVICE_ARN))?.version).toBe(state!.version + 1);
  });
});
