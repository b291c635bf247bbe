import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { loadConfig } from '../../service/src/config';
import { createService, type Service } from '../../service/src/service';
import { createServiceTable, startDynalite, type DynaliteServer } from '../support/dynalite';
import {
  dynamoOperation,
  memcachedOperation,
  startFaultProxy,
  type FaultProxy,
} from '../support/fault-proxy';
import { startMemcached, type MemcachedServer } from '../support/memcached';

import { api, eventually, LogCapture, putItem, TEST_IDENTITY, TEST_TUNING } from './harness';

/**
 * Cache coherence under the races and faults of cache-aside: a slow reader filling an old
 * version after a write, and a node that missed an invalidation coming back. The service talks to
 * dynalite and to memcached through fault proxies, so each race is ordered exactly.
 */

let directory: string;
let memcached: MemcachedServer;
let dynalite: DynaliteServer;
let dynamoProxy: FaultProxy;
let memcachedProxy: FaultProxy;
let service: Service;
let baseUrl: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'cache-coherence-'));
  memcached = await startMemcached();
  dynalite = await startDynalite();
  await createServiceTable(dynalite.endpoint, 'items-coherence');
  dynamoProxy = await startFaultProxy({ targetPort: Number(new URL(dynalite.endpoint).port) });
  memcachedProxy = await startFaultProxy({ targetPort: memcached.port });
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    MEMCACHED_ENDPOINTS: memcachedProxy.address,
    TABLE_NAME: 'items-coherence',
    DYNAMODB_ENDPOINT: dynamoProxy.endpoint,
    AWS_REGION: 'us-east-1',
    FAULTS_FILE: join(directory, 'faults.json'),
    FAULTS_POLL_SECONDS: '0.1',
    SHUTDOWN_DRAIN_SECONDS: '1',
    TRUST_PROXY_HOPS: '0',
    LOG_LEVEL: 'info',
  });
  service = await createService(config, {
    identity: TEST_IDENTITY,
    tuning: TEST_TUNING,
    logStream: new LogCapture(),
  });
  baseUrl = await service.start();
});

afterAll(async () => {
  await service?.stop();
  await dynamoProxy?.stop();
  await memcachedProxy?.stop();
  await memcached?.stop();
  await dynalite?.stop();
  await rm(directory, { recursive: true, force: true });
});

afterEach(() => {
  dynamoProxy.heal();
  memcachedProxy.heal();
});

interface ItemBody {
  name: string;
  price: number;
  version: number;
}

const read = (id: string) => api(baseUrl, `/api/items/${id}`);

/** A client that updates by GET, then PUT If-Match with the ETag it got; counts its 412s. */
async function getThenPutIfMatch(id: string, price: number, attempts = 3) {
  let preconditionFailures = 0;
  const versionsRead: number[] = [];
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    const current = await read(id);
    versionsRead.push(current.json<ItemBody>().version);
    const put = await putItem(
      baseUrl,
      id,
      { name: current.json<ItemBody>().name, price },
      { 'if-match': current.headers.get('etag')! },
    );
    if (put.status !== 412) return { status: put.status, preconditionFailures, versionsRead };
    preconditionFailures += 1;
  }
  return { status: 412, preconditionFailures, versionsRead };
}

test('fill race: a reader whose GetItem answer is held while a writer commits and invalidates does not cache the old version', async () => {
  // GIVEN an item at version 1, not cached
  expect((await putItem(baseUrl, 'lamp', { name: 'Lamp', price: 30 })).status).toBe(201);

  // AND a reader whose DynamoDB answer (version 1) is held after DynamoDB read it
  let release!: () => void;
  const held = dynamoProxy.inject({
    match: dynamoOperation('GetItem', 'item#lamp'),
    action: { kind: 'hold-response', release: new Promise<void>((resolve) => (release = resolve)) },
  });
  const slowReader = read('lamp');
  await held.done;

  // WHEN a writer commits version 2 and invalidates, and only then the reader's answer arrives
  const write = await putItem(baseUrl, 'lamp', { name: 'Lamp', price: 35 });
  release();
  const slow = await slowReader;

  // THEN the race happened as ordered: the write succeeded, the slow reader saw version 1
  expect(write.status).toBe(200);
  expect(slow.json<ItemBody>().version).toBe(1);

  // AND a client doing GET -> PUT If-Match is not told 412 for the ETag the service just gave it
  // (with the old version cached it would loop on 412 for the whole TTL)
  const update = await getThenPutIfMatch('lamp', 40);
  expect(update.preconditionFailures).toBe(0);
  expect(update.status).toBe(200);
  expect(update.versionsRead).toEqual([2]);

  // AND the cache fills again: reads return version 3, the second one a hit
  expect((await read('lamp')).json<ItemBody>().version).toBe(3);
  const hit = await read('lamp');
  expect(hit.headers.get('x-cache')).toBe('HIT');
  expect(hit.json<ItemBody>().version).toBe(3);
});

test('failed invalidation: a delete lost to a reset makes the node flush before it serves the key again', async () => {
  // GIVEN a cached item at version 1
  await putItem(baseUrl, 'chair', { name: 'Chair', price: 50 });
  await read('chair');
  expect((await read('chair')).headers.get('x-cache')).toBe('HIT');

  // WHEN the write of version 2 commits but its memcached delete is reset before it lands
  const lost = memcachedProxy.inject({
    match: memcachedOperation('delete'),
    action: { kind: 'reset' },
  });
  expect((await putItem(baseUrl, 'chair', { name: 'Chair', price: 55 })).status).toBe(200);
  expect(lost.fired).toBe(1);

  // THEN no read returns version 1: the very next read already sees version 2
  const next = await read('chair');
  expect(next.json<ItemBody>()).toMatchObject({ version: 2, price: 55 });

  // AND the cache works again afterwards (a later read is a hit of version 2)
  const hit = await eventually(
    () => read('chair'),
    (response) => response.headers.get('x-cache') === 'HIT',
  );
  expect(hit.json<ItemBody>().version).toBe(2);

  // AND GET -> PUT If-Match succeeds at once
  expect((await getThenPutIfMatch('chair', 60)).preconditionFailures).toBe(0);
});

test('node coming back: a node unreachable while a write invalidated it does not serve the older value when it is reachable again', async () => {
  // GIVEN a cached item at version 1
  await putItem(baseUrl, 'desk', { name: 'Desk', price: 200 });
  await read('desk');
  expect((await read('desk')).headers.get('x-cache')).toBe('HIT');

  // WHEN the node is unreachable (connections refused) while version 2 is written
  memcachedProxy.setMode('refuse');
  expect((await putItem(baseUrl, 'desk', { name: 'Desk', price: 210 })).status).toBe(200);
  const during = await read('desk');
  expect(during.json<ItemBody>().version).toBe(2);

  // AND the node comes back, still holding version 1
  memcachedProxy.setMode('pass');

  // THEN every read until the cache hits again (breaker probe, then fill) returns version 2
  const versions: number[] = [];
  const hit = await eventually(
    async () => {
      const response = await read('desk');
      versions.push(response.json<ItemBody>().version);
      return response;
    },
    (response) => response.headers.get('x-cache') === 'HIT',
  );
  expect(hit.headers.get('x-cache')).toBe('HIT');
  expect(versions.every((version) => version === 2)).toBe(true);
  expect(service.cache.suspectNodes()).toEqual([]);

  // AND GET -> PUT If-Match succeeds at once (no 412 loop on a stale ETag)
  expect((await getThenPutIfMatch('desk', 220)).preconditionFailures).toBe(0);
});
