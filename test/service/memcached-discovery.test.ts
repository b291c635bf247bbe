import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  fetchClusterConfig,
  parseClusterConfig,
  refreshDelayMs,
} from '../../service/src/cache/auto-discovery';
import { pickNode } from '../../service/src/cache/rendezvous';
import { loadConfig } from '../../service/src/config';
import { ItemCache } from '../../service/src/items/item-cache';
import { createService, type Service } from '../../service/src/service';
import {
  clusterConfigResponse,
  startConfigEndpoint,
  type ConfigEndpointServer,
  type DiscoveredNode,
} from '../support/config-endpoint';
import { createServiceTable, startDynalite, type DynaliteServer } from '../support/dynalite';
import { startMemcached, type MemcachedServer } from '../support/memcached';
import { createTestCertificate, type TestCertificate } from '../support/test-certificate';

import { api, eventually, LogCapture, putItem, TEST_IDENTITY, TEST_TUNING } from './harness';

/**
 * ElastiCache Auto Discovery against a local stand-in configuration endpoint in front of real
 * memcached nodes, everything over TLS (in-transit encryption). Nodes are listed by DNS name
 * (`localhost`) and IP, as ElastiCache lists them: the service dials the IP and verifies the
 * certificate against the name.
 */

let directory: string;
let certificate: TestCertificate;
let nodes: MemcachedServer[];
let dynalite: DynaliteServer;
let configEndpoint: ConfigEndpointServer;
let service: Service;
let baseUrl: string;

const listed = (node: MemcachedServer): DiscoveredNode => ({
  host: 'localhost',
  address: node.host,
  port: node.port,
});
const nameOf = (node: MemcachedServer) => `localhost:${node.port}`;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'memcached-discovery-'));
  certificate = await createTestCertificate(directory);
  nodes = await Promise.all([0, 1, 2].map(() => startMemcached({ tls: certificate })));
  dynalite = await startDynalite();
  await createServiceTable(dynalite.endpoint, 'items-discovery');
  configEndpoint = await startConfigEndpoint({
    nodes: [listed(nodes[0]), listed(nodes[1])],
    tls: certificate,
  });
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    MEMCACHED_CONFIG_ENDPOINT: configEndpoint.endpoint,
    MEMCACHED_TLS: 'true',
    MEMCACHED_DISCOVERY_INTERVAL_SECONDS: '1',
    TABLE_NAME: 'items-discovery',
    DYNAMODB_ENDPOINT: dynalite.endpoint,
    AWS_REGION: 'us-east-1',
    FAULTS_FILE: join(directory, 'faults.json'),
    FAULTS_POLL_SECONDS: '0.1',
    SHUTDOWN_DRAIN_SECONDS: '1',
    TRUST_PROXY_HOPS: '0',
    LOG_LEVEL: 'info',
  });
  service = await createService(config, {
    identity: TEST_IDENTITY,
    // A breaker that opens stays open for the test, so "kept across a refresh" is observable.
    tuning: {
      ...TEST_TUNING,
      cacheOperationTimeoutMs: 500,
      cacheHalfOpenAfterMs: 60_000,
      cacheTls: { ca: certificate.cert },
    },
    logStream: new LogCapture(),
  });
  baseUrl = await service.start();
});

afterAll(async () => {
  await service?.stop();
  await configEndpoint?.stop();
  await Promise.all((nodes ?? []).map((node) => node.stop()));
  await dynalite?.stop();
  await rm(directory, { recursive: true, force: true });
});

afterEach(() => configEndpoint.setMode('answer'));

const read = (id: string) => api(baseUrl, `/api/items/${id}`);
const ring = () => [...service.cache.nodeNames()].sort();
const breakerOf = (name: string) =>
  service.cache.breakerStates().find((state) => state.node === name)?.state;

/** An item id whose cache key the current ring puts on `node`. */
function idOwnedBy(node: MemcachedServer, prefix: string): string {
  for (let index = 0; index < 10_000; index += 1) {
    const id = `${prefix}-${index}`;
    if (service.cache.nodeFor(ItemCache.key(id)) === nameOf(node)) return id;
  }
  throw new Error(`no id maps to ${nameOf(node)}`);
}

/** PUT, then GET until a hit: the cache works for this item. */
async function cachedRead(id: string, price: number) {
  expect([200, 201]).toContain((await putItem(baseUrl, id, { name: id, price })).status);
  await read(id);
  return read(id);
}

test('refreshes are jittered ±20 % around the interval, so tasks started together spread out', () => {
  expect(refreshDelayMs(60_000, 0.2, () => 0)).toBe(48_000);
  expect(refreshDelayMs(60_000, 0.2, () => 0.5)).toBe(60_000);
  expect(refreshDelayMs(60_000, 0.2, () => 0.999_999)).toBeCloseTo(72_000, -1);
});

