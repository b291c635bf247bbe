import { MemcachedCache } from '../../service/src/cache/memcached-cache';
import { ItemCache, type CacheLookup } from '../../service/src/items/item-cache';
import { DependencyMetrics } from '../../service/src/metrics/emf';
import { startMemcached, type MemcachedServer } from '../support/memcached';

/**
 * ItemCache remembers which cached bodies parsed as JSON, so the response guard does not parse a
 * hot item on every hit. What it must never do: call a garbled entry well formed because an
 * earlier version of the same key was.
 */

let memcached: MemcachedServer;
let cache: MemcachedCache;
const log = { info: () => undefined, warn: () => undefined, debug: () => undefined };

beforeAll(async () => {
  memcached = await startMemcached();
  cache = new MemcachedCache(
    { endpoints: [{ host: '127.0.0.1', port: memcached.port }], operationTimeoutMs: 1000 },
    new DependencyMetrics({ namespace: 'Test', region: 'local' }, log),
    log,
  );
});

afterAll(async () => {
  cache?.close();
  await memcached?.stop();
});

afterEach(() => jest.restoreAllMocks());

async function store(id: string, body: string): Promise<void> {
  expect(await cache.set(ItemCache.key(id), `etag-${id}\n${body}`, 60)).toBe(true);
}

function hit(lookup: CacheLookup): { body: string; wellFormed: boolean } {
  if (lookup.kind !== 'hit') throw new Error(`expected a hit, got ${lookup.kind}`);
  return { body: lookup.item.body, wellFormed: lookup.wellFormed };
}

describe('ItemCache: cached bodies known to parse', () => {
  test('a whole entry is well formed and a truncated one is not', async () => {
    // GIVEN one whole entry and one cut short, as a broken node might hold
    const items = new ItemCache(cache, { ttlSeconds: 60 });
    await store('whole', '{"id":"whole","price":1}');
    await store('cut', '{"id":"cut","pri');
    // WHEN both are read
    // THEN only the whole one is well formed, and both bodies come back as stored
    expect(hit(await items.lookup('whole'))).toEqual({
      body: '{"id":"whole","price":1}',
      wellFormed: true,
    });
    expect(hit(await items.lookup('cut'))).toEqual({ body: '{"id":"cut","pri', wellFormed: false });
  });

  test('a hit that reads the same text again is not parsed again', async () => {
    // GIVEN an entry read once
    const items = new ItemCache(cache, { ttlSeconds: 60 });
    await store('hot', '{"id":"hot"}');
    await items.lookup('hot');
    // WHEN it is read three more times
    const parse = jest.spyOn(JSON, 'parse');
    for (let read = 0; read < 3; read += 1)
      expect(hit(await items.lookup('hot')).wellFormed).toBe(true);
    // THEN nothing was parsed
    expect(parse).not.toHaveBeenCalled();
  });

  test('fault: an entry garbled after its good version was remembered is still found garbled', async () => {
    // GIVEN a key whose well-formed entry was read (and remembered)
    const items = new ItemCache(cache, { ttlSeconds: 60 });
    await store('turned', '{"id":"turned","price":3}');
    expect(hit(await items.lookup('turned')).wellFormed).toBe(true);
    // WHEN the node then holds a garbled version of it, and later a good one again
    await store('turned', '{"id":"turned","price":3');
    const garbled = hit(await items.lookup('turned'));
    await store('turned', '{"id":"turned","price":4}');
    const repaired = hit(await items.lookup('turned'));
    // THEN the garbled version is not well formed, and the good one after it is
    expect(garbled.wellFormed).toBe(false);
    expect(repaired).toEqual({ body: '{"id":"turned","price":4}', wellFormed: true });
  });

  test('remembers at most parsedBodiesKept bodies: the oldest is forgotten and parsed again', async () => {
    // GIVEN room for two remembered bodies, and three entries
    const items = new ItemCache(cache, { ttlSeconds: 60, parsedBodiesKept: 2 });
    for (const id of ['a', 'b', 'c']) await store(id, `{"id":"${id}"}`);
    const parse = jest.spyOn(JSON, 'parse');
    // WHEN a, b and c are read (c pushes a out), then b and a again
    for (const id of ['a', 'b', 'c', 'b', 'a'])
      expect(hit(await items.lookup(id)).wellFormed).toBe(true);
    // THEN a, b and c were parsed once each, and a once more after it was forgotten
    expect(parse.mock.calls.map(([text]) => text)).toEqual([
      '{"id":"a"}',
      '{"id":"b"}',
      '{"id":"c"}',
      '{"id":"a"}',
    ]);
  });

  test('parsedBodiesKept 0 remembers nothing: every hit is parsed', async () => {
    const items = new ItemCache(cache, { ttlSeconds: 60, parsedBodiesKept: 0 });
    await store('every', '{"id":"every"}');
    const parse = jest.spyOn(JSON, 'parse');
    await items.lookup('every');
    await items.lookup('every');
    expect(parse).toHaveBeenCalledTimes(2);
  });

  test.each([-1, 1.5, Number.NaN])(
    'refuses parsedBodiesKept %p, naming what is allowed',
    (kept) => {
      expect(() => new ItemCache(cache, { ttlSeconds: 60, parsedBodiesKept: kept })).toThrow(
        `ItemCache: parsedBodiesKept must be a whole number of at least 0, got ${kept}`,
      );
    },
  );
});
