import type { Socket } from 'node:net';

import fc from 'fast-check';
import { Client } from 'memjs';

import { MemcachedCache } from '../../service/src/cache/memcached-cache';
import { GuardedServer } from '../../service/src/cache/tls-server';
import { DependencyMetrics } from '../../service/src/metrics/emf';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy';
import { startMemcached, type MemcachedServer } from '../support/memcached';

/**
 * Requests issued in the same turn of the event loop leave in one write (GuardedServer.write):
 * against a real memcached, directly and through the fault proxy. And responses are parsed from
 * the chunks read, without a copy per read (GuardedServer.appendToBuffer).
 */

let memcached: MemcachedServer;
let proxy: FaultProxy;

beforeAll(async () => {
  memcached = await startMemcached();
  proxy = await startFaultProxy({ targetPort: memcached.port });
});

afterEach(() => proxy.heal());

afterAll(async () => {
  await proxy?.stop();
  await memcached?.stop();
});

const log = { info: () => undefined, warn: () => undefined, debug: () => undefined };
const KEYS = Array.from({ length: 8 }, (_, index) => `coalesce-${index}`);

/** Runs each call in its own callback of one turn of the event loop, as HTTP requests arrive. */
function inOneTurn<T>(calls: Array<() => Promise<T>>): Promise<T[]> {
  return Promise.all(
    calls.map(
      (call) =>
        new Promise<T>((resolve, reject) => {
          setImmediate(() => {
            call().then(resolve, reject);
          });
        }),
    ),
  );
}

function connectedSocket(server: GuardedServer): Socket {
  const socket = (server as unknown as { _socket?: Socket })._socket;
  if (!socket) throw new Error('the server has no socket yet');
  return socket;
}

/** A memjs client on one GuardedServer to the real memcached, as the cache makes one; closed after. */
async function withClient(
  use: (client: Client, server: GuardedServer) => Promise<void>,
): Promise<void> {
  const server = new GuardedServer(memcached.host, memcached.port, { timeout: 2 }, undefined);
  const client = new Client([server], {
    retries: 1,
    failover: false,
    logger: { log: () => undefined },
  });
  try {
    await use(client, server);
  } finally {
    client.close();
  }
}

test('GETs issued by separate callbacks in one event-loop turn leave in one write, and each gets its own value', async () => {
  // GIVEN a connected memjs client on a GuardedServer, and one value per key
  await withClient(async (client, server) => {
    for (const key of KEYS) await client.set(key, `value of ${key}`, { expires: 60 });
    const socket = connectedSocket(server);
    const single = jest.spyOn(socket as unknown as { _write: () => void }, '_write');
    const batched = jest.spyOn(socket as unknown as { _writev: () => void }, '_writev');

    // WHEN each GET is issued from its own callback in the same turn
    const values = await inOneTurn(KEYS.map((key) => () => client.get(key)));

    // THEN every answer is the one for its own key
    expect(values.map((result) => result.value?.toString('utf8'))).toEqual(
      KEYS.map((key) => `value of ${key}`),
    );
    // AND the eight requests left in one write of eight chunks, none on its own
    expect(single).not.toHaveBeenCalled();
    expect(batched).toHaveBeenCalledTimes(1);
    expect((batched.mock.calls[0] as unknown[])[0]).toHaveLength(KEYS.length);
    expect(socket.writableCorked).toBe(0);
  });
});

test('a request issued in a later turn is not held behind the earlier turn’s write', async () => {
  // GIVEN a connected client
  await withClient(async (client, server) => {
    await client.set('later', 'later value', { expires: 60 });
    const socket = connectedSocket(server);

    // WHEN one GET is issued, and another only after the first was answered
    const first = await inOneTurn([() => client.get('later')]);
    const second = await inOneTurn([() => client.get('later')]);

    // THEN both answer, and nothing stays corked between turns
    expect(first[0].value?.toString('utf8')).toBe('later value');
    expect(second[0].value?.toString('utf8')).toBe('later value');
    expect(socket.writableCorked).toBe(0);
  });
});

