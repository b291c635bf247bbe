/**
 * The state table's conditional writes and the idempotency records (lambda/shared/state-table.ts,
 * idempotency-store.ts) through the functions' signed DynamoDB client, against dynalite, with the
 * loopback fault proxy between them. A lost answer to a conditional write is the case that matters:
 * asked again, the write must not fail its condition against itself and read as a lost race.
 */
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';

import { AwsApiError } from '../../lambda/shared/aws-json-api';
import { DynamoDbApi, toItem, type DynamoDbCalls } from '../../lambda/shared/dynamodb-api';
import { LeaseHeldError } from '../../lambda/shared/errors';
import { StateTableIdempotencyStore } from '../../lambda/shared/idempotency-store';
import {
  StateChangedError,
  acquireLease,
  createState,
  readLease,
  readState,
  releaseLease,
  transition,
  type ExperimentState,
  type StateTable,
} from '../../lambda/shared/state-table';
import { dynamoOperation, startFaultProxy, type FaultProxy } from '../support/fault-proxy';
import { signedClientOptions } from '../support/signed-client-options';

import { SERVICE_ARN } from './helpers';
import { LocalDynamo, startLocalDynamo } from './local-dynamo';

const NOW = new Date('2026-12-01T10:00:00Z');
const LATER = new Date(NOW.getTime() + 600_000);
const STATE: Omit<ExperimentState, 'status' | 'version'> = {
  experimentId: 'exp-1',
  kind: 'stop-tasks',
  startedAt: NOW.toISOString(),
  faultExpiresAt: LATER.toISOString(),
  plan: { summary: 'stop one task', affectedTaskIds: ['t1'], stopTasks: [], addFaults: [] },
};

let local: LocalDynamo;
let tables = 0;
/** The table as the test reaches it directly, without faults. */
let direct: StateTable;
/** The same table through the fault proxy. */
let faulty: StateTable;
let proxy: FaultProxy;
const backoffs: number[] = [];

beforeAll(async () => {
  local = await startLocalDynamo();
});
afterAll(async () => {
  await local.close();
});
beforeEach(async () => {
  backoffs.length = 0;
  direct = await local.createTable(`faults-${++tables}`);
  proxy = await startFaultProxy({ targetPort: Number(new URL(local.endpoint).port) });
  faulty = {
    api: new DynamoDbApi(signedClientOptions(proxy.endpoint, backoffs)),
    tableName: direct.tableName,
  };
});
afterEach(async () => {
  await proxy.stop();
});

const puts = () => proxy.requestsSeen(dynamoOperation('PutItem'));

describe('the experiment state', () => {
  test('lost response: GIVEN a transition landed and its answer was lost THEN it is asked again and succeeds by its token, moving the state once', async () => {
    // GIVEN
    const planned = await createState(direct, SERVICE_ARN, STATE, undefined);
    proxy.inject({ match: dynamoOperation('PutItem'), action: { kind: 'lose-response' } });

    // WHEN
    const applying = await transition(faulty, SERVICE_ARN, planned, 'applying', {
      inFlightUntil: LATER.toISOString(),
    });

    // THEN
    expect(puts()).toBe(2);
    expect(applying).toMatchObject({ status: 'applying', version: 2 });
    expect(await readState(direct, SERVICE_ARN)).toEqual(applying);
  });

  test('lost response: GIVEN a new state landed and its answer was lost THEN it is asked again and succeeds', async () => {
    // GIVEN
    proxy.inject({ match: dynamoOperation('PutItem'), action: { kind: 'lose-response' } });

    // WHEN
    const planned = await createState(faulty, SERVICE_ARN, STATE, undefined);

    // THEN
    expect(puts()).toBe(2);
    expect(await readState(direct, SERVICE_ARN)).toEqual(planned);
  });

  test('a real lost race is still one: GIVEN another invocation moved the state first THEN StateChangedError, and its state stands', async () => {
    // GIVEN a restore claimed the experiment after this invocation read it
    const planned = await createState(direct, SERVICE_ARN, STATE, undefined);
    const claimed = await transition(direct, SERVICE_ARN, planned, 'restoring', {
      inFlightUntil: LATER.toISOString(),
    });

    // WHEN / THEN
    await expect(
      transition(faulty, SERVICE_ARN, planned, 'applying', { inFlightUntil: LATER.toISOString() }),
    ).rejects.toBeInstanceOf(StateChangedError);
    expect(await readState(direct, SERVICE_ARN)).toEqual(claimed);
  });

  test('black hole: GIVEN DynamoDB never answers THEN the transition fails after its attempts, and nothing moved', async () => {
    // GIVEN
    const planned = await createState(direct, SERVICE_ARN, STATE, undefined);
    proxy.setMode('black-hole');

    // WHEN / THEN
    await expect(
      transition(faulty, SERVICE_ARN, planned, 'applying', { inFlightUntil: LATER.toISOString() }),
    ).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(backoffs).toHaveLength(3);
    expect(await readState(direct, SERVICE_ARN)).toEqual(planned);
  });
});