describe('parsing the configuration endpoint answer', () => {
  test('the documented format: version, then host|ip|port entries separated by spaces', () => {
    const answer = Buffer.from(
      clusterConfigResponse(12, [
        {
          host: 'mycluster.fnjyzo.0001.use1.cache.amazonaws.com',
          address: '10.82.235.120',
          port: 11211,
        },
        { host: 'mycluster.fnjyzo.0002.use1.cache.amazonaws.com', address: '', port: 11211 },
      ]),
    );

    expect(parseClusterConfig(answer)).toEqual({
      version: 12,
      nodes: [
        {
          host: 'mycluster.fnjyzo.0001.use1.cache.amazonaws.com',
          address: '10.82.235.120',
          port: 11211,
        },
        { host: 'mycluster.fnjyzo.0002.use1.cache.amazonaws.com', port: 11211 },
      ],
    });
  });

  test.each([
    ['an ERROR (not a configuration endpoint)', 'ERROR\r\n', /does not know 'config get cluster'/],
    ['a cut-short answer', 'CONFIG cluster 0 40\r\n1\nhost|10.0.0.1|11211\n', /cut short/],
    [
      'a node without a port',
      clusterConfigResponse(1, [{ host: 'a', address: '10.0.0.1', port: 0 }]),
      /not host\|ip\|port/,
    ],
    ['a bad IP', 'CONFIG cluster 0 19\r\n1\na|10.0.0.x|11211\n\r\nEND\r\n', /not host\|ip\|port/],
    [
      'no nodes',
      'CONFIG cluster 0 3\r\n1\n\n\r\nEND\r\n',
      /version line and a node line|lists no nodes/,
    ],
  ])('%s is refused with a message naming it', (_case, text, message) => {
    expect(() => parseClusterConfig(Buffer.from(text))).toThrow(message);
  });
});

test('at start the service reads the node list from the configuration endpoint over TLS, and the cache works', async () => {
  // GIVEN a configuration endpoint listing two nodes (the service started against it)
  // THEN the ring is those two nodes, each with a closed breaker
  expect(ring()).toEqual([nameOf(nodes[0]), nameOf(nodes[1])].sort());
  expect(service.discovery?.config?.version).toBe(configEndpoint.version);
  expect(breakerOf(nameOf(nodes[0]))).toBe('closed');

  // AND items on either node are cached and hit over TLS
  for (const node of [nodes[0], nodes[1]]) {
    const hit = await cachedRead(idOwnedBy(node, 'start'), 10);
    expect(hit.status).toBe(200);
    expect(hit.headers.get('x-cache')).toBe('HIT');
  }
  const ready = await api(baseUrl, '/health/ready');
  expect(ready.json()).toMatchObject({ cache: { nodes: 2, unavailable: 0 } });
});

test('the configuration endpoint down (refused or answering garbage) at refresh keeps the old list', async () => {
  // GIVEN the ring of two nodes
  const before = ring();
  const id = idOwnedBy(nodes[1], 'down');

  // WHEN the configuration endpoint refuses connections, then answers garbage, at refresh
  configEndpoint.setMode('refuse');
  expect(await service.discovery!.refresh()).toBe('failed');
  configEndpoint.setMode('garbage');
  expect(await service.discovery!.refresh()).toBe('failed');

  // THEN the node list in use is kept and the cache still works
  expect(ring()).toEqual(before);
  expect((await cachedRead(id, 11)).headers.get('x-cache')).toBe('HIT');

  // AND a direct fetch reports why
  configEndpoint.setMode('refuse');
  await expect(
    fetchClusterConfig(
      { host: configEndpoint.host, port: configEndpoint.port },
      { tls: { ca: certificate.cert }, timeoutMs: 2000 },
    ),
  ).rejects.toThrow(/cannot read the node list|closed the connection/);
});

test('a node replaced and the version bumped: the periodic refresh picks it up and keeps the surviving node breaker', async () => {
  // GIVEN node 0 dead, its breaker open
  await nodes[0].kill();
  const onDead = idOwnedBy(nodes[0], 'dead');
  await putItem(baseUrl, onDead, { name: 'x', price: 1 });
  const opened = await eventually(
    async () => (await read(onDead), breakerOf(nameOf(nodes[0]))),
    (state) => state === 'open',
  );
  expect(opened).toBe('open');

  // WHEN node 1 is replaced by node 2 and the version bumped (ElastiCache node replacement)
  configEndpoint.setNodes([listed(nodes[0]), listed(nodes[2])]);

  // THEN the periodic refresh (every ~1 s, jittered) applies the new list
  const next = await eventually(
    () => Promise.resolve(ring()),
    (names) => names.includes(nameOf(nodes[2])),
  );
  expect(next).toEqual([nameOf(nodes[0]), nameOf(nodes[2])].sort());
  expect(service.discovery?.config?.version).toBe(configEndpoint.version);

  // AND the surviving node keeps its breaker (still open, not a fresh closed one)
  expect(breakerOf(nameOf(nodes[0]))).toBe('open');

  // AND the new node caches and serves hits over TLS
  const hit = await cachedRead(idOwnedBy(nodes[2], 'new'), 12);
  expect(hit.headers.get('x-cache')).toBe('HIT');

  await nodes[0].restart();
});

