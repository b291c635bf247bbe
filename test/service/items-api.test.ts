import { Client } from 'memjs';

import { hashKey } from '../../service/src/items/applied-writes';
import { ItemCache } from '../../service/src/items/item-cache';
import { requestFingerprint } from '../../service/src/routes/items';

import { api, putItem, startHarness, type Harness } from './harness';

let harness: Harness;
let memcachedClients: Map<string, Client>;

beforeAll(async () => {
  harness = await startHarness({ memcachedNodes: 2 });
  memcachedClients = new Map(
    harness.memcached.map((node) => [
      node.endpoint,
      Client.create(node.endpoint, { logger: { log: () => undefined } }),
    ]),
  );
});

afterAll(async () => {
  for (const client of memcachedClients.values()) client.close();
  await harness.stop();
});

/** What memcached itself holds for an item, read straight from the node that owns the key. */
async function cachedOnNode(id: string): Promise<{ node: string; value: string | undefined }> {
  const key = ItemCache.key(id);
  const node = harness.service.cache.nodeFor(key);
  const { value } = await memcachedClients.get(node)!.get(key);
  return { node, value: value?.toString('utf8') };
}

describe('cache-aside reads', () => {
  test('a first read misses the cache and fills it; the next read hits it with the same body', async () => {
    // GIVEN an item written through the API
    const put = await putItem(harness.baseUrl, 'lamp', { name: 'Desk lamp', price: 25 });
    expect(put.status).toBe(201);

    // WHEN it is read twice
    const first = await api(harness.baseUrl, '/api/items/lamp');
    const cached = await cachedOnNode('lamp');
    const second = await api(harness.baseUrl, '/api/items/lamp');

    // THEN the first read came from DynamoDB and filled memcached, the second came from memcached
    expect(first.status).toBe(200);
    expect(first.headers.get('x-cache')).toBe('MISS');
    expect(cached.value).toBe(`${first.headers.get('etag')!.slice(1, -1)}\n${first.text}`);
    expect(second.headers.get('x-cache')).toBe('HIT');
    expect(second.text).toBe(first.text);
    expect(second.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(second.json()).toMatchObject({ id: 'lamp', name: 'Desk lamp', price: 25, version: 1 });
  });

  test('a write removes the cached item, so the next read misses and sees the new version', async () => {
    // GIVEN an item that is cached
    await putItem(harness.baseUrl, 'chair', { name: 'Chair', price: 40 });
    await api(harness.baseUrl, '/api/items/chair');
    expect((await cachedOnNode('chair')).value).toBeDefined();

    // WHEN it is written again
    const put = await putItem(harness.baseUrl, 'chair', {
      name: 'Chair',
      price: 35,
      tags: ['sale'],
    });

    // THEN the cache entry is gone and the next read gets version 2 from DynamoDB
    expect(put.status).toBe(200);
    expect((await cachedOnNode('chair')).value).toBeUndefined();
    const read = await api(harness.baseUrl, '/api/items/chair');
    expect(read.headers.get('x-cache')).toBe('MISS');
    expect(read.json()).toMatchObject({ price: 35, tags: ['sale'], version: 2 });
    expect(read.headers.get('etag')).toBe(put.headers.get('etag'));
  });

  test('keys are spread over every memcached node, each key on the node consistent hashing picks', async () => {
    // GIVEN twenty cached items
    const ids = Array.from({ length: 20 }, (_, index) => `spread-${index}`);
    for (const id of ids) {
      await putItem(harness.baseUrl, id, { name: id, price: 1 });
      await api(harness.baseUrl, `/api/items/${id}`);
    }

    // WHEN each node is asked for each key
    const owners = new Map<string, string[]>();
    for (const id of ids) {
      for (const [endpoint, client] of memcachedClients) {
        const { value } = await client.get(ItemCache.key(id));
        if (value) owners.set(id, [...(owners.get(id) ?? []), endpoint]);
      }
    }

    // THEN every key lives on exactly the node the service picks, and both nodes hold some
    for (const id of ids) {
      expect(owners.get(id)).toEqual([harness.service.cache.nodeFor(ItemCache.key(id))]);
    }
    expect(new Set([...owners.values()].flat()).size).toBe(2);
  });

  test('an unknown item is a 404 with a JSON body', async () => {
    const read = await api(harness.baseUrl, '/api/items/no-such-item');
    expect(read.status).toBe(404);
    expect(read.json()).toMatchObject({
      error: 'not_found',
      message: "item 'no-such-item' not found",
    });
  });
});

describe('listing', () => {
  test('pages through every item exactly once with the cursor, without reserved items', async () => {
    // GIVEN items written (some by earlier tests) and the health sentinel in the table
    for (let index = 0; index < 7; index += 1) {
      await putItem(harness.baseUrl, `list-${index}`, { name: `list ${index}`, price: index });
    }

    // WHEN all pages of three are read
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await api(
        harness.baseUrl,
        `/api/items?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.status).toBe(200);
      const body = page.json<{ items: Array<{ id: string }>; nextCursor?: string }>();
      expect(body.items.length).toBeLessThanOrEqual(3);
      seen.push(...body.items.map((item) => item.id));
      cursor = body.nextCursor;
      pages += 1;
    } while (cursor && pages < 50);

    // THEN each item appears once, and the sentinel never
    expect(new Set(seen).size).toBe(seen.length);
    for (let index = 0; index < 7; index += 1) expect(seen).toContain(`list-${index}`);
    expect(seen.filter((id) => id.startsWith('_'))).toEqual([]);
    expect(pages).toBeGreaterThan(2);
  });
});

describe('idempotent writes', () => {
  test('a PUT retried with the same Idempotency-Key returns the first response and writes once', async () => {
    // GIVEN a PUT with an Idempotency-Key
    const headers = { 'idempotency-key': 'retry-me-0001' };
    const first = await putItem(harness.baseUrl, 'kettle', { name: 'Kettle', price: 30 }, headers);

    // WHEN the client retries it twice
    const second = await putItem(harness.baseUrl, 'kettle', { name: 'Kettle', price: 30 }, headers);
    const third = await putItem(harness.baseUrl, 'kettle', { name: 'Kettle', price: 30 }, headers);

    // THEN the retries replay the first answer, and the item was written once (version 1)
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    for (const retry of [second, third]) {
      expect(retry.status).toBe(201);
      expect(retry.text).toBe(first.text);
      expect(retry.headers.get('etag')).toBe(first.headers.get('etag'));
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
    }
    const read = await api(harness.baseUrl, '/api/items/kettle');
    expect(read.json()).toMatchObject({ version: 1 });
  });

  test('concurrent PUTs with one Idempotency-Key write once; the others replay that write', async () => {
    // WHEN five identical requests race
    const headers = { 'idempotency-key': 'race-0001' };
    const responses = await Promise.all(
      Array.from({ length: 5 }, () =>
        putItem(harness.baseUrl, 'race', { name: 'Race', price: 1 }, headers),
      ),
    );

    // THEN one wrote, and every other one replayed that write (the key and the item are one
    // record, so a loser of the race finds the winner's write)
    expect(responses.map((response) => response.status)).toEqual([201, 201, 201, 201, 201]);
    expect(new Set(responses.map((response) => response.text)).size).toBe(1);
    expect(new Set(responses.map((response) => response.headers.get('etag'))).size).toBe(1);
    expect(
      responses.filter((response) => response.headers.get('idempotent-replayed') === null),
    ).toHaveLength(1);
    const read = await api(harness.baseUrl, '/api/items/race');
    expect(read.json()).toMatchObject({ version: 1 });
  });

  test('an Idempotency-Key reused for a different request is refused with 422', async () => {
    const headers = { 'idempotency-key': 'reused-0001' };
    await putItem(harness.baseUrl, 'mug', { name: 'Mug', price: 8 }, headers);

    const reused = await putItem(harness.baseUrl, 'mug', { name: 'Mug', price: 9 }, headers);

    expect(reused.status).toBe(422);
    expect(reused.json()).toMatchObject({ error: 'idempotency_key_reused' });
    expect((await api(harness.baseUrl, '/api/items/mug')).json()).toMatchObject({
      price: 8,
      version: 1,
    });
  });

  test('a retry after an attempt that stopped without an answer finds that write and does not repeat it', async () => {
    // GIVEN an attempt whose write landed but whose answer never reached the client (written
    // straight through the store, as the route would have)
    const key = 'lost-answer-0001';
    const body = { name: 'Teapot', price: 22 };
    const first = await harness.service.store.put('teapot', body, {
      idempotency: {
        keyHash: hashKey(key),
        fingerprint: requestFingerprint('teapot', undefined, body),
      },
    });

    // WHEN the client retries with the same key
    const retry = await putItem(harness.baseUrl, 'teapot', body, { 'idempotency-key': key });

    // THEN it gets the write that happened, and the item is still at version 1
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.headers.get('etag')).toBe(`"${first.stored.etag}"`);
    expect(retry.json()).toMatchObject({ id: 'teapot', version: 1 });
    expect((await api(harness.baseUrl, '/api/items/teapot')).json()).toMatchObject({ version: 1 });
    // AND a further retry replays the same answer
    const again = await putItem(harness.baseUrl, 'teapot', body, { 'idempotency-key': key });
    expect(again.text).toBe(retry.text);
  });
});

describe('optimistic concurrency', () => {
  test('If-Match with the current ETag writes; with a stale one it is refused with 412', async () => {
    // GIVEN an item and its ETag
    const created = await putItem(harness.baseUrl, 'desk', { name: 'Desk', price: 100 });
    const etag = created.headers.get('etag')!;

    // WHEN one writer updates with the ETag, and a second writer uses the same (now stale) ETag
    const winner = await putItem(
      harness.baseUrl,
      'desk',
      { name: 'Desk', price: 90 },
      { 'if-match': etag },
    );
    const loser = await putItem(
      harness.baseUrl,
      'desk',
      { name: 'Desk', price: 80 },
      { 'if-match': etag },
    );

    // THEN the first wins, the second gets 412 and changes nothing
    expect(winner.status).toBe(200);
    expect(winner.headers.get('etag')).not.toBe(etag);
    expect(loser.status).toBe(412);
    expect(loser.json()).toMatchObject({ error: 'precondition_failed' });
    expect((await api(harness.baseUrl, '/api/items/desk')).json()).toMatchObject({
      price: 90,
      version: 2,
    });
  });

  test('If-Match: * on an item that does not exist is refused with 412', async () => {
    const response = await putItem(
      harness.baseUrl,
      'ghost',
      { name: 'Ghost', price: 1 },
      { 'if-match': '*' },
    );
    expect(response.status).toBe(412);
    expect((await api(harness.baseUrl, '/api/items/ghost')).status).toBe(404);
  });
});

describe('whoami', () => {
  test('names the region, AZ, task and version', async () => {
    const response = await api(harness.baseUrl, '/api/whoami');
    expect(response.json()).toEqual({
      region: 'us-east-1',
      availabilityZone: 'us-east-1a',
      taskId: 'task-under-test',
      version: 'test',
    });
  });

  test('may be read by the static site from another origin, unlike the item API', async () => {
    // GIVEN the site's page on its own origin
    const init = { headers: { origin: 'https://www.example.com' } };
    // WHEN it reads whoami and readiness, and an item
    const whoami = await api(harness.baseUrl, '/api/whoami', init);
    const ready = await api(harness.baseUrl, '/health/ready', init);
    const items = await api(harness.baseUrl, '/api/items', init);
    // THEN only the two public read-only endpoints allow it
    expect(whoami.headers.get('access-control-allow-origin')).toBe('*');
    expect(ready.headers.get('access-control-allow-origin')).toBe('*');
    expect(items.headers.get('access-control-allow-origin')).toBeNull();
  });
});
