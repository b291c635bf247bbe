/**
 * Benchmarks the catalog service as the image runs it (the service/bundle.sh bundle in its own
 * process) with autocannon, on one machine, in one run:
 *   1. a bare Node `http` server returning the same payload as a cache hit (the ceiling);
 *   2. cache-hit GETs of one item (memcached answers; DynamoDB is not called);
 *   3. cache-miss GETs, every request a different item (memcached misses, DynamoDB GetItem on
 *      dynalite, then the cache fill);
 *   4. GETs over 100 items with one of the two memcached nodes dead (its breaker open: its keys
 *      miss and are read from DynamoDB, the other node's keys hit).
 * memcached's own get_hits/get_misses counters are read around each run to show each scenario is
 * what its name says. Writes bench/service-results.json.
 *
 *   npm run bench:service            # 3 runs of 5 s per scenario
 *   npx tsx bench/service.ts 5 10    # 5 runs of 10 s
 *
 * dynalite is LevelDB in a Node process, far slower than DynamoDB: cache-miss numbers show the
 * cost of the miss path on this machine, not DynamoDB's latency.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';

import { Client } from 'memjs';
import { format } from 'prettier';

import { AwsCaller, createDynamoDbClient, DEFAULT_AWS_TIMEOUTS } from '../service/src/aws/clients';
import { ItemsStore } from '../service/src/items/items-store';
import { DependencyMetrics } from '../service/src/metrics/emf';
import {
  createServiceTable,
  startDynaliteProcess,
  type DynaliteServer,
} from '../test/support/dynalite';
import { freePort, startMemcached, type MemcachedServer } from '../test/support/memcached';

const RUNS = Number(process.argv[2] ?? 3);
const DURATION_SECONDS = Number(process.argv[3] ?? 5);
const CONNECTIONS = 10;
const MISS_REQUESTS_PER_RUN = 2000;
const DEAD_NODE_ITEMS = 100;
const TABLE = 'bench-items';
const ROOT = path.resolve(__dirname, '..');

interface AutocannonHistogram {
  readonly average: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}
interface AutocannonResult {
  readonly requests: AutocannonHistogram & { readonly total: number };
  readonly latency: AutocannonHistogram;
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  readonly mismatches: number;
}
interface AutocannonOptions {
  readonly url: string;
  readonly connections: number;
  readonly duration?: number;
  readonly amount?: number;
  readonly expectBody?: string;
  readonly requests?: ReadonlyArray<{
    readonly method: string;
    readonly setupRequest?: (request: { path: string }) => { path: string };
  }>;
}
/** An autocannon run: awaitable for its result, and an emitter of each response. */
type AutocannonInstance = Promise<AutocannonResult> & {
  on(event: 'response', listener: () => void): void;
};
// autocannon ships no type definitions; this is the part used.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (options: AutocannonOptions) => AutocannonInstance;

interface Stats {
  readonly min: number;
  readonly median: number;
  readonly max: number;
}

function stats(values: number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  const round = (value: number) => Math.round(value * 10) / 10;
  return { min: round(sorted[0]), median: round(median), max: round(sorted.at(-1)!) };
}

interface Run {
  readonly requestsPerSecond: number;
  readonly requests: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly bodyMismatches: number;
  readonly memcachedHits: number;
  readonly memcachedMisses: number;
}

interface Scenario {
  readonly name: string;
  readonly what: string;
  readonly runs: Run[];
  readonly requestsPerSecond: Stats;
  readonly p99Ms: Stats;
  readonly p50Ms: Stats;
}

/** get_hits and get_misses summed over the nodes that answer. */
async function memcachedCounters(
  nodes: MemcachedServer[],
): Promise<{ hits: number; misses: number }> {
  let hits = 0;
  let misses = 0;
  for (const node of nodes) {
    const client = Client.create(node.endpoint, { logger: { log: () => undefined }, retries: 1 });
    const nodeStats = await new Promise<Record<string, string> | undefined>((resolve) => {
      client.stats((error, _server, values) => resolve(error ? undefined : (values ?? undefined)));
    });
    client.close();
    hits += Number(nodeStats?.get_hits ?? 0);
    misses += Number(nodeStats?.get_misses ?? 0);
  }
  return { hits, misses };
}