describe('the lease', () => {
  test('lost response: GIVEN the lease was taken and the answer lost THEN it is asked again and the holder keeps it, never refused by itself', async () => {
    // GIVEN
    proxy.inject({ match: dynamoOperation('PutItem'), action: { kind: 'lose-response' } });

    // WHEN
    await acquireLease(faulty, SERVICE_ARN, 'exp-1', LATER, NOW);

    // THEN
    expect(puts()).toBe(2);
    expect(await readLease(direct, SERVICE_ARN)).toEqual({ holder: 'exp-1', expiresAt: LATER });
  });

  test('another live holder is still refused', async () => {
    await acquireLease(direct, SERVICE_ARN, 'exp-0', LATER, NOW);
    await expect(acquireLease(faulty, SERVICE_ARN, 'exp-1', LATER, NOW)).rejects.toBeInstanceOf(
      LeaseHeldError,
    );
  });

  test('lost response: GIVEN the release landed and its answer was lost THEN it is asked again, finds no lease, and says released', async () => {
    // GIVEN
    await acquireLease(direct, SERVICE_ARN, 'exp-1', LATER, NOW);
    proxy.inject({ match: dynamoOperation('DeleteItem'), action: { kind: 'lose-response' } });

    // WHEN / THEN
    expect(await releaseLease(faulty, SERVICE_ARN, 'exp-1')).toBe(true);
    expect(proxy.requestsSeen(dynamoOperation('DeleteItem'))).toBe(2);
    expect(await readLease(direct, SERVICE_ARN)).toBeUndefined();
  });

  test("a release never removes another holder's lease", async () => {
    await acquireLease(direct, SERVICE_ARN, 'exp-0', LATER, NOW);
    expect(await releaseLease(faulty, SERVICE_ARN, 'exp-1')).toBe(false);
    expect(await readLease(direct, SERVICE_ARN)).toMatchObject({ holder: 'exp-0' });
  });
});