test('fault: the socket is destroyed while a turn’s GETs are held: each call fails, none hangs, and the next GET reconnects', async () => {
  // GIVEN a connected client
  await withClient(async (client, server) => {
    await client.set('reset-key', 'after reset', { expires: 60 });
    const socket = connectedSocket(server);

    // WHEN three GETs are held for the turn's write and the socket dies before it goes out
    const outcomes = inOneTurn([
      ...KEYS.slice(0, 3).map(
        (key) => () =>
          client.get(key).then(
            () => 'answered',
            () => 'failed',
          ),
      ),
      () => {
        socket.destroy(new Error('read ECONNRESET'));
        return Promise.resolve('destroyed');
      },
    ]);

    // THEN each held call ends (memjs fails what was pending on the dead socket)
    expect(await outcomes).toEqual(['failed', 'failed', 'failed', 'destroyed']);
    // AND the next GET opens a new socket and answers
    const after = await client.get('reset-key');
    expect(after.value?.toString('utf8')).toBe('after reset');
    expect(connectedSocket(server)).not.toBe(socket);
  });
});

test('fault: the response to a coalesced write is lost after it landed: every GET in it is a miss, and the next GET hits', async () => {
  // GIVEN a cache reaching memcached through the fault proxy, with every key stored (its breaker
  // would open on the turn's failed calls, as on any reset with calls in flight: set above them)
  const cache = new MemcachedCache(
    {
      endpoints: [{ host: '127.0.0.1', port: proxy.port }],
      operationTimeoutMs: 1000,
      breakerFailures: KEYS.length + 1,
    },
    new DependencyMetrics({ namespace: 'Test', region: 'local' }, log),
    log,
  );
  try {
    for (const key of KEYS) expect(await cache.set(key, `cached ${key}`, 60)).toBe(true);

    // WHEN the turn's GETs go out together and the answer to that write is lost (connection reset)
    const lost = proxy.inject({ action: { kind: 'lose-response' } });
    const reads = await inOneTurn(KEYS.map((key) => () => cache.get(key)));

    // THEN every GET of the turn is a miss (the outcome was unknown), none an error
    expect(lost.fired).toBe(1);
    expect(reads).toEqual(KEYS.map(() => undefined));
    // AND the next turn's GETs hit again on a new connection
    const again = await inOneTurn(KEYS.map((key) => () => cache.get(key)));
    expect(again).toEqual(KEYS.map((key) => `cached ${key}`));
  } finally {
    cache.close();
  }
});

describe('reading responses without copying each chunk', () => {
  /** A binary-protocol GET response: 4 bytes of flags, no key, the value. */
  function getResponse(opaque: number, value: string): Buffer {
    const body = Buffer.from(value, 'utf8');
    const response = Buffer.alloc(24 + 4 + body.length);
    response[0] = 0x81;
    response[4] = 4;
    response.writeUInt32BE(4 + body.length, 8);
    response.writeUInt32BE(opaque, 12);
    body.copy(response, 28);
    return response;
  }

  test('property: responses split across reads at any points, or several in one read, each reach their own caller whole', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 40 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (values, cuts) => {
          // GIVEN a server waiting for one response per value
          const server = new GuardedServer('127.0.0.1', 1, { timeout: 1 }, undefined);
          const received: string[] = [];
          values.forEach((_, index) =>
            server.onResponse(index + 1, (response) => {
              received.push(`${index + 1}:${response.val.toString('utf8')}`);
            }),
          );
          // WHEN their bytes arrive in reads cut at arbitrary points
          const stream = Buffer.concat(values.map((value, index) => getResponse(index + 1, value)));
          const points = [...new Set(cuts.map((cut) => cut % (stream.length + 1)))].sort(
            (a, b) => a - b,
          );
          let start = 0;
          for (const point of [...points, stream.length]) {
            // A fresh buffer per read, as a socket hands them out.
            server.responseHandler(Buffer.from(stream.subarray(start, point)));
            start = point;
          }
          // THEN each caller got its own value, in order, and nothing is left over
          expect(received).toEqual(values.map((value, index) => `${index + 1}:${value}`));
          expect(server.responseBuffer).toHaveLength(0);
        },
      ),
    );
  });
});
