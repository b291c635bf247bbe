import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';

import { createDynamoDbClient, DEFAULT_AWS_TIMEOUTS } from '../../service/src/aws/clients';
import { hashKey } from '../../service/src/items/applied-writes';
import { ITEM_PREFIX } from '../../service/src/items/items-store';
import {
  dynamoOperation,
  type FaultProxy,
  type InjectedFault,
  type RequestMatcher,
} from '../support/fault-proxy';

import { api, putItem, startHarness, type Harness } from './harness';

/**
 * Item writes whose DynamoDB answer is lost, held or refused, through a fault proxy between the
 * service and dynalite: the client is told what happened to its write, no write applies twice,
 * and an Idempotency-Key replays its first answer.
 */

let harness: Harness;
let proxy: FaultProxy;
/** The test's clock offset: Idempotency-Key expiry reads the service's clock. */
let clockOffsetMs = 0;

beforeAll(async () => {
  harness = await startHarness({
    memcachedNodes: 1,
    faultProxies: true,
    tuning: { clock: () => Date.now() + clockOffsetMs, idempotency: { ttlSeconds: 3600 } },
  });
  proxy = harness.dynamoDbProxy!;
});

afterEach(() => {
  proxy.heal();
  clockOffsetMs = 0;
});

afterAll(async () => {
  await harness.stop();
});

/** A write of one item: the conditional PutItem (or, before, UpdateItem) naming its key. */
function itemWrite(id: string): RequestMatcher {
  const put = dynamoOperation('PutItem', `${ITEM_PREFIX}${id}"`);
  const update = dynamoOperation('UpdateItem', `${ITEM_PREFIX}${id}"`);
  return (request) => put(request) || update(request);
}

function itemRead(id: string): RequestMatcher {
  return dynamoOperation('GetItem', `${ITEM_PREFIX}${id}"`);
}

/** The item as stored, read straight from dynalite (not through the proxy or the service). */
async function storedVersion(id: string): Promise<Record<string, unknown> | undefined> {
  const client = createDynamoDbClient('us-east-1', DEFAULT_AWS_TIMEOUTS, harness.dynalite.endpoint);
  try {
    const output = await client.send(
      new GetCommand({
        TableName: harness.config.tableName,
        Key: { pk: ITEM_PREFIX + id },
        ConsistentRead: true,
      }),
    );
    return output.Item;
  } finally {
    client.destroy();
  }
}

describe('a write that landed is never reported as failed, nor applied twice', () => {
  test('lose-response on a PUT with If-Match: the client gets 200 for its own write, not 412', async () => {
    // GIVEN an item and its ETag
    const created = await putItem(harness.baseUrl, 'lost-if-match', { name: 'Lamp', price: 10 });
    expect(created.status).toBe(201);
    const etag = created.headers.get('etag')!;
    // AND the answer to the next write of it is lost after DynamoDB applied it
    const fault = proxy.inject({
      match: itemWrite('lost-if-match'),
      action: { kind: 'lose-response' },
    });

    // WHEN the client updates it with If-Match
    const update = await putItem(
      harness.baseUrl,
      'lost-if-match',
      { name: 'Lamp', price: 12 },
      { 'if-match': etag },
    );

    // THEN the fault fired, the client is told its write succeeded, and it applied once
    expect(fault.fired).toBe(1);
    expect(update.status).toBe(200);
    expect(update.json()).toMatchObject({ price: 12, version: 2 });
    expect(await storedVersion('lost-if-match')).toMatchObject({
      price: 12,
      version: 2,
      etag: update.headers.get('etag')!.slice(1, -1),
    });
  });

  test('lose-response on a create: 201 with version 1, not 200 with version 2 (applied twice)', async () => {
    // GIVEN the answer to the creating write is lost after DynamoDB applied it
    const fault = proxy.inject({
      match: itemWrite('lost-create'),
      action: { kind: 'lose-response' },
    });

    // WHEN the client creates the item
    const create = await putItem(harness.baseUrl, 'lost-create', { name: 'Rug', price: 80 });

    // THEN it was created once, and the client is told so
    expect(fault.fired).toBe(1);
    expect(create.status).toBe(201);
    expect(create.json()).toMatchObject({ version: 1 });
    expect(await storedVersion('lost-create')).toMatchObject({ version: 1 });
  });

  test('lose-response on an idempotent PUT with If-Match: 200, and a retry with the key replays it', async () => {
    // GIVEN an item, and a lost answer to the next write of it
    const created = await putItem(harness.baseUrl, 'lost-keyed', { name: 'Vase', price: 5 });
    const etag = created.headers.get('etag')!;
    const fault = proxy.inject({
      match: itemWrite('lost-keyed'),
      action: { kind: 'lose-response' },
    });
    const headers = { 'if-match': etag, 'idempotency-key': 'lost-keyed-0001' };

    // WHEN the client writes with an Idempotency-Key, then retries with the same key
    const first = await putItem(harness.baseUrl, 'lost-keyed', { name: 'Vase', price: 6 }, headers);
    const retry = await putItem(harness.baseUrl, 'lost-keyed', { name: 'Vase', price: 6 }, headers);

    // THEN both answers are the one write, which applied once
    expect(fault.fired).toBe(1);
    expect(first.status).toBe(200);
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.text).toBe(first.text);
    expect(retry.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(await storedVersion('lost-keyed')).toMatchObject({ price: 6, version: 2 });
  });

  test('lose-response on the GetItem that reads a lost write back: the SDK retries the read and the write still resolves', async () => {
    // GIVEN the write's answer and then the first read-back's answer are lost
    const write = proxy.inject({
      match: itemWrite('lost-twice'),
      action: { kind: 'lose-response' },
    });
    let read: { fired: number } = { fired: 0 };
    void write.done.then(() => {
      read = proxy.inject({ match: itemRead('lost-twice'), action: { kind: 'lose-response' } });
    });

    // WHEN the client creates the item
    const create = await putItem(harness.baseUrl, 'lost-twice', { name: 'Desk', price: 200 });

    // THEN both faults fired and the write is reported as the one it was
    expect(write.fired).toBe(1);
    expect(read.fired).toBe(1);
    expect(create.status).toBe(201);
    expect(await storedVersion('lost-twice')).toMatchObject({ version: 1 });
  });
});