describe('the idempotency records', () => {
  /** The handler's configuration (lambda/shared/handler.ts), on a plain function. */
  const config = () =>
    new IdempotencyConfig({ eventKeyJmesPath: 'experimentId', payloadValidationJmesPath: '@' });
  const counted = (store: BasePersistenceLayer, runs: { n: number }) =>
    makeIdempotent(
      (event: { experimentId: string }) => {
        runs.n += 1;
        return Promise.resolve({ experimentId: event.experimentId, run: runs.n });
      },
      {
        persistenceStore: store,
        config: config(),
        keyPrefix: 'chaos-test',
      },
    );

  test('lost response: GIVEN the IN_PROGRESS record landed and its answer was lost THEN the invocation goes on and runs once, not refused by itself', async () => {
    // GIVEN
    const runs = { n: 0 };
    const store = new StateTableIdempotencyStore(faulty.api, faulty.tableName);
    proxy.inject({ match: dynamoOperation('PutItem'), action: { kind: 'lose-response' } });

    // WHEN
    const first = await counted(store, runs)({ experimentId: 'exp-1' });
    const replay = await counted(store, runs)({ experimentId: 'exp-1' });

    // THEN
    expect(first).toEqual({ experimentId: 'exp-1', run: 1 });
    expect(replay).toEqual(first);
    expect(runs.n).toBe(1);
    expect(puts()).toBeGreaterThanOrEqual(2);
  });

  test('lost response: GIVEN the completing update landed and its answer was lost THEN it is asked again, and a replay answers from the record', async () => {
    // GIVEN
    const runs = { n: 0 };
    const store = new StateTableIdempotencyStore(faulty.api, faulty.tableName);
    proxy.inject({ match: dynamoOperation('UpdateItem'), action: { kind: 'lose-response' } });

    // WHEN
    const first = await counted(store, runs)({ experimentId: 'exp-2' });
    const replay = await counted(store, runs)({ experimentId: 'exp-2' });

    // THEN
    expect(replay).toEqual(first);
    expect(runs.n).toBe(1);
    expect(proxy.requestsSeen(dynamoOperation('UpdateItem'))).toBe(2);
  });

  test("GIVEN a record Powertools' own DynamoDB layer completed (before an update) THEN this store answers a replay from it", async () => {
    // GIVEN the record as the SDK-backed layer the functions used before wrote it
    const runs = { n: 0 };
    const before = new DynamoDBPersistenceLayer({
      tableName: direct.tableName,
      keyAttr: 'pk',
      expiryAttr: 'expiresAt',
      awsSdkV3Client: local.client,
    });
    const first = await counted(before, runs)({ experimentId: 'exp-3' });

    // WHEN
    const replay = await counted(
      new StateTableIdempotencyStore(direct.api, direct.tableName),
      runs,
    )({ experimentId: 'exp-3' });

    // THEN
    expect(replay).toEqual(first);
    expect(runs.n).toBe(1);
  });

  test('a late copy of the IN_PROGRESS put never turns a COMPLETED record back: its token is gone, the condition refuses it', async () => {
    // GIVEN an invocation that completed, and its first put as it went on the wire (a copy that
    // timed out at the client could still reach DynamoDB later)
    const runs = { n: 0 };
    let firstPut: Parameters<DynamoDbCalls['call']>[1] | undefined;
    const recording: DynamoDbCalls = {
      call: (operation, input, options) => {
        if (operation === 'PutItem') firstPut ??= input;
        return direct.api.call(operation, input, options);
      },
    };
    const first = await counted(
      new StateTableIdempotencyStore(recording, direct.tableName),
      runs,
    )({
      experimentId: 'exp-4',
    });

    // WHEN the copy lands
    const late = direct.api
      .call('PutItem', firstPut as never, { idempotent: true })
      .catch((e: unknown) => e);

    // THEN it is refused, and a replay still answers from the completed record
    expect(await late).toMatchObject({ type: 'ConditionalCheckFailedException' });
    const replay = await counted(
      new StateTableIdempotencyStore(direct.api, direct.tableName),
      runs,
    )({ experimentId: 'exp-4' });
    expect(replay).toEqual(first);
    expect(runs.n).toBe(1);
  });

  test('GIVEN another invocation IN_PROGRESS THEN the refused put is answered from the record its failure returns, with no second read', async () => {
    // GIVEN a table whose put fails as DynamoDB fails it with ReturnValuesOnConditionCheckFailure
    const calls: string[] = [];
    let asked: Record<string, unknown> = {};
    const inProgress: DynamoDbCalls = {
      call: (operation, input) => {
        calls.push(operation);
        if (operation !== 'PutItem') return Promise.reject(new Error(`unexpected ${operation}`));
        asked = input;
        const pk = (input as unknown as { Item: { pk: { S: string } } }).Item.pk.S;
        const item = toItem({
          pk,
          status: 'INPROGRESS',
          expiresAt: Math.floor(Date.now() / 1000) + 3600,
          in_progress_expiration: Date.now() + 60_000,
        });
        return Promise.reject(
          new AwsApiError('PutItem', 'ConditionalCheckFailedException', 400, 'failed', {
            Item: item,
          }),
        );
      },
    };
    const fn = makeIdempotent((_event: { experimentId: string }) => Promise.resolve('ran'), {
      persistenceStore: new StateTableIdempotencyStore(inProgress, 'chaos-state'),
      config: new IdempotencyConfig({ eventKeyJmesPath: 'experimentId' }),
      keyPrefix: 'chaos-test',
    });

    // WHEN / THEN
    await expect(fn({ experimentId: 'exp-5' })).rejects.toMatchObject({
      name: 'IdempotencyAlreadyInProgressError',
    });
    expect(calls).toEqual(['PutItem']);
    expect(asked.ReturnValuesOnConditionCheckFailure).toBe('ALL_OLD');
  });
});
