import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { Client } from 'memjs';

import { createServiceTable, startDynalite, type DynaliteServer } from './dynalite';
import {
  dynamoOperation,
  memcachedOperation,
  startFaultProxy,
  type FaultProxy,
} from './fault-proxy';
import { startMemcached, type MemcachedServer } from './memcached';

const TABLE = 'fault-proxy-test';

function dynamoClient(endpoint: string, requestTimeout = 5000): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    maxAttempts: 1,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    requestHandler: { requestTimeout, connectionTimeout: 1000, throwOnRequestTimeout: true },
  });
}

async function stored(client: DynamoDBClient, pk: string): Promise<boolean> {
  const { Item } = await client.send(
    new GetItemCommand({ TableName: TABLE, Key: { pk: { S: pk } }, ConsistentRead: true }),
  );
  return Item !== undefined;
}

function put(client: DynamoDBClient, pk: string): Promise<unknown> {
  return client.send(new PutItemCommand({ TableName: TABLE, Item: { pk: { S: pk } } }));
}

describe('fault proxy between the AWS SDK and dynalite', () => {
  let dynalite: DynaliteServer;
  let proxy: FaultProxy;
  let direct: DynamoDBClient;
  let viaProxy: DynamoDBClient;

  beforeAll(async () => {
    dynalite = await startDynalite();
    await createServiceTable(dynalite.endpoint, TABLE);
    proxy = await startFaultProxy({ targetPort: dynalite.port });
    direct = dynamoClient(dynalite.endpoint);
  });
  beforeEach(() => {
    proxy.heal();
    viaProxy = dynamoClient(proxy.endpoint, 500);
  });
  afterEach(() => viaProxy.destroy());
  afterAll(async () => {
    direct?.destroy();
    await proxy?.stop();
    await dynalite?.stop();
  });

  test('lose-response: the write lands but the caller gets an error (UNKNOWN)', async () => {
    // GIVEN the next PutItem's response is lost
    const fault = proxy.inject({
      match: dynamoOperation('PutItem'),
      action: { kind: 'lose-response' },
    });
    // WHEN a PutItem is sent through the proxy
    await expect(put(viaProxy, 'lost-response')).rejects.toThrow();
    // THEN the fault fired and the item is stored all the same
    expect(fault.fired).toBe(1);
    expect(await stored(direct, 'lost-response')).toBe(true);
  });

  test('hang-response: the write lands and the caller times out', async () => {
    proxy.inject({ match: dynamoOperation('PutItem'), action: { kind: 'hang-response' } });
    await expect(put(viaProxy, 'hung-response')).rejects.toThrow();
    expect(await stored(direct, 'hung-response')).toBe(true);
  });

  test('reset: the request never lands', async () => {
    proxy.inject({ match: dynamoOperation('PutItem'), action: { kind: 'reset' } });
    await expect(put(viaProxy, 'reset-request')).rejects.toThrow();
    expect(await stored(direct, 'reset-request')).toBe(false);
  });

  test('black-hole: the request never lands and the caller times out', async () => {
    proxy.inject({ match: dynamoOperation('PutItem'), action: { kind: 'black-hole' } });
    await expect(put(viaProxy, 'black-holed')).rejects.toThrow();
    expect(await stored(direct, 'black-holed')).toBe(false);
  });

  test('a matcher on the body picks one request out of several', async () => {
    // GIVEN a fault only for the PutItem of one key
    const fault = proxy.inject({
      match: dynamoOperation('PutItem', '"target-key"'),
      action: { kind: 'reset' },
    });
    // WHEN another key and then the target key are written
    await put(viaProxy, 'other-key');
    await expect(put(viaProxy, 'target-key')).rejects.toThrow();
    // THEN only the target key's request got the fault
    expect(fault.fired).toBe(1);
    expect(await stored(direct, 'other-key')).toBe(true);
    expect(await stored(direct, 'target-key')).toBe(false);
  });

  test('hold-response: a held answer arrives after a later one, once released', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const fault = proxy.inject({
      match: dynamoOperation('PutItem', '"held"'),
      action: { kind: 'hold-response', release: released },
    });
    const heldClient = dynamoClient(proxy.endpoint, 5000);
    try {
      const order: string[] = [];
      const held = put(heldClient, 'held').then(() => order.push('held'));
      while (fault.fired === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      await put(viaProxy, 'unheld').then(() => order.push('unheld'));
      // The held request landed before its answer was released.
      expect(await stored(direct, 'held')).toBe(true);
      release();
      await held;
      expect(order).toEqual(['unheld', 'held']);
    } finally {
      heldClient.destroy();
    }
  });

  test('hold-request: a held request lands only once released', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const fault = proxy.inject({
      match: dynamoOperation('PutItem', '"late"'),
      action: { kind: 'hold-request', release: released },
    });
    const heldClient = dynamoClient(proxy.endpoint, 5000);
    try {
      const sent = put(heldClient, 'late');
      while (fault.fired === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(await stored(direct, 'late')).toBe(false);
      release();
      await sent;
      expect(await stored(direct, 'late')).toBe(true);
    } finally {
      heldClient.destroy();
    }
  });

  test('delay-response: the answer still arrives, through a client that waits long enough', async () => {
    const fault = proxy.inject({
      match: dynamoOperation('PutItem', '"slow"'),
      action: { kind: 'delay-response', delayMs: 200 },
    });
    const patient = dynamoClient(proxy.endpoint, 10_000);
    try {
      await put(patient, 'slow');
      expect(fault.fired).toBe(1);
      expect(await stored(direct, 'slow')).toBe(true);
    } finally {
      patient.destroy();
    }
  });

  test('refuse mode resets every connection; heal restores the link', async () => {
    proxy.setMode('refuse');
    await expect(put(viaProxy, 'refused')).rejects.toThrow();
    proxy.heal();
    const fresh = dynamoClient(proxy.endpoint);
    try {
      await put(fresh, 'after-heal');
      expect(await stored(direct, 'after-heal')).toBe(true);
    } finally {
      fresh.destroy();
    }
  });
});

describe('fault proxy between memjs and memcached', () => {
  let memcached: MemcachedServer;
  let proxy: FaultProxy;

  beforeAll(async () => {
    memcached = await startMemcached();
    proxy = await startFaultProxy({ targetPort: memcached.port });
  });
  afterAll(async () => {
    await proxy?.stop();
    await memcached?.stop();
  });

  test('lose-response on one key’s set: the value is stored, the caller sees an error', async () => {
    // GIVEN the response to the set of key "k1" is lost
    const fault = proxy.inject({
      match: memcachedOperation('set', 'k1'),
      action: { kind: 'lose-response' },
    });
    const client = Client.create(proxy.address, { retries: 0, timeout: 0.5, conntimeout: 0.5 });
    const directClient = Client.create(memcached.endpoint, { retries: 0 });
    try {
      // WHEN the set is sent
      await expect(client.set('k1', 'v1', { expires: 60 })).rejects.toThrow();
      // THEN the fault fired and memcached holds the value
      expect(fault.fired).toBe(1);
      const { value } = await directClient.get('k1');
      expect(value?.toString()).toBe('v1');
    } finally {
      client.close();
      directClient.close();
    }
  });
});