describe('an Idempotency-Key is applied at most once, atomically with the write', () => {
  test('lose-response on the write that records the key, then another client writes: a retry with the key replays and overwrites nothing', async () => {
    // GIVEN the answer to every write carrying the key's hash is lost once
    const key = 'atomic-key-0001';
    const keyHash = hashKey(key);
    const fault = proxy.inject({
      match: (request) => request.includes(Buffer.from(keyHash)) && !itemRead('atomic')(request),
      action: { kind: 'lose-response' },
    });

    // WHEN client A writes with the key, client B then writes the item, and A retries with the key
    const first = await putItem(
      harness.baseUrl,
      'atomic',
      { name: 'Clock', price: 30 },
      { 'idempotency-key': key },
    );
    const other = await putItem(harness.baseUrl, 'atomic', { name: 'Clock', price: 99 });
    const retry = await putItem(
      harness.baseUrl,
      'atomic',
      { name: 'Clock', price: 30 },
      { 'idempotency-key': key },
    );

    // THEN A's write was applied once and acknowledged, B's write stands, and A's retry replays
    expect(fault.fired).toBe(1);
    expect(first.status).toBe(201);
    expect(other.status).toBe(200);
    expect(other.json()).toMatchObject({ price: 99, version: 2 });
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.text).toBe(first.text);
    expect(await storedVersion('atomic')).toMatchObject({ price: 99, version: 2 });
  });

  test('an expired Idempotency-Key is reclaimable: after its TTL the key runs as a new request', async () => {
    // GIVEN a write with a key (remembered for an hour here)
    const headers = { 'idempotency-key': 'expiring-0001' };
    const first = await putItem(harness.baseUrl, 'expiring', { name: 'Jar', price: 3 }, headers);
    expect(first.status).toBe(201);
    // AND while it is remembered, reusing it for another request is refused
    const reused = await putItem(harness.baseUrl, 'expiring', { name: 'Jar', price: 4 }, headers);
    expect(reused.status).toBe(422);

    // WHEN the key's TTL has passed and the key is used again for another request
    clockOffsetMs = 3601 * 1000;
    const again = await putItem(harness.baseUrl, 'expiring', { name: 'Jar', price: 4 }, headers);

    // THEN it is a new write (not a replay, not a 422), and the expired entry is gone
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBeNull();
    expect(again.json()).toMatchObject({ price: 4, version: 2 });
    const stored = await storedVersion('expiring');
    const tokens = Object.keys(stored?.writes ?? {});
    expect(tokens).toEqual([`k:${hashKey('expiring-0001')}`]);
    expect(
      (stored?.writes as Record<string, { v: number }>)[`k:${hashKey('expiring-0001')}`].v,
    ).toBe(2);
  });
});

