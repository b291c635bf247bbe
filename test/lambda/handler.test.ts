/**
 * The guarded handler: validation before any AWS call, Powertools idempotency keyed on the
 * experiment id (persisted in a real DynamoDB-API server), and the error contract.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { DescribeServicesCommand, ECSClient, StopTaskCommand } from '@aws-sdk/client-ecs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';

import {
  EmptyResponsesEvent,
  emptyResponses,
  parseEmptyResponsesEvent,
} from '../../lambda/empty-responses/empty-responses';
import { restoreFunction } from '../../lambda/restore/restore';
import type { DynamoDbCalls } from '../../lambda/shared/dynamodb-api';
import type { ExperimentResult } from '../../lambda/shared/experiment';
import {
  GuardedFunction,
  HandlerDeps,
  HandlerResponse,
  createGuardedHandler,
} from '../../lambda/shared/handler';
import { StateTableIdempotencyStore } from '../../lambda/shared/idempotency-store';
import type { StateTable } from '../../lambda/shared/state-table';
import { StopTasksEvent, parseStopTasksEvent, stopTasks } from '../../lambda/stop-tasks/stop-tasks';

import { TestDeps, fakeContext, testDeps, testProcessEnv } from './helpers';
import { LocalDynamo, startLocalDynamo } from './local-dynamo';
import { mockAlarm, mockFaultParameter, mockFleet } from './mocks';

const ecs = mockClient(ECSClient);
const cloudWatch = mockClient(CloudWatchClient);
const ssm = mockClient(SSMClient);

const quiet = () => ({
  logger: new Logger({ serviceName: 'chaos-test', logLevel: 'SILENT' }),
  metrics: new Metrics({ namespace: 'ChaosTest', serviceName: 'chaos-test' }),
});

const stopTasksFunction: GuardedFunction<StopTasksEvent, ExperimentResult> = {
  name: 'stop-tasks',
  parse: parseStopTasksEvent,
  run: stopTasks,
  idempotencyKey: (e) => e.experimentId,
};
const emptyResponsesFunction: GuardedFunction<EmptyResponsesEvent, ExperimentResult> = {
  name: 'empty-responses',
  parse: parseEmptyResponsesEvent,
  run: emptyResponses,
  idempotencyKey: (e) => e.experimentId,
};

/** A state table that no test of invalid input may reach: it records every call and fails it. */
function unreachableTable(): StateTable & { readonly calls: string[] } {
  const calls: string[] = [];
  const api: DynamoDbCalls = {
    call: (operation) => {
      calls.push(operation);
      return Promise.reject(new Error(`unexpected DynamoDB call ${operation}`));
    },
  };
  return { api, tableName: 'chaos-state', calls };
}

beforeEach(() => {
  ecs.reset();
  cloudWatch.reset();
  ssm.reset();
});

describe('an invalid event', () => {
  test('is answered with INVALID_EVENT naming the field, and no AWS call is made', async () => {
    // GIVEN a state table that records calls, so that the test can prove it was never called
    const table = unreachableTable();
    const deps: HandlerDeps = {
      chaos: testDeps(table),
      persistence: new StateTableIdempotencyStore(table.api, table.tableName),
      ...quiet(),
    };
    const handler = createGuardedHandler(stopTasksFunction, () => deps);

    // WHEN
    const response = await handler(
      { experimentId: 'exp-1', dryRun: false, count: 'two' },
      fakeContext(),
    );

    // THEN
    expect(response).toEqual({
      ok: false,
      error: {
        code: 'INVALID_EVENT',
        message: 'Invalid event: count must be an integer from 1 to 1000, got "two"',
        problems: ['count must be an integer from 1 to 1000, got "two"'],
      },
    });
    for (const mock of [ecs, cloudWatch, ssm]) {
      expect(mock).not.toReceiveAnyCommand();
    }
    expect(table.calls).toEqual([]);
  });

  test('leaves an audit record and a metric (issue 14, item 10)', async () => {
    // GIVEN
    const table = unreachableTable();
    const chaos = testDeps(table);
    const handler = createGuardedHandler(stopTasksFunction, () => ({
      chaos,
      persistence: new StateTableIdempotencyStore(table.api, table.tableName),
      ...quiet(),
    }));

    // WHEN
    await handler({ experimentId: 'exp-1', count: 'two' }, fakeContext());

    // THEN
    expect(chaos.audit.entries).toEqual([
      {
        experimentId: 'exp-1',
        action: 'stop-tasks',
        target: chaos.env.service,
        outcome: 'invalid-event',
        detail: 'Invalid event: count must be an integer from 1 to 1000, got "two"',
      },
    ]);
  });

  test('with an id that is not an experiment id is audited without echoing it', async () => {
    const table = unreachableTable();
    const chaos = testDeps(table);
    const handler = createGuardedHandler(stopTasksFunction, () => ({
      chaos,
      persistence: new StateTableIdempotencyStore(table.api, table.tableName),
      ...quiet(),
    }));

    await handler({ experimentId: 'x'.repeat(10_000) }, fakeContext());

    expect(chaos.audit.entries).toMatchObject([
      { experimentId: '(none)', outcome: 'invalid-event' },
    ]);
    expect(chaos.audit.entries[0]?.detail?.length).toBeLessThanOrEqual(500);
  });
});

