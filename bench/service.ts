/**
 * Benchmarks the catalog service as the image runs it (the service/bundle.sh bundle in its own
 * process) with autocannon, on one machine, in one run:
 *   1. a bare Node `http` server returning the same payload as a cache hit (the ceiling);
 *   2. cache-hit GETs of one item (memcached answers; DynamoDB is not called);
 *   3. cache-miss GETs, every request a different item (memcached misses, DynamoDB GetItem on
 *      dynalite, then the cache fill);
 *   4. GETs over 100 items with one of the two memcached nodes dead (its breaker open: its keys
 *      miss and are read from DynamoDB, the other node's keys hit).
 * Scenarios 1-3 are taken in turn, round by round (the first one rotating), so each comparison is
 * a ratio of runs taken side by side. Scenario 4 comes last: a killed node cannot be revived
 * mid-run without an empty cache. memcached's own get_hits/get_misses counters are read around
 * each run to show each scenario is what its name says.
 *
 *   npm run bench:service            # 3 rounds of 5 s per scenario -> bench/service-results.json
 *   npx tsx bench/service.ts 5 10    # 5 rounds of 10 s
 * `npm run bench` calls runServiceBench() and keeps the result in bench/results.json instead.
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

import { onInterrupt, stopEverythingOnSignals } from './processes';
import {
  interleavedOrder,
  pairedDifferences,
  pairedRatios,
  pairedReductionPercent,
  summarize,
  type Summary,
} from './stats';

const CONNECTIONS = 10;
const DEAD_NODE_ITEMS = 100;
const TABLE = 'bench-items';
const ROOT = path.resolve(__dirname, '..');

export interface ServiceBenchOptions {
  /** Timed runs (rounds) per scenario. */
  readonly runs: number;
  /** Seconds per timed run of the duration-bound scenarios. */
  readonly durationSeconds: number;
  /** Requests per cache-miss run (each a never-read item). */
  readonly missRequestsPerRun: number;
  readonly log: (line: string) => void;
}

export const SERVICE_BENCH_DEFAULTS = { runs: 3, durationSeconds: 5, missRequestsPerRun: 2000 };

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

export interface ServiceRun {
  readonly requestsPerSecond: number;
  readonly requests: number;
  /** Mean response latency (autocannon keeps fractions here, unlike its percentiles). */
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly bodyMismatches: number;
  readonly memcachedHits: number;
  readonly memcachedMisses: number;
}

export interface ServiceScenario {
  readonly name: string;
  readonly what: string;
  readonly runs: ServiceRun[];
  readonly requestsPerSecond: Summary;
  readonly meanMs: Summary;
  readonly p50Ms: Summary;
  readonly p99Ms: Summary;
}