/** Another writer's version of the item, written straight to dynalite (not through the proxy). */
async function writeAsAnotherClient(id: string, round: number): Promise<void> {
  const client = createDynamoDbClient('us-east-1', DEFAULT_AWS_TIMEOUTS, harness.dynalite.endpoint);
  try {
    await client.send(
      new UpdateCommand({
        TableName: harness.config.tableName,
        Key: { pk: ITEM_PREFIX + id },
        UpdateExpression: 'SET etag = :etag, price = :price, version = version + :one',
        ExpressionAttributeValues: { ':etag': `other-${round}`, ':price': 1000 + round, ':one': 1 },
      }),
    );
  } finally {
    client.destroy();
  }
}

describe('the client can tell "not applied, retry" from "may have been applied"', () => {
  test('race: another writer changes the item before each of its conditional writes lands: 503 write_contention after 9 rounds, and nothing of this write is stored', async () => {
    // GIVEN an item, and every write of it held until another client has written a new version
    expect((await putItem(harness.baseUrl, 'contended', { name: 'Lamp', price: 5 })).status).toBe(
      201,
    );
    const release: Array<() => void> = [];
    const hold = (): InjectedFault =>
      proxy.inject({
        match: itemWrite('contended'),
        action: {
          kind: 'hold-request',
          release: new Promise<void>((resolve) => release.push(resolve)),
        },
      });
    let held = hold();

    // WHEN the client writes, and each attempt lands just after another writer's version
    const write = putItem(harness.baseUrl, 'contended', { name: 'Lamp', price: 6 });
    const rounds = 9;
    for (let round = 1; round <= rounds; round += 1) {
      await held.done;
      await writeAsAnotherClient('contended', round);
      // The next attempt is held too, before this one goes on (so none can slip through).
      held = hold();
      release[round - 1]();
    }
    // (Were a tenth attempt made, it would go through unopposed.)
    release[rounds]();
    const answer = await write;

    // THEN the client is told the write was not applied and may be retried
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toBe('1');
    expect(answer.json()).toMatchObject({ error: 'write_contention' });
    // AND it gave up without a tenth attempt, and the other writer's last version stands
    expect(held.fired).toBe(0);
    expect(await storedVersion('contended')).toMatchObject({
      name: 'Lamp',
      price: 1000 + rounds,
      etag: `other-${rounds}`,
      version: 1 + rounds,
    });
  });

  test('hang-response on the write and a black-holed read-back: 504 write_outcome_unknown, and a retry with the key resolves it', async () => {
    // GIVEN the write lands but its answer never comes, and then reads of the item go unanswered
    const write = proxy.inject({ match: itemWrite('unknown'), action: { kind: 'hang-response' } });
    void write.done.then(() =>
      proxy.inject({ match: itemRead('unknown'), action: { kind: 'black-hole' }, times: 100 }),
    );
    const headers = { 'idempotency-key': 'unknown-0001' };

    // WHEN the client writes with a key
    const first = await putItem(harness.baseUrl, 'unknown', { name: 'Bell', price: 7 }, headers);

    // THEN it is told the outcome is unknown, with its own status and code
    expect(write.fired).toBe(1);
    expect(first.status).toBe(504);
    expect(first.json()).toMatchObject({ error: 'write_outcome_unknown' });
    expect(first.headers.get('retry-after')).toBeNull();

    // AND WHEN DynamoDB answers again and the client retries with the same key
    proxy.heal();
    const retry = await putItem(harness.baseUrl, 'unknown', { name: 'Bell', price: 7 }, headers);

    // THEN the retry finds the write that landed: one application
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(await storedVersion('unknown')).toMatchObject({ price: 7, version: 1 });
  });

  test('a refused connection to DynamoDB: 503 with Retry-After (not applied), and nothing is stored', async () => {
    // GIVEN DynamoDB refuses connections
    proxy.setMode('refuse');

    // WHEN the client writes
    const write = await putItem(harness.baseUrl, 'refused', { name: 'Cup', price: 2 });

    // THEN it is told to retry, and the write did not happen
    expect(write.status).toBe(503);
    expect(write.headers.get('retry-after')).toBe('1');
    expect(write.json()).toMatchObject({ error: 'dependency_unavailable' });
    proxy.heal();
    expect(await storedVersion('refused')).toBeUndefined();
    expect((await api(harness.baseUrl, '/api/items/refused')).status).toBe(404);
  });
});