describe('idempotency on a real DynamoDB-API server', () => {
  let dynamo: LocalDynamo;
  let tables = 0;
  let chaos: TestDeps;
  let deps: HandlerDeps;
  let faults: () => unknown;

  beforeAll(async () => {
    dynamo = await startLocalDynamo();
  });
  afterAll(async () => {
    await dynamo.close();
  });
  beforeEach(async () => {
    const table = await dynamo.createTable(`handler-${++tables}`);
    chaos = testDeps(table);
    deps = {
      chaos,
      persistence: new StateTableIdempotencyStore(table.api, table.tableName),
      ...quiet(),
    };
    mockFleet(ecs);
    mockAlarm(cloudWatch, 'OK');
    faults = mockFaultParameter(ssm, { faults: [] });
  });

  const ok = <R>(response: HandlerResponse<R>): R => {
    if (!response.ok)
      throw new Error(`expected ok, got ${response.error.code}: ${response.error.message}`);
    return response.result;
  };

  test('a retried invocation acts once and returns the first result', async () => {
    // GIVEN
    const handler = createGuardedHandler(stopTasksFunction, () => deps);
    const event = { experimentId: 'exp-retry', dryRun: false, count: 2 };

    // WHEN
    const first = ok(await handler(event, fakeContext()));
    chaos.setNow(new Date('2026-03-01T12:01:00Z'));
    const second = ok(await handler(event, fakeContext({ awsRequestId: 'retry' })));

    // THEN
    expect(second).toEqual(first);
    expect(ecs).toReceiveCommandTimes(StopTaskCommand, 2);
    // and the idempotency record lives in the state table, keyed by the function's prefix
    const items = await dynamo.client.send(
      new ScanCommand({ TableName: deps.chaos.table.tableName }),
    );
    const keys = (items.Items ?? []).map((i) => i.pk?.S ?? '');
    expect(keys.filter((k) => k.startsWith('chaos-stop-tasks#'))).toHaveLength(1);
    expect(keys).toEqual(
      expect.arrayContaining([
        `lease#${deps.chaos.env.service}`,
        `state#${deps.chaos.env.service}`,
      ]),
    );
  });

  test('the same experimentId with a different event is EVENT_MISMATCH and acts no more', async () => {
    const handler = createGuardedHandler(stopTasksFunction, () => deps);
    ok(await handler({ experimentId: 'exp-mismatch', dryRun: false, count: 1 }, fakeContext()));

    const response = await handler(
      { experimentId: 'exp-mismatch', dryRun: false, count: 2 },
      fakeContext(),
    );

    expect(response).toEqual({
      ok: false,
      error: {
        code: 'EVENT_MISMATCH',
        message:
          'this experimentId was already used with a different event; use a new experimentId',
      },
    });
    expect(ecs).toReceiveCommandTimes(StopTaskCommand, 1);
  });

  test('a dry run does not stand in for the real run of the same experiment', async () => {
    const handler = createGuardedHandler(stopTasksFunction, () => deps);
    const dry = ok(
      await handler({ experimentId: 'exp-dry', count: 1, dryRun: true }, fakeContext()),
    );
    const real = ok(
      await handler({ experimentId: 'exp-dry', dryRun: false, count: 1 }, fakeContext()),
    );

    expect(dry.status).toBe('dry-run');
    expect(real.status).toBe('applied');
    expect(ecs).toReceiveCommandTimes(StopTaskCommand, 1);
  });

  test('a refusal is not remembered: the same experiment runs once the guardrail clears', async () => {
    // GIVEN the region is impaired
    mockAlarm(cloudWatch, 'ALARM');
    const handler = createGuardedHandler(stopTasksFunction, () => deps);

    // WHEN / THEN
    const refused = await handler(
      { experimentId: 'exp-later', dryRun: false, count: 1 },
      fakeContext(),
    );
    expect(refused).toMatchObject({ ok: false, error: { code: 'REFUSED' } });
    expect(ecs).not.toReceiveCommand(StopTaskCommand);

    // WHEN the alarm clears
    mockAlarm(cloudWatch, 'OK');
    const applied = ok(
      await handler({ experimentId: 'exp-later', dryRun: false, count: 1 }, fakeContext()),
    );

    // THEN
    expect(applied.status).toBe('applied');
    expect(ecs).toReceiveCommandTimes(StopTaskCommand, 1);
  });

  test('a lease held by another experiment is LEASE_HELD', async () => {
    const handler = createGuardedHandler(stopTasksFunction, () => deps);
    ok(await handler({ experimentId: 'exp-a', dryRun: false, count: 1 }, fakeContext()));
    const response = await handler(
      { experimentId: 'exp-b', dryRun: false, count: 1 },
      fakeContext(),
    );
    expect(response).toMatchObject({ ok: false, error: { code: 'LEASE_HELD' } });
    expect(!response.ok && response.error.message).toContain(
      'is leased by experiment exp-a until 2026-03-01T12:16:00.000Z',
    );
  });

  test('a retried restore re-reads the state: the second says already-restored', async () => {
    // GIVEN a restored experiment
    const stop = createGuardedHandler(stopTasksFunction, () => deps);
    const restoreHandler = createGuardedHandler(restoreFunction, () => deps);
    ok(await stop({ experimentId: 'exp-undo', dryRun: false, count: 1 }, fakeContext()));
    const first = ok(await restoreHandler({ experimentId: 'exp-undo' }, fakeContext()));

    // WHEN the same restore is retried
    const retried = ok(await restoreHandler({ experimentId: 'exp-undo' }, fakeContext()));

    // THEN
    expect(first.status).toBe('restored');
    expect(retried.status).toBe('already-restored');
  });

  test('a restore before the experiment existed is not remembered: the abort later undoes the live fault (issue 14, item 3)', async () => {
    // GIVEN an operator's restore that came too early
    const inject = createGuardedHandler(emptyResponsesFunction, () => deps);
    const restoreHandler = createGuardedHandler(restoreFunction, () => deps);
    const early = ok(await restoreHandler({ experimentId: 'exp-abort' }, fakeContext()));
    expect(early.status).toBe('nothing-to-restore');

    // WHEN the experiment starts, its fault is live, and the same abort is sent again
    ok(await inject({ experimentId: 'exp-abort', count: 1, dryRun: false }, fakeContext()));
    expect(faults()).toMatchObject({ faults: [{ type: 'empty-response' }] });
    const abort = ok(
      await restoreHandler({ experimentId: 'exp-abort' }, fakeContext({ awsRequestId: 'abort' })),
    );

    // THEN the answer reflects the state now, and the fault is gone
    expect(abort.status).toBe('restored');
    expect(faults()).toEqual({ faults: [] });
  });

  test('the scheduled sweep is never answered from the idempotency record', async () => {
    // GIVEN a 10-minute experiment
    const stop = createGuardedHandler(stopTasksFunction, () => deps);
    const restoreHandler = createGuardedHandler(restoreFunction, () => deps);
    ok(
      await stop(
        { experimentId: 'exp-sweep', dryRun: false, count: 1, durationMinutes: 10 },
        fakeContext(),
      ),
    );

    // WHEN the sweep runs before and after expiry
    const early = ok(await restoreHandler({ sweep: true }, fakeContext()));
    chaos.setNow(new Date('2026-03-01T12:11:00Z'));
    const late = ok(await restoreHandler({ sweep: true }, fakeContext()));

    // THEN
    expect(early.status).toBe('not-expired');
    expect(late.status).toBe('restored');
  });

  test('an unexpected failure is thrown as InternalError, without our stack', async () => {
    ecs.on(DescribeServicesCommand).rejects(new Error('socket hang up'));
    const handler = createGuardedHandler(stopTasksFunction, () => deps);

    const failure = await handler(
      { experimentId: 'exp-boom', dryRun: false, count: 1 },
      fakeContext(),
    ).catch((e: unknown) => e);

    expect(failure).toMatchObject({
      name: 'InternalError',
      code: 'INTERNAL',
      message:
        'the function failed unexpectedly; see its logs for request c0ffee00-0000-4000-8000-000000000001',
      stack:
        'InternalError: the function failed unexpectedly; see its logs for request c0ffee00-0000-4000-8000-000000000001',
    });
  });

  test('an unexpected failure leaves an audit record and a metric (issue 14, item 10)', async () => {
    ecs.on(DescribeServicesCommand).rejects(new Error('socket hang up'));
    const handler = createGuardedHandler(stopTasksFunction, () => deps);

    await handler({ experimentId: 'exp-boom', count: 1 }, fakeContext()).catch(() => undefined);

    expect(chaos.audit.entries).toContainEqual({
      experimentId: 'exp-boom',
      action: 'stop-tasks',
      target: chaos.env.service,
      outcome: 'internal-error',
      detail: 'Error',
    });
  });
});

describe('the deployed handler', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  test('a missing environment variable is MISCONFIGURED, naming the variable', async () => {
    // GIVEN the environment the construct sets, less STATE_TABLE
    process.env = { ...saved, ...testProcessEnv() };
    delete process.env.STATE_TABLE;
    const { handler } = await import('../../lambda/stop-tasks/index');

    // WHEN
    const response = await handler({ experimentId: 'exp-1', dryRun: false }, fakeContext());

    // THEN
    expect(response).toEqual({
      ok: false,
      error: { code: 'MISCONFIGURED', message: 'STATE_TABLE environment variable is not set' },
    });
    expect(ecs).not.toReceiveAnyCommand();
  });
});