export interface ServiceResults {
  readonly generatedAt: string;
  readonly what: string;
  readonly node: string;
  readonly machine: string;
  readonly loadAverage1m5m15mAtStart: number[];
  readonly payloadBytes: number;
  readonly connections: number;
  readonly durationSeconds: number;
  readonly scenarios: ServiceScenario[];
  readonly comparisons: {
    /** cache-hit req/s ÷ bare req/s, per round. */
    readonly cacheHitThroughputVsBareHttp: Summary;
    /** cache-hit p99 − bare p99, per round (ms). */
    readonly cacheHitP99MsMinusBareHttp: Summary;
    /** How much less time a cache hit takes than a miss (mean latency), per round (%). */
    readonly cacheHitFasterThanMissPercent: Summary;
    /** cache-hit req/s ÷ cache-miss req/s, per round. */
    readonly cacheHitThroughputVsMiss: Summary;
    /** one-node-dead req/s ÷ cache-hit req/s, medians (not taken in turn; see the header). */
    readonly oneNodeDeadThroughputVsCacheHit: number;
  };
  readonly totalSeconds: number;
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

async function measure(options: AutocannonOptions, nodes: MemcachedServer[]): Promise<ServiceRun> {
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
    meanMs: Math.round(result.latency.average * 1000) / 1000,
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

function summarizeScenario(name: string, what: string, runs: ServiceRun[]): ServiceScenario {
  return {
    name,
    what,
    runs,
    requestsPerSecond: summarize(
      runs.map((run) => run.requestsPerSecond),
      'req/s',
      0,
    ),
    meanMs: summarize(
      runs.map((run) => run.meanMs),
      'ms',
      3,
    ),
    p50Ms: summarize(
      runs.map((run) => run.p50Ms),
      'ms',
    ),
    p99Ms: summarize(
      runs.map((run) => run.p99Ms),
      'ms',
    ),
  };
}

function describeScenario(scenario: ServiceScenario): string {
  const r = scenario.requestsPerSecond;
  const p = scenario.p99Ms;
  const lines = [
    `${scenario.name.padEnd(22)} ${String(r.median).padStart(8)} req/s (min ${r.min}, max ${r.max})` +
      `   p99 ${p.median} ms (min ${p.min}, max ${p.max})   ${scenario.runs.length} runs`,
  ];
  for (const run of scenario.runs) {
    if (run.non2xx > 0 || run.errors > 0 || run.bodyMismatches > 0) {
      lines.push(
        `  ! a run had ${run.non2xx} non-2xx, ${run.errors} errors, ${run.bodyMismatches} wrong bodies`,
      );
    }
  }
  return lines.join('\n');
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

type Scenario = 'bare' | 'hit' | 'miss';

/** Runs the four scenarios and returns their results; starts and stops everything it needs. */
export async function runServiceBench(options: ServiceBenchOptions): Promise<ServiceResults> {
  const { runs, durationSeconds, missRequestsPerRun, log } = options;
  for (const [name, value] of Object.entries({ runs, durationSeconds, missRequestsPerRun })) {
    if (!Number.isInteger(value) || value < 1) {
      throw new Error(`service bench: ${name} must be a whole number of at least 1, got ${value}`);
    }
  }
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
  const killChildren = () => children.forEach((child) => child.kill('SIGKILL'));
  process.once('exit', killChildren);
  const cleanup = async () => {
    await Promise.all(children.map(stop));
    await Promise.all(memcached.map((node) => node.stop()));
    await dynalite?.stop();
    rmSync(directory, { recursive: true, force: true });
  };
  const removeCleanup = onInterrupt(cleanup);
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
    const client = createDynamoDbClient('local', DEFAULT_AWS_TIMEOUTS, dynalite.endpoint);
    const store = new ItemsStore(
      { reads: client, writes: client },
      TABLE,
      new AwsCaller('dynamodb', DEFAULT_AWS_TIMEOUTS, metrics, { warn: () => undefined }),
    );
    const ids = [
      'bench-item',
      ...Array.from({ length: DEAD_NODE_ITEMS }, (_, index) => `spread-${index}`),
      ...Array.from({ length: runs * missRequestsPerRun }, (_, index) => `miss-${index}`),
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

    const timed = (url: string, extra: Partial<AutocannonOptions> = {}): AutocannonOptions => ({
      url,
      connections: CONNECTIONS,
      duration: durationSeconds,
      ...extra,
    });
    // Each cache-miss run reads its own never-read items, so every request misses.
    let nextMiss = 0;
    const make: Record<Scenario, () => AutocannonOptions> = {
      bare: () => timed(bareUrl, { expectBody: body }),
      hit: () => timed(`${serviceUrl}/api/items/bench-item`, { expectBody: body }),
      miss: () => ({
        url: serviceUrl,
        connections: CONNECTIONS,
        amount: missRequestsPerRun,
        requests: [
          {
            method: 'GET',
            setupRequest: (request) => ({ ...request, path: `/api/items/miss-${nextMiss++}` }),
          },
        ],
      }),
    };
    // Warm-ups, not recorded (the miss path warms up in its first round).
    await autocannon({ ...make.bare(), duration: 1 });
    await autocannon({ ...make.hit(), duration: 1 });
    const taken: Record<Scenario, ServiceRun[]> = { bare: [], hit: [], miss: [] };
    for (const [round, order] of interleavedOrder<Scenario>(
      ['bare', 'hit', 'miss'],
      runs,
    ).entries()) {
      for (const scenario of order)
        taken[scenario].push(await measure(make[scenario](), memcached));
      log(`  service round ${round + 1}/${runs} done`);
    }
    const scenarios: ServiceScenario[] = [
      summarizeScenario(
        'bare-node-http',
        'node:http server returning the cache-hit payload',
        taken.bare,
      ),
      summarizeScenario(
        'service-cache-hit',
        'GET /api/items/bench-item, answered from memcached',
        taken.hit,
      ),
      summarizeScenario(
        'service-cache-miss',
        `GET of a different item each request (${missRequestsPerRun} per run): memcached miss, DynamoDB (dynalite) GetItem, cache fill`,
        taken.miss,
      ),
    ];

    // One node dead: fill the cache for the spread items, then kill one node.
    for (let index = 0; index < DEAD_NODE_ITEMS; index += 1)
      await fetch(`${serviceUrl}/api/items/spread-${index}`);
    await memcached[1].kill();
    let nextSpread = 0;
    const spread = () =>
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
      });
    await autocannon({ ...spread(), duration: 1 }); // warm-up: the breaker opens here
    const deadRuns: ServiceRun[] = [];
    for (let run = 0; run < runs; run += 1) deadRuns.push(await measure(spread(), [memcached[0]]));
    scenarios.push(
      summarizeScenario(
        'service-one-node-dead',
        `GET over ${DEAD_NODE_ITEMS} items with 1 of 2 memcached nodes killed (its keys read from DynamoDB)`,
        deadRuns,
      ),
    );
    scenarios.forEach((scenario) => log(describeScenario(scenario)));

    const rps = (runsOf: ServiceRun[]) => runsOf.map((run) => run.requestsPerSecond);
    return {
      generatedAt: new Date().toISOString(),
      what:
        `autocannon, ${CONNECTIONS} connections, ${durationSeconds} s per timed run after a 1 s warm-up ` +
        `(cache-miss runs: ${missRequestsPerRun} requests each), ${runs} runs per scenario; bare, hit and miss taken in turn, round by round. ` +
        'requestsPerSecond: completed requests / run duration. meanMs: mean response latency; p50Ms/p99Ms/maxMs: percentiles in whole milliseconds (autocannon rounds them). ' +
        'memcachedHits/Misses: change in memcached get_hits/get_misses during the run (live nodes only). ' +
        'The service is the production bundle in its own process, logging one JSON line with EMF metrics per request (to /dev/null). ' +
        "dynalite is far slower than DynamoDB, so cache-miss numbers are this machine's miss-path cost, not DynamoDB's.",
      node: process.version,
      machine: `${cpus().length} x ${cpus()[0]?.model.trim() ?? 'unknown CPU'}`,
      loadAverage1m5m15mAtStart: loadAtStart,
      payloadBytes: Buffer.byteLength(body),
      connections: CONNECTIONS,
      durationSeconds,
      scenarios,
      comparisons: {
        cacheHitThroughputVsBareHttp: pairedRatios(rps(taken.hit), rps(taken.bare)),
        cacheHitP99MsMinusBareHttp: pairedDifferences(
          taken.hit.map((run) => run.p99Ms),
          taken.bare.map((run) => run.p99Ms),
          'ms',
        ),
        cacheHitFasterThanMissPercent: pairedReductionPercent(
          taken.hit.map((run) => run.meanMs),
          taken.miss.map((run) => run.meanMs),
        ),
        cacheHitThroughputVsMiss: pairedRatios(rps(taken.hit), rps(taken.miss)),
        oneNodeDeadThroughputVsCacheHit:
          Math.round(
            (scenarios[3].requestsPerSecond.median / scenarios[1].requestsPerSecond.median) * 1000,
          ) / 1000,
      },
      totalSeconds: Math.round((Date.now() - started) / 1000),
    };
  } finally {
    removeCleanup();
    await cleanup();
    process.removeListener('exit', killChildren);
  }
}

function wholeArgument(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) {
    throw new Error(`${name} must be a whole number of at least 1, got ${JSON.stringify(value)}`);
  }
  return number;
}