async function measure(options: AutocannonOptions, nodes: MemcachedServer[]): Promise<Run> {
  const before = await memcachedCounters(nodes);
  const startedMs = performance.now();
  let lastResponseMs = startedMs;
  const instance = autocannon(options);
  instance.on('response', () => {
    lastResponseMs = performance.now();
  });
  const result = await instance;
  const elapsedSeconds = (lastResponseMs - startedMs) / 1000;
  const after = await memcachedCounters(nodes);
  return {
    // From the start to the last response: autocannon's own duration moves in whole seconds.
    requestsPerSecond: Math.round(result.requests.total / elapsedSeconds),
    requests: result.requests.total,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    non2xx: result.non2xx,
    errors: result.errors,
    bodyMismatches: result.mismatches,
    memcachedHits: after.hits - before.hits,
    memcachedMisses: after.misses - before.misses,
  };
}

function summarize(name: string, what: string, runs: Run[]): Scenario {
  return {
    name,
    what,
    runs,
    requestsPerSecond: stats(runs.map((run) => run.requestsPerSecond)),
    p50Ms: stats(runs.map((run) => run.p50Ms)),
    p99Ms: stats(runs.map((run) => run.p99Ms)),
  };
}

function print(scenario: Scenario): void {
  const r = scenario.requestsPerSecond;
  const p = scenario.p99Ms;
  process.stdout.write(
    `${scenario.name.padEnd(22)} ${String(r.median).padStart(8)} req/s (min ${r.min}, max ${r.max})` +
      `   p99 ${p.median} ms (min ${p.min}, max ${p.max})   ${scenario.runs.length} runs\n`,
  );
  for (const run of scenario.runs) {
    if (run.non2xx > 0 || run.errors > 0 || run.bodyMismatches > 0) {
      process.stdout.write(
        `  ! a run had ${run.non2xx} non-2xx, ${run.errors} errors, ${run.bodyMismatches} wrong bodies\n`,
      );
    }
  }
}

async function waitForHttp(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`${url}: the process exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not answer within 15 s`);
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** The bare server: the cache-hit payload and its content headers, nothing else. */
const BARE_SERVER = `
const http = require('node:http');
const body = Buffer.from(process.env.BODY);
const headers = { 'content-type': 'application/json; charset=utf-8', etag: process.env.ETAG, 'content-length': body.length };
http.createServer((req, res) => { res.writeHead(200, headers); res.end(body); })
  .listen(Number(process.env.PORT), '127.0.0.1');
`;