test('a node that rejoins the ring still holding an old version is flushed before it serves the key', async () => {
  // GIVEN ring {node 2, node 1} and an item cached on node 1 at version 1
  configEndpoint.setNodes([listed(nodes[2]), listed(nodes[1])]);
  expect(await service.discovery!.refresh()).toBe('changed');
  const id = idOwnedBy(nodes[1], 'rejoin');
  const cached = await cachedRead(id, 20);
  expect(cached.headers.get('x-cache')).toBe('HIT');
  const version1 = cached.json<{ version: number }>().version;

  // WHEN node 1 leaves the ring, the item is updated (node 1 is not invalidated), node 1 rejoins
  configEndpoint.setNodes([listed(nodes[2])]);
  expect(await service.discovery!.refresh()).toBe('changed');
  expect((await putItem(baseUrl, id, { name: id, price: 21 })).status).toBe(200);
  await read(id);
  configEndpoint.setNodes([listed(nodes[2]), listed(nodes[1])]);
  expect(await service.discovery!.refresh()).toBe('changed');

  // THEN the read after it rejoined returns the new version, never the one node 1 still held
  const after = await read(id);
  expect(after.json<{ version: number; price: number }>()).toMatchObject({
    version: version1 + 1,
    price: 21,
  });
  // AND the cache works on node 1 again
  const hit = await eventually(
    () => read(id),
    (response) => response.headers.get('x-cache') === 'HIT',
  );
  expect(hit.json<{ version: number }>().version).toBe(version1 + 1);
});

test('a node that leaves within one TTL of joining: its keys go back to a node that held them, which the writes in between also invalidated', async () => {
  // GIVEN ring {node 2} and an item cached on node 2 at version 1
  configEndpoint.setNodes([listed(nodes[2])]);
  expect(await service.discovery!.refresh()).toBe('changed');
  let id = '';
  for (let index = 0; id === ''; index += 1) {
    const candidate = `leave-${index}`;
    // an id that moves to node 1 when node 1 joins
    const owner = pickNode([nameOf(nodes[2]), nameOf(nodes[1])], ItemCache.key(candidate));
    if (owner === nameOf(nodes[1])) id = candidate;
  }
  const cached = await cachedRead(id, 30);
  expect(cached.headers.get('x-cache')).toBe('HIT');
  const version1 = cached.json<{ version: number }>().version;

  // WHEN node 1 joins (the item moves to it), the item is updated, and node 1 leaves again
  configEndpoint.setNodes([listed(nodes[2]), listed(nodes[1])]);
  expect(await service.discovery!.refresh()).toBe('changed');
  expect(service.cache.nodeFor(ItemCache.key(id))).toBe(nameOf(nodes[1]));
  expect((await putItem(baseUrl, id, { name: id, price: 31 })).status).toBe(200);
  configEndpoint.setNodes([listed(nodes[2])]);
  expect(await service.discovery!.refresh()).toBe('changed');

  // THEN the read on node 2 returns the new version, not the one node 2 held from before
  const after = await read(id);
  expect(after.json<{ version: number; price: number }>()).toMatchObject({
    version: version1 + 1,
    price: 31,
  });
});

test('the configuration endpoint down at start: the service starts, serves from DynamoDB, and caches once discovery succeeds', async () => {
  // GIVEN a second task starting while the configuration endpoint refuses connections
  configEndpoint.setNodes([listed(nodes[1])]);
  configEndpoint.setMode('refuse');
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    MEMCACHED_CONFIG_ENDPOINT: configEndpoint.endpoint,
    MEMCACHED_TLS: 'true',
    MEMCACHED_DISCOVERY_INTERVAL_SECONDS: '3600',
    TABLE_NAME: 'items-discovery',
    DYNAMODB_ENDPOINT: dynalite.endpoint,
    AWS_REGION: 'us-east-1',
    FAULTS_FILE: join(directory, 'faults.json'),
    SHUTDOWN_DRAIN_SECONDS: '1',
    TRUST_PROXY_HOPS: '0',
  });
  const second = await createService(config, {
    identity: { ...TEST_IDENTITY, taskId: 'second-task' },
    tuning: { ...TEST_TUNING, cacheTls: { ca: certificate.cert } },
    logStream: new LogCapture(),
  });
  try {
    const url = await second.start();
    await putItem(url, 'late', { name: 'Late', price: 5 });

    // THEN it has no nodes, and reads are misses answered from DynamoDB
    expect(second.cache.nodeNames()).toEqual([]);
    const miss = await api(url, '/api/items/late');
    expect(miss.status).toBe(200);
    expect(miss.headers.get('x-cache')).toBe('MISS');

    // WHEN the configuration endpoint answers again and the next refresh runs
    configEndpoint.setMode('answer');
    expect(await second.discovery!.refresh()).toBe('changed');

    // THEN the node is in use and reads are cached
    expect(second.cache.nodeNames()).toEqual([nameOf(nodes[1])]);
    await api(url, '/api/items/late');
    expect((await api(url, '/api/items/late')).headers.get('x-cache')).toBe('HIT');
  } finally {
    await second.stop();
  }
});