async function main(): Promise<void> {
  const usage = 'usage: npm run bench:service [-- <runs> [<seconds per run>]]';
  let options: ServiceBenchOptions;
  try {
    options = {
      ...SERVICE_BENCH_DEFAULTS,
      runs: wholeArgument(process.argv[2], 'runs', SERVICE_BENCH_DEFAULTS.runs),
      durationSeconds: wholeArgument(
        process.argv[3],
        'seconds per run',
        SERVICE_BENCH_DEFAULTS.durationSeconds,
      ),
      log: (line) => process.stdout.write(`${line}\n`),
    };
  } catch (error) {
    process.stderr.write(`bench:service: ${(error as Error).message}\n${usage}\n`);
    process.exit(2);
  }
  stopEverythingOnSignals();
  const results = await runServiceBench(options);
  // Formatted as the repository's Prettier would, so `npm run lint` accepts the committed file.
  writeFileSync(
    path.join(ROOT, 'bench', 'service-results.json'),
    await format(JSON.stringify(results), { parser: 'json' }),
  );
  const c = results.comparisons;
  process.stdout.write(
    `\ncache hit: ${c.cacheHitThroughputVsBareHttp.median}x the bare server's throughput, p99 +${c.cacheHitP99MsMinusBareHttp.median} ms; ` +
      `${c.cacheHitFasterThanMissPercent.median} % less time than a cache miss. ` +
      `Wrote bench/service-results.json (${results.totalSeconds} s).\n`,
  );
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(
      `bench:service failed: ${error instanceof Error ? error.stack : String(error)}\n`,
    );
    process.exit(1);
  });
}
