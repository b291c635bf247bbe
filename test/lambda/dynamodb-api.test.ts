/**
 * State-table reads (lambda/shared/dynamodb-api.ts, one signed GetItem) against dynalite, a real
 * DynamoDB API server, with the loopback fault proxy between them: an item reads as the SDK's
 * document client reads it, and reads survive a lost answer, a reset and a black hole.
 */
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';

import { AwsApiError } from '../../lambda/shared/aws-json-api';
import { DynamoDbApi } from '../../lambda/shared/dynamodb-api';
import {
  leaseKey,
  readLeaseWith,
  readStateWith,
  stateKey,
  type ReadItem,
} from '../../lambda/shared/state-items';
import {
  acquireLease,
  createState,
  readLease,
  readState,
  type ExperimentState,
} from '../../lambda/shared/state-table';
import { dynamoOperation, startFaultProxy, type FaultProxy } from '../support/fault-proxy';
import { signedClientOptions } from '../support/signed-client-options';

import { SERVICE_ARN } from './helpers';
import { LocalDynamo, startLocalDynamo } from './local-dynamo';

const NOW = new Date('2026-12-01T10:00:00Z');
const STATE: Omit<ExperimentState, 'status' | 'version'> = {
  experimentId: 'exp-1',
  kind: 'stop-tasks',
  startedAt: NOW.toISOString(),
  faultExpiresAt: new Date(NOW.getTime() + 600_000).toISOString(),
  plan: {
    summary: 'stop one task',
    affectedTaskIds: ['t1'],
    stopTasks: [{ taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/c/t1', taskId: 't1' }],
    addFaults: [],
  },
};

let local: LocalDynamo;
let proxy: FaultProxy;
let reads: ReadItem;
const backoffs: number[] = [];

beforeAll(async () => {
  local = await startLocalDynamo();
});
afterAll(async () => {
  await local.close();
});

beforeEach(async () => {
  backoffs.length = 0;
  proxy = await startFaultProxy({ targetPort: Number(new URL(local.endpoint).port) });
  const table = await local.createTable(
    `state-${Date.now()}-${Math.random().toString(36).slice(2)}`,
  );
  await acquireLease(table, SERVICE_ARN, 'exp-1', new Date(NOW.getTime() + 600_000), NOW);
  await createState(table, SERVICE_ARN, STATE, undefined);
  reads = new DynamoDbApi(signedClientOptions(proxy.endpoint, backoffs)).reads(table.tableName);
  writtenBy = table;
});
afterEach(async () => {
  await proxy.stop();
});

let writtenBy: Awaited<ReturnType<LocalDynamo['createTable']>>;

test('GIVEN a lease and a state written WHEN read by one signed GetItem THEN each item is what the SDK document client reads', async () => {
  // WHEN
  const [lease, state] = [
    await readLeaseWith(reads, SERVICE_ARN),
    await readStateWith(reads, SERVICE_ARN),
  ];

  // THEN the items, attribute for attribute, as the SDK converts them
  const documents = DynamoDBDocumentClient.from(local.client);
  for (const pk of [leaseKey(SERVICE_ARN), stateKey(SERVICE_ARN)]) {
    const sdk = await documents.send(
      new GetCommand({ TableName: writtenBy.tableName, Key: { pk }, ConsistentRead: true }),
    );
    expect(await reads({ pk })).toEqual(sdk.Item);
  }
  expect(lease).toEqual(await readLease(writtenBy, SERVICE_ARN));
  expect(lease?.holder).toBe('exp-1');
  expect(state).toEqual(await readState(writtenBy, SERVICE_ARN));
  expect(state).toMatchObject({ status: 'planned', version: 1, experimentId: 'exp-1' });
  expect(await readStateWith(reads, 'arn:aws:ecs:us-east-1:123456789012:service/c/other')).toBe(
    undefined,
  );
});

test('the read is strongly consistent: the request asks for ConsistentRead', async () => {
  await readStateWith(reads, SERVICE_ARN);
  expect(proxy.requestsSeen(dynamoOperation('GetItem', '"ConsistentRead":true'))).toBe(1);
});

test('lost response: GIVEN the GetItem landed and its answer was lost THEN it is asked again (a read) and answers', async () => {
  // GIVEN
  proxy.inject({ match: dynamoOperation('GetItem'), action: { kind: 'lose-response' } });

  // WHEN
  const state = await readStateWith(reads, SERVICE_ARN);

  // THEN
  expect(state?.experimentId).toBe('exp-1');
  expect(proxy.requestsSeen(dynamoOperation('GetItem'))).toBe(2);
  expect(backoffs).toHaveLength(1);
});

test('reset: GIVEN the connection is reset THEN the read is asked again and answers', async () => {
  proxy.inject({ match: dynamoOperation('GetItem'), action: { kind: 'reset' } });
  await expect(readLeaseWith(reads, SERVICE_ARN)).resolves.toMatchObject({ holder: 'exp-1' });
  expect(backoffs).toHaveLength(1);
});

test('black hole: GIVEN DynamoDB never answers THEN every attempt times out and the timeout is thrown', async () => {
  proxy.setMode('black-hole');
  await expect(readStateWith(reads, SERVICE_ARN)).rejects.toMatchObject({ name: 'TimeoutError' });
  expect(backoffs).toHaveLength(3);
});

test("a table that does not exist is thrown at once with DynamoDB's type", async () => {
  // GIVEN
  const missing = new DynamoDbApi({
    region: 'us-east-1',
    endpoint: proxy.endpoint,
    credentials: () => Promise.resolve({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }),
    sleep: () => Promise.resolve(),
  }).reads('no-such-table');

  // WHEN / THEN
  const read = readStateWith(missing, SERVICE_ARN);
  await expect(read).rejects.toBeInstanceOf(AwsApiError);
  await expect(read).rejects.toMatchObject({ type: 'ResourceNotFoundException', status: 400 });
  expect(proxy.requestsSeen(dynamoOperation('GetItem'))).toBe(1);
});