async function main(): Promise<void> {
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  const started = Date.now();
  // Other work on the machine skews every number; the results say how busy it was.
  const loadAtStart = loadavg().map((load) => Math.round(load * 100) / 100);
  const directory = mkdtempSync(path.join(tmpdir(), 'service-bench-'));
  const children: ChildProcess[] = [];
  let memcached: MemcachedServer[] = [];
  let dynalite: DynaliteServer | undefined;
  try {
    execFileSync('sh', ['service/bundle.sh', path.join(directory, 'dist')], { cwd: ROOT });
    memcached = await Promise.all([startMemcached(), startMemcached()]);
    dynalite = await startDynaliteProcess();
    await createServiceTable(dynalite.endpoint, TABLE);

    // Seed: one hot item, the dead-node items, and a fresh item for every cache-miss request.
    const metrics = new DependencyMetrics(
      { namespace: 'Bench', region: 'local' },
      { info: () => undefined },
    );
    const log = { warn: () => undefined };
    const client = createDynamoDbClient('local', DEFAULT_AWS_TIMEOUTS, dynalite.endpoint);
    const store = new ItemsStore(
      client,
      TABLE,
      new AwsCaller('dynamodb', DEFAULT_AWS_TIMEOUTS, metrics, log),
    );
    const ids = [
      'bench-item',
      ...Array.from({ length: DEAD_NODE_ITEMS }, (_, index) => `spread-${index}`),
      ...Array.from({ length: RUNS * MISS_REQUESTS_PER_RUN }, (_, index) => `miss-${index}`),
    ];
    for (let start = 0; start < ids.length; start += 32) {
      await Promise.all(
        ids
          .slice(start, start + 32)
          .map((id) =>
            store.put(id, { name: `Item ${id}`, price: 19.9, tags: ['bench', 'catalog'] }),
          ),
      );
    }
    client.destroy();

    const servicePort = await freePort();
    const service = spawn(process.execPath, [path.join(directory, 'dist', 'main.js')], {
      env: {
        ...process.env,
        PORT: String(servicePort),
        HOST: '127.0.0.1',
        MEMCACHED_ENDPOINTS: memcached.map((node) => node.endpoint).join(','),
        TABLE_NAME: TABLE,
        DYNAMODB_ENDPOINT: dynalite.endpoint,
        AWS_REGION: 'local',
        FAULTS_FILE: path.join(directory, 'no-faults.json'),
        TASK_ID: 'bench',
        TRUST_PROXY_HOPS: '0',
        RATE_LIMIT_PER_MINUTE: '100000000',
        LOG_LEVEL: 'info',
      },
      // The per-request log line (and its EMF metrics) is written as in production, to /dev/null.
      stdio: 'ignore',
    });
    children.push(service);
    const serviceUrl = `http://127.0.0.1:${servicePort}`;
    await waitForHttp(`${serviceUrl}/health/ready`, service);

    // The payload of a cache hit, for the bare server and to check every response body.
    await fetch(`${serviceUrl}/api/items/bench-item`);
    const hit = await fetch(`${serviceUrl}/api/items/bench-item`);
    if (hit.headers.get('x-cache') !== 'HIT') throw new Error('bench-item is not cached');
    const body = await hit.text();

    const barePort = await freePort();
    const bare = spawn(process.execPath, ['-e', BARE_SERVER], {
      env: {
        PATH: process.env.PATH,
        PORT: String(barePort),
        BODY: body,
        ETAG: hit.headers.get('etag') ?? '',
      },
      stdio: 'ignore',
    });
    children.push(bare);
    const bareUrl = `http://127.0.0.1:${barePort}/`;
    await waitForHttp(bareUrl, bare);

    const scenarios: Scenario[] = [];
    const timed = (url: string, extra: Partial<AutocannonOptions> = {}): AutocannonOptions => ({
      url,
      connections: CONNECTIONS,
      duration: DURATION_SECONDS,
      ...extra,
    });
    const runAll = async (make: (run: number) => AutocannonOptions, nodes: MemcachedServer[]) => {
      await autocannon({ ...make(-1), duration: 1, amount: undefined }); // warm-up, not recorded
      const runs: Run[] = [];
      for (let run = 0; run < RUNS; run += 1) runs.push(await measure(make(run), nodes));
      return runs;
    };

    const bareRuns = await runAll(() => timed(bareUrl, { expectBody: body }), memcached);
    scenarios.push(
      summarize('bare-node-http', 'node:http server returning the cache-hit payload', bareRuns),
    );
    print(scenarios.at(-1)!);

    const hitRuns = await runAll(
      () => timed(`${serviceUrl}/api/items/bench-item`, { expectBody: body }),
      memcached,
    );
    scenarios.push(
      summarize('service-cache-hit', 'GET /api/items/bench-item, answered from memcached', hitRuns),
    );
    print(scenarios.at(-1)!);

    // Each cache-miss run reads its own never-read items, so every request misses.
    let nextMiss = 0;
    const missRuns: Run[] = [];
    for (let run = 0; run < RUNS; run += 1) {
      missRuns.push(
        await measure(
          {
            url: serviceUrl,
            connections: CONNECTIONS,
            amount: MISS_REQUESTS_PER_RUN,
            requests: [
              {
                method: 'GET',
                setupRequest: (request) => ({ ...request, path: `/api/items/miss-${nextMiss++}` }),
              },
            ],
          },
          memcached,
        ),
      );
    }
    scenarios.push(
      summarize(
        'service-cache-miss',
        `GET of a different item each request (${MISS_REQUESTS_PER_RUN} per run): memcached miss, DynamoDB (dynalite) GetItem, cache fill`,
        missRuns,
      ),
    );
    print(scenarios.at(-1)!);

    // One node dead: fill the cache for the spread items, then kill one node.
    for (let index = 0; index < DEAD_NODE_ITEMS; index += 1)
      await fetch(`${serviceUrl}/api/items/spread-${index}`);
    await memcached[1].kill();
    let nextSpread = 0;
    const deadRuns = await runAll(
      () =>
        timed(serviceUrl, {
          requests: [
            {
              method: 'GET',
              setupRequest: (request) => ({
                ...request,
                path: `/api/items/spread-${nextSpread++ % DEAD_NODE_ITEMS}`,
              }),
            },
          ],
        }),
      [memcached[0]],
    );
    scenarios.push(
      summarize(
        'service-one-node-dead',
        `GET over ${DEAD_NODE_ITEMS} items with 1 of 2 memcached nodes killed (its keys read from DynamoDB)`,
        deadRuns,
      ),
    );
    print(scenarios.at(-1)!);

    const bareP99 = scenarios[0].p99Ms.median;
    const results = {
      generatedAt: new Date().toISOString(),
      what:
        'autocannon, ' +
        `${CONNECTIONS} connections, ${DURATION_SECONDS} s per timed run after a 1 s warm-up, ${RUNS} runs per scenario. ` +
        'requestsPerSecond: completed requests / run duration. p50Ms/p99Ms/maxMs: response latency in milliseconds (autocannon records whole milliseconds). ' +
        'memcachedHits/Misses: change in memcached get_hits/get_misses during the run (live nodes only). ' +
        'The service is the production bundle in its own process, logging one JSON line with EMF metrics per request (to /dev/null). ' +
        "dynalite is far slower than DynamoDB, so cache-miss numbers are this machine's miss-path cost, not DynamoDB's.",
      node: process.version,
      machine: `${cpus().length} x ${cpus()[0]?.model.trim() ?? 'unknown CPU'}`,
      loadAverage1m5m15mAtStart: loadAtStart,
      payloadBytes: Buffer.byteLength(body),
      scenarios,
      comparisons: {
        cacheHitThroughputVsBareHttp:
          Math.round(
            (scenarios[1].requestsPerSecond.median / scenarios[0].requestsPerSecond.median) * 1000,
          ) / 1000,
        cacheHitP99MsMinusBareHttp: Math.round((scenarios[1].p99Ms.median - bareP99) * 10) / 10,
        cacheMissThroughputVsCacheHit:
          Math.round(
            (scenarios[2].requestsPerSecond.median / scenarios[1].requestsPerSecond.median) * 1000,
          ) / 1000,
      },
      totalSeconds: Math.round((Date.now() - started) / 1000),
    };
    // Formatted as the repository's Prettier would, so `npm run lint` accepts the committed file.
    writeFileSync(
      path.join(ROOT, 'bench', 'service-results.json'),
      await format(JSON.stringify(results), { parser: 'json' }),
    );
    process.stdout.write(
      `\ncache hit: ${results.comparisons.cacheHitThroughputVsBareHttp}x the bare server's throughput, p99 +${results.comparisons.cacheHitP99MsMinusBareHttp} ms; ` +
        `cache miss: ${results.comparisons.cacheMissThroughputVsCacheHit}x the cache-hit throughput. ` +
        `Wrote bench/service-results.json (${results.totalSeconds} s).\n`,
    );
  } finally {
    await Promise.all(children.map(stop));
    await Promise.all(memcached.map((node) => node.stop()));
    await dynalite?.stop();
    rmSync(directory, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench:service failed: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
