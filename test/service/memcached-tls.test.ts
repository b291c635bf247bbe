import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { MemcachedCache } from '../../service/src/cache/memcached-cache';
import { DependencyMetrics } from '../../service/src/metrics/emf';
import { startMemcached, type MemcachedServer } from '../support/memcached';
import { createTestCertificate } from '../support/test-certificate';

/**
 * ElastiCache in-transit encryption, as far as it can be tested here: a real memcached serving
 * TLS only (memcached -Z) with a throwaway certificate for 127.0.0.1.
 */

let directory: string;
let server: MemcachedServer;
let ca: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'memcached-tls-'));
  const { certFile, keyFile, cert } = await createTestCertificate(directory);
  ca = cert;
  server = await startMemcached({ tls: { certFile, keyFile } });
});

afterAll(async () => {
  await server?.stop();
  await rm(directory, { recursive: true, force: true });
});

const log = { info: () => undefined, warn: () => undefined, debug: () => undefined };

function cacheWith(tls: { ca?: string } | undefined) {
  const metrics = new DependencyMetrics({ namespace: 'Test', region: 'local' }, log);
  return new MemcachedCache(
    { endpoints: [{ host: server.host, port: server.port }], operationTimeoutMs: 500, tls },
    metrics,
    log,
  );
}

test('over TLS the cache stores, reads and deletes', async () => {
  const cache = cacheWith({ ca });

  expect(await cache.set('greeting', 'hello over tls', 60)).toBe(true);
  expect(await cache.get('greeting')).toBe('hello over tls');
  expect(await cache.delete('greeting')).toBe(true);
  expect(await cache.get('greeting')).toBeUndefined();
  cache.close();
});

test('the server certificate is verified: an untrusted one is a miss, not a connection', async () => {
  const cache = cacheWith({});

  expect(await cache.set('greeting', 'hello', 60)).toBe(false);
  expect(await cache.get('greeting')).toBeUndefined();
  cache.close();
});

test('a plain-TCP client against the TLS port gets misses, never an error', async () => {
  const cache = cacheWith(undefined);

  expect(await cache.set('greeting', 'hello', 60)).toBe(false);
  expect(await cache.get('greeting')).toBeUndefined();
  cache.close();
});
