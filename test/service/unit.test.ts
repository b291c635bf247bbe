import { MemcachedCache } from '../../service/src/cache/memcached-cache';
import { pickNode } from '../../service/src/cache/rendezvous';
import { checkResponse } from '../../service/src/health/response-check';
import { ResponseWindow } from '../../service/src/health/response-window';
import { DependencyMetrics } from '../../service/src/metrics/emf';
import { startMemcached } from '../support/memcached';

describe('rendezvous hashing', () => {
  const nodes = ['10.0.1.10:11211', '10.0.2.10:11211', '10.0.3.10:11211'];
  const keys = Array.from({ length: 3000 }, (_, index) => `item:v1:${index}`);

  test('every key maps to one node, the same each time, and the nodes share the keys', () => {
    const counts = new Map<string, number>();
    for (const key of keys) {
      const node = pickNode(nodes, key);
      expect(pickNode([...nodes].reverse(), key)).toBe(node);
      counts.set(node, (counts.get(node) ?? 0) + 1);
    }
    for (const node of nodes) {
      expect(counts.get(node)).toBeGreaterThan(800);
    }
  });

  test('MemcachedCache.nodeFor agrees with pickNode for every key, the same key twice in a row included, and after the ring changes', () => {
    // GIVEN a cache over three nodes (nothing is dialled until a call is made)
    const log = { info: () => undefined, warn: () => undefined, debug: () => undefined };
    const endpoint = (name: string) => {
      const [host, port] = name.split(':');
      return { host, port: Number(port) };
    };
    const cache = new MemcachedCache(
      { endpoints: nodes.map(endpoint) },
      new DependencyMetrics({ namespace: 'Test', region: 'local' }, log),
      log,
    );
    try {
      // WHEN keys are placed, each twice in a row, the empty key included
      for (const key of ['', ...keys.slice(0, 300)]) {
        // THEN each lands where rendezvous hashing puts it
        expect(cache.nodeFor(key)).toBe(pickNode(nodes, key));
        expect(cache.nodeFor(key)).toBe(pickNode(nodes, key));
      }
      // AND once the ring loses the node the last key was on, that key moves
      const last = keys[299];
      const remaining = nodes.filter((node) => node !== cache.nodeFor(last));
      cache.setNodes(remaining.map(endpoint));
      expect(cache.nodeFor(last)).toBe(pickNode(remaining, last));
      expect(remaining).toContain(cache.nodeFor(last));
    } finally {
      cache.close();
    }
  });

  test('removing a node moves only the keys it owned', () => {
    const remaining = nodes.slice(0, 2);
    for (const key of keys) {
      const before = pickNode(nodes, key);
      if (before !== nodes[2]) expect(pickNode(remaining, key)).toBe(before);
    }
  });
});

describe('checkResponse', () => {
  const json = 'application/json; charset=utf-8';

  test.each([
    [
      'a JSON body',
      '{"id":"a"}',
      json,
      200,
      'GET',
      { bytes: 10, zeroLength: false, malformed: false },
    ],
    ['an empty 200', '', json, 200, 'GET', { bytes: 0, zeroLength: true, malformed: false }],
    [
      'a missing body',
      undefined,
      json,
      200,
      'GET',
      { bytes: 0, zeroLength: true, malformed: false },
    ],
    [
      'a truncated body',
      '{"id":',
      json,
      200,
      'GET',
      { bytes: 6, zeroLength: false, malformed: true },
    ],
    [
      'a body in another type',
      'ok',
      'text/plain',
      200,
      'GET',
      { bytes: 2, zeroLength: false, malformed: true },
    ],
    ['a 204', '', undefined, 204, 'PUT', { bytes: 0, zeroLength: false, malformed: false }],
    ['a HEAD', '', json, 200, 'HEAD', { bytes: 0, zeroLength: false, malformed: false }],
    [
      'a buffer',
      Buffer.from('{"é":1}'),
      json,
      200,
      'GET',
      { bytes: 8, zeroLength: false, malformed: false },
    ],
  ])('%s', (_name, payload, contentType, status, method, expected) => {
    expect(checkResponse(payload, contentType, status, method)).toEqual(expected);
  });

  test('a body the service serialized itself is not parsed again: only its length is checked', () => {
    // GIVEN text that would not parse, flagged as produced by the JSON serializer
    const serialized = checkResponse('{"not":', 'application/json', 200, 'GET', true);
    // THEN it is taken as JSON (the serializer cannot produce anything else)...
    expect(serialized).toEqual({ bytes: 7, zeroLength: false, malformed: false });
    // ...but emptied after serialization (a fault) it is still zero-length
    expect(checkResponse('', 'application/json', 200, 'GET', true)).toMatchObject({
      zeroLength: true,
    });
    // AND the same text sent as text (a cached item) is parsed and found malformed
    expect(checkResponse('{"not":', 'application/json', 200, 'GET')).toMatchObject({
      malformed: true,
    });
  });
});

describe('ResponseWindow', () => {
  test('ejects at the threshold share once there are enough responses, and forgets old seconds', () => {
    let now = 1_000_000;
    const window = new ResponseWindow(
      { windowSeconds: 10, threshold: 0.2, minResponses: 10 },
      () => now,
    );

    for (let index = 0; index < 8; index += 1) window.record(false);
    window.record(true);
    expect(window.stats()).toMatchObject({ total: 9, bad: 1, ejected: false });
    now += 5000;
    for (let index = 0; index < 10; index += 1) window.record(false);
    expect(window.stats()).toMatchObject({ total: 19, bad: 1, ejected: false });
    now += 6000;
    expect(window.stats()).toMatchObject({ total: 10, bad: 0, ejected: false });

    window.record(true);
    window.record(true);
    expect(window.stats()).toMatchObject({ total: 12, bad: 2, ejected: false });
    window.record(true);
    expect(window.stats()).toMatchObject({ total: 13, bad: 3, ejected: true });
  });

  test('too few responses never eject', () => {
    const window = new ResponseWindow({ minResponses: 20 }, () => 5_000_000);
    for (let index = 0; index < 19; index += 1) window.record(true);
    expect(window.stats()).toMatchObject({ total: 19, bad: 19, ejected: false });
  });
});

describe('the memcached starter', () => {
  test('a missing memcached binary fails the run with how to install it', async () => {
    const saved = process.env.MEMCACHED_BIN;
    process.env.MEMCACHED_BIN = '/nonexistent/memcached';
    try {
      await expect(startMemcached()).rejects.toThrow(
        "memcached is not installed: run `sudo apt-get install memcached` (Debian/Ubuntu) or `bash scripts/install.sh --test` (tried '/nonexistent/memcached')",
      );
    } finally {
      if (saved === undefined) delete process.env.MEMCACHED_BIN;
      else process.env.MEMCACHED_BIN = saved;
    }
  });
});
