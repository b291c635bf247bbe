/**
 * Benchmarks the catalog service as the image runs it (the service/bundle.sh bundle in its own
 * process) with autocannon, on one machine, in one run:
 *   1. a bare Node `http` server returning the same payload as a cache hit (the ceiling for any
 *      Node server);
 *   2. the fair limit for a cache hit: a `node:http` server that does one memjs GET of the cached
 *      entry on the same memcached node and sends its body, nothing else;
 *   3. cache-hit GETs of one item (memcached answers; DynamoDB is not called);
 *   4. cache-miss GETs, every request a different item (memcached misses, DynamoDB GetItem on
 *      dynalite, then the cache fill);
 *   5. GETs over 100 items with one of the two memcached nodes dead (its breaker open: its keys
 *      miss and are read from DynamoDB, the other node's keys hit);
 *   6. a DynamoDB outage (dynalite stopped, so connections are refused): GETs of items not in the
 *      cache, which the service answers 503 `dependency_unavailable`; how fast it says so.
 * Scenarios 1-4 are taken in turn, round by round (the first one rotating), so each comparison is
 * a ratio of runs taken side by side. Scenarios 5 and 6 come after, in that order: a killed node or
 * a stopped dynalite cannot be revived mid-run with its data. memcached's own get_hits/get_misses
 * counters are read around each run to show each scenario is what its name says.
 *
 * With a reference build (`--reference <dir>` holding another bundle's main.js, e.g. the previous
 * commit's `sh service/bundle.sh <dir>`), the reference service runs on the same memcached and
 * dynalite, and every service scenario is taken for both, in turn: before/after in one run.
 *
 *   npm run bench:service            # 7 rounds of 5 s per scenario -> bench/service-results.json
 *   npx tsx bench/service.ts 5 10    # 5 rounds of 10 s
 *   npx tsx bench/service.ts 2 1 --reference /tmp/old-dist --out /tmp/r.json
 * `npm run bench` calls runServiceBench() and keeps the result in bench/results.json instead
 * (BENCH_SERVICE_REFERENCE=<dir> adds the reference build there too).
 *
 * dynalite is LevelDB in a Node process, far slower than DynamoDB: cache-miss numbers show the
 * cost of the miss path on this machine, not DynamoDB's latency.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';

import { Client } from 'memjs';
import { format } from 'prettier';

import { AwsCaller, createDynamoDbClient } from '../service/src/aws/clients';
import { pickNode } from '../service/src/cache/rendezvous';
import { ItemCache } from '../service/src/items/item-cache';
import { ItemsStore } from '../service/src/items/items-store';
import { DependencyMetrics } from '../service/src/metrics/emf';
import {
  createServiceTable,
  startDynaliteProcess,
  type DynaliteServer,
} from '../test/support/dynalite';
import { freePort, startMemcached, type MemcachedServer } from '../test/support/memcached';

import { readCpuTimes, stealPercent } from './cpu-steal';
import {
  cpuMicrosPerRequest,
  kernelSharePercent,
  readProcessCpuMicros,
  readUserSystemTicks,
} from './process-cpu';
import { onInterrupt, stopEverythingOnSignals } from './processes';
import { parseServiceBenchArgs } from './service-args';
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
export const TABLE = 'bench-items';
const ROOT = path.resolve(__dirname, '..');

export interface ServiceBenchOptions {
  /** Timed runs (rounds) per scenario. */
  readonly runs: number;
  /** Seconds per timed run of the duration-bound scenarios. */
  readonly durationSeconds: number;
  /** Requests per cache-miss run (each a never-read item). */
  readonly missRequestsPerRun: number;
  readonly log: (line: string) => void;
  /**
   * A directory with another build of the service (its `main.js`), run side by side.
   * @default - the current build only
   */
  readonly referenceBundle?: string;
}

/**
 * 7 rounds: a 5 s run's throughput swings by ±15 % on this 2-core machine (the load generator,
 * memcached and the server share it), and the hit ÷ fair-limit ratio is a median of rounds.
 */
export const SERVICE_BENCH_DEFAULTS = { runs: 7, durationSeconds: 5, missRequestsPerRun: 2000 };

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
  /** Share of the machine's CPU time stolen by the hypervisor during the run (%), where known. */
  readonly cpuStealPercent?: number;
  /** CPU time the server process spent per completed request (µs), where known. */
  readonly serverCpuMicrosPerRequest?: number;
  /** The share of that CPU time spent in the kernel (%), where known. */
  readonly serverKernelPercent?: number;
}

export interface ServiceScenario {
  readonly name: string;
  readonly what: string;
  readonly runs: ServiceRun[];
  readonly requestsPerSecond: Summary;
  readonly meanMs: Summary;
  readonly p50Ms: Summary;
  readonly p99Ms: Summary;
  /** Server CPU per request (µs), when every run measured it. */
  readonly serverCpuMicrosPerRequest?: Summary;
  /** The share of the server's CPU spent in the kernel (%), when every run measured it. */
  readonly serverKernelPercent?: Summary;
  /** The status every answer should have when it is not 200 (the DynamoDB outage: 503). */
  readonly expectedStatus?: number;
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
  /** The reference build's directory, when one ran side by side. */
  readonly reference?: string;
  readonly scenarios: ServiceScenario[];
  readonly comparisons: {
    /** cache-hit req/s ÷ bare req/s, per round. */
    readonly cacheHitThroughputVsBareHttp: Summary;
    /** cache-hit p99 − bare p99, per round (ms). */
    readonly cacheHitP99MsMinusBareHttp: Summary;
    /** cache-hit req/s ÷ fair-limit req/s, per round (the goal: at least 0.8). */
    readonly cacheHitThroughputVsFairLimit: Summary;
    /** cache-hit p99 − fair-limit p99, per round (ms; the goal: at most 1). */
    readonly cacheHitP99MsMinusFairLimit: Summary;
    /**
     * cache-hit server CPU per request ÷ the fair limit's, per round: what the service's own work
     * costs on the server's core, apart from the load generator and memcached sharing the machine
     * (absent in results from before it was measured, or where /proc has no schedstat).
     */
    readonly cacheHitServerCpuVsFairLimit?: Summary;
    /**
     * The same ratio for the server's CPU in user space (the JavaScript and Node's own code) and in
     * the kernel (mostly socket system calls), per round: which of the two the service spends more
     * of decides how the throughput ratio moves from one machine to another.
     */
    readonly cacheHitUserCpuVsFairLimit?: Summary;
    readonly cacheHitKernelCpuVsFairLimit?: Summary;
    /** fair-limit req/s ÷ bare req/s, per round: what the memcached round trip alone costs. */
    readonly fairLimitThroughputVsBareHttp: Summary;
    /** Fastify alone around the fair limit's GET (absent in results from before it was measured). */
    readonly frameworkFloorThroughputVsFairLimit?: Summary;
    readonly cacheHitThroughputVsFrameworkFloor?: Summary;
    /** How much less time a cache hit takes than a miss (mean latency), per round (%). */
    readonly cacheHitFasterThanMissPercent: Summary;
    /** cache-hit req/s ÷ cache-miss req/s, per round. */
    readonly cacheHitThroughputVsMiss: Summary;
    /** one-node-dead req/s ÷ cache-hit req/s, medians (not taken in turn; see the header). */
    readonly oneNodeDeadThroughputVsCacheHit: number;
    /**
     * With a reference build: this build's req/s ÷ the reference's, per round, for each service
     * scenario (above 1: this build is faster).
     */
    readonly versusReference?: Record<string, Summary>;
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

async function measure(
  options: AutocannonOptions,
  nodes: MemcachedServer[],
  serverPid?: number,
): Promise<ServiceRun> {
  const before = await memcachedCounters(nodes);
  const cpuBefore = readCpuTimes();
  const serverCpuBefore = serverPid === undefined ? undefined : readProcessCpuMicros(serverPid);
  const serverTicksBefore = serverPid === undefined ? undefined : readUserSystemTicks(serverPid);
  const startedMs = performance.now();
  let lastResponseMs = startedMs;
  const instance = autocannon(options);
  instance.on('response', () => {
    lastResponseMs = performance.now();
  });
  const result = await instance;
  const serverCpuMicros = cpuMicrosPerRequest(
    serverCpuBefore,
    serverPid === undefined ? undefined : readProcessCpuMicros(serverPid),
    result.requests.total,
  );
  const serverKernelPercent = kernelSharePercent(
    serverTicksBefore,
    serverPid === undefined ? undefined : readUserSystemTicks(serverPid),
  );
  const cpuStealPercent = stealPercent(cpuBefore, readCpuTimes());
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
    ...(cpuStealPercent === undefined ? {} : { cpuStealPercent }),
    ...(serverCpuMicros === undefined ? {} : { serverCpuMicrosPerRequest: serverCpuMicros }),
    ...(serverKernelPercent === undefined ? {} : { serverKernelPercent }),
  };
}

function summarizeScenario(
  name: string,
  what: string,
  runs: ServiceRun[],
  expectedStatus?: number,
): ServiceScenario {
  const kernelShares = inEveryRun(runs.map((run) => run.serverKernelPercent));
  return {
    name,
    what,
    runs,
    ...(expectedStatus === undefined ? {} : { expectedStatus }),
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
    ...(serverCpu(runs) ? { serverCpuMicrosPerRequest: summarize(serverCpu(runs)!, 'µs') } : {}),
    ...(kernelShares ? { serverKernelPercent: summarize(kernelShares, '%') } : {}),
  };
}

/** A run's server CPU per request in user space or in the kernel (µs), where both are known. */
function cpuPart(run: ServiceRun, part: 'user' | 'kernel'): number | undefined {
  if (run.serverCpuMicrosPerRequest === undefined || run.serverKernelPercent === undefined) {
    return undefined;
  }
  const kernelShare = run.serverKernelPercent / 100;
  return run.serverCpuMicrosPerRequest * (part === 'kernel' ? kernelShare : 1 - kernelShare);
}

/** Hit ÷ fair limit for user and kernel CPU per request, per round, when every run has both. */
function cpuPartRatios(
  hit: readonly ServiceRun[],
  fair: readonly ServiceRun[],
): { cacheHitUserCpuVsFairLimit?: Summary; cacheHitKernelCpuVsFairLimit?: Summary } {
  const ratio = (part: 'user' | 'kernel'): Summary | undefined => {
    const hitPart = inEveryRun(hit.map((run) => cpuPart(run, part)));
    const fairPart = inEveryRun(fair.map((run) => cpuPart(run, part)));
    return hitPart && fairPart && [...hitPart, ...fairPart].every((value) => value > 0)
      ? pairedRatios(hitPart, fairPart)
      : undefined;
  };
  const user = ratio('user');
  const kernel = ratio('kernel');
  return user && kernel
    ? { cacheHitUserCpuVsFairLimit: user, cacheHitKernelCpuVsFairLimit: kernel }
    : {};
}

/** The values, when every run measured one. */
function inEveryRun(values: ReadonlyArray<number | undefined>): number[] | undefined {
  const known = values.filter((value): value is number => value !== undefined);
  return known.length === values.length ? known : undefined;
}

/** Each run's server CPU per request, when every run measured it. */
function serverCpu(runs: readonly ServiceRun[]): number[] | undefined {
  return inEveryRun(runs.map((run) => run.serverCpuMicrosPerRequest));
}

function describeScenario(scenario: ServiceScenario): string {
  const r = scenario.requestsPerSecond;
  const p = scenario.p99Ms;
  const lines = [
    `${scenario.name.padEnd(22)} ${String(r.median).padStart(8)} req/s (min ${r.min}, max ${r.max})` +
      `   p99 ${p.median} ms (min ${p.min}, max ${p.max})   ${scenario.runs.length} runs` +
      (scenario.serverCpuMicrosPerRequest
        ? `   server CPU ${scenario.serverCpuMicrosPerRequest.median} µs/req` +
          (scenario.serverKernelPercent
            ? ` (${scenario.serverKernelPercent.median} % in the kernel)`
            : '')
        : ''),
  ];
  for (const run of scenario.runs) {
    const unexpectedStatus = scenario.expectedStatus === undefined ? run.non2xx : 0;
    if (unexpectedStatus > 0 || run.errors > 0 || run.bodyMismatches > 0) {
      lines.push(
        `  ! a run had ${run.non2xx} non-2xx, ${run.errors} errors, ${run.bodyMismatches} wrong bodies`,
      );
    }
  }
  return lines.join('\n');
}

export async function waitForHttp(
  url: string,
  child: ChildProcess,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
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
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s`);
}

export function stop(child: ChildProcess): Promise<void> {
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

/**
 * The fair limit for a cache hit: node:http plus one memjs GET of the cached entry
 * (`<etag>\n<body>`, as the service stores it) on the node that owns it, then the body with the
 * same content headers. No routing, validation, rate limit, timeout, breaker, guard or log line.
 */
export const FAIR_LIMIT_SERVER = `
const http = require('node:http');
const { Client } = require('memjs');
const client = Client.create(process.env.MEMCACHED, { retries: 1, logger: { log() {} } });
const key = process.env.KEY;
http.createServer((req, res) => {
  client.get(key, (error, value) => {
    if (error || !value) { res.writeHead(503); res.end(); return; }
    const entry = value.toString('utf8');
    const newline = entry.indexOf('\\n');
    const body = entry.slice(newline + 1);
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      etag: '"' + entry.slice(0, newline) + '"',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  });
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

/**
 * The framework floor: the fair limit's memjs GET inside a Fastify route, with Fastify's logger
 * off and nothing else (no hooks, validation, rate limit, request id, guard or log line): what
 * the framework alone adds to a cache hit, which no setting of the service can take away.
 */
export const FRAMEWORK_FLOOR_SERVER = `
const { Client } = require('memjs');
const client = Client.create(process.env.MEMCACHED, { retries: 1, logger: { log() {} } });
const key = process.env.KEY;
const app = require('fastify')({ logger: false });
app.get('/api/items/:id', (request, reply) => {
  client.get(key, (error, value) => {
    if (error || !value) { reply.code(503).send(''); return; }
    const entry = value.toString('utf8');
    const newline = entry.indexOf('\\n');
    reply
      .header('etag', '"' + entry.slice(0, newline) + '"')
      .type('application/json; charset=utf-8')
      .send(entry.slice(newline + 1));
  });
});
// What the harness polls until the server is up.
app.get('/', (request, reply) => { reply.send('ok'); });
app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
`;

/**
 * The service's environment in a benchmark: production defaults on loopback, the rate limit out of
 * the way of one load generator, and a TTL the hot entry outlives the whole run with (the fair-limit
 * server cannot refill it, and a hit run that hits an expiry measures one miss).
 */
export function serviceEnvironment(
  port: number,
  memcached: readonly MemcachedServer[],
  dynamoDbEndpoint: string | undefined,
  directory: string,
): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    MEMCACHED_ENDPOINTS: memcached.map((node) => node.endpoint).join(','),
    TABLE_NAME: TABLE,
    DYNAMODB_ENDPOINT: dynamoDbEndpoint,
    AWS_REGION: 'local',
    FAULTS_FILE: path.join(directory, 'no-faults.json'),
    TASK_ID: 'bench',
    TRUST_PROXY_HOPS: '0',
    RATE_LIMIT_PER_MINUTE: '100000000',
    LOG_LEVEL: 'info',
    CACHE_TTL_SECONDS: '86400',
  };
}

/** Which build a service scenario runs against. */
type Build = 'current' | 'reference';
type Scenario = 'bare' | 'fair' | 'floor' | `${'hit' | 'miss'}-${Build}`;

/** Runs the scenarios and returns their results; starts and stops everything it needs. */
export async function runServiceBench(options: ServiceBenchOptions): Promise<ServiceResults> {
  const { runs, durationSeconds, missRequestsPerRun, log, referenceBundle } = options;
  for (const [name, value] of Object.entries({ runs, durationSeconds, missRequestsPerRun })) {
    if (!Number.isInteger(value) || value < 1) {
      throw new Error(`service bench: ${name} must be a whole number of at least 1, got ${value}`);
    }
  }
  if (referenceBundle !== undefined && !existsSync(path.join(referenceBundle, 'main.js'))) {
    throw new Error(
      `service bench: the reference build must be a directory with main.js (sh service/bundle.sh <dir>), got ${referenceBundle}`,
    );
  }
  const builds: Build[] = referenceBundle === undefined ? ['current'] : ['current', 'reference'];
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
    // Seeding is set-up, not measured: generous timeouts, so a busy machine does not fail it.
    const seedTimeouts = {
      connectTimeoutMs: 5000,
      requestTimeoutMs: 20_000,
      deadlineMs: 60_000,
      maxAttempts: 3,
    };
    const client = createDynamoDbClient('local', seedTimeouts, dynalite.endpoint);
    const store = new ItemsStore(
      { reads: client, writes: client },
      TABLE,
      new AwsCaller('dynamodb', seedTimeouts, metrics, { warn: () => undefined }),
    );
    const missItems = runs * missRequestsPerRun;
    const ids = [
      'bench-item',
      ...Array.from({ length: DEAD_NODE_ITEMS }, (_, index) => `spread-${index}`),
      // Interleaved between builds, so neither build's items are the older ones in the store.
      ...Array.from({ length: missItems }, (_, index) =>
        builds.map((build) => `miss-${build}-${index}`),
      ).flat(),
    ];
    for (let start = 0; start < ids.length; start += 16) {
      await Promise.all(
        ids
          .slice(start, start + 16)
          .map((id) =>
            store.put(id, { name: `Item ${id}`, price: 19.9, tags: ['bench', 'catalog'] }),
          ),
      );
    }
    client.destroy();

    /** The server process behind each URL, to read its CPU time around each run. */
    const serverPids = new Map<string, number>();
    const startService = async (mainJs: string): Promise<string> => {
      const port = await freePort();
      const child = spawn(process.execPath, [mainJs], {
        env: serviceEnvironment(port, memcached, dynalite?.endpoint, directory),
        // Its log lines (and EMF metrics) are written as in production, to /dev/null.
        stdio: 'ignore',
      });
      children.push(child);
      const url = `http://127.0.0.1:${port}`;
      await waitForHttp(`${url}/health/ready`, child);
      if (child.pid !== undefined) serverPids.set(url, child.pid);
      return url;
    };
    const serviceUrl: Record<Build, string> = {
      current: await startService(path.join(directory, 'dist', 'main.js')),
      reference: referenceBundle
        ? await startService(path.join(path.resolve(referenceBundle), 'main.js'))
        : '',
    };

    // The payload of a cache hit, for the bare server and to check every response body.
    await fetch(`${serviceUrl.current}/api/items/bench-item`);
    const hit = await fetch(`${serviceUrl.current}/api/items/bench-item`);
    if (hit.headers.get('x-cache') !== 'HIT') throw new Error('bench-item is not cached');
    const body = await hit.text();

    const startServer = async (script: string, env: Record<string, string>): Promise<string> => {
      const port = await freePort();
      const child = spawn(process.execPath, ['-e', script], {
        // From the repository root, so that `require('memjs')` finds the installed package.
        cwd: ROOT,
        env: { PATH: process.env.PATH, PORT: String(port), ...env },
        stdio: 'ignore',
      });
      children.push(child);
      const url = `http://127.0.0.1:${port}/`;
      await waitForHttp(url, child);
      if (child.pid !== undefined) serverPids.set(url, child.pid);
      return url;
    };
    const bareUrl = await startServer(BARE_SERVER, {
      BODY: body,
      ETAG: hit.headers.get('etag') ?? '',
    });
    const hotKey = ItemCache.key('bench-item');
    const fairUrl = await startServer(FAIR_LIMIT_SERVER, {
      // The node the service reads the hot key from (the same rendezvous hashing).
      MEMCACHED: pickNode(
        memcached.map((node) => node.endpoint),
        hotKey,
      ),
      KEY: hotKey,
    });

    const floorServer = await startServer(FRAMEWORK_FLOOR_SERVER, {
      MEMCACHED: pickNode(
        memcached.map((node) => node.endpoint),
        hotKey,
      ),
      KEY: hotKey,
    });
    const floorUrl = `${floorServer}api/items/bench-item`;
    const pidOf: Record<Scenario, number | undefined> = {
      bare: serverPids.get(bareUrl),
      fair: serverPids.get(fairUrl),
      floor: serverPids.get(floorServer),
      'hit-current': serverPids.get(serviceUrl.current),
      'hit-reference': serverPids.get(serviceUrl.reference),
      'miss-current': serverPids.get(serviceUrl.current),
      'miss-reference': serverPids.get(serviceUrl.reference),
    };

    const timed = (url: string, extra: Partial<AutocannonOptions> = {}): AutocannonOptions => ({
      url,
      connections: CONNECTIONS,
      duration: durationSeconds,
      ...extra,
    });
    /** GETs of `${prefix}${n}` for n = 0, 1, ... (modulo `wrap` when given). */
    const spreadOver = (url: string, prefix: string, wrap?: number): AutocannonOptions => {
      let next = 0;
      return timed(url, {
        requests: [
          {
            method: 'GET',
            setupRequest: (request) => ({
              ...request,
              path: `/api/items/${prefix}${wrap === undefined ? next++ : next++ % wrap}`,
            }),
          },
        ],
      });
    };
    // Each cache-miss run reads its own never-read items, so every request misses.
    const nextMiss: Record<Build, number> = { current: 0, reference: 0 };
    const missOf = (build: Build): AutocannonOptions => ({
      url: serviceUrl[build],
      connections: CONNECTIONS,
      amount: missRequestsPerRun,
      requests: [
        {
          method: 'GET',
          setupRequest: (request) => ({
            ...request,
            path: `/api/items/miss-${build}-${nextMiss[build]++}`,
          }),
        },
      ],
    });
    const make: Record<Scenario, () => AutocannonOptions> = {
      bare: () => timed(bareUrl, { expectBody: body }),
      fair: () => timed(fairUrl, { expectBody: body }),
      floor: () => timed(floorUrl, { expectBody: body }),
      'hit-current': () =>
        timed(`${serviceUrl.current}/api/items/bench-item`, { expectBody: body }),
      'hit-reference': () =>
        timed(`${serviceUrl.reference}/api/items/bench-item`, { expectBody: body }),
      'miss-current': () => missOf('current'),
      'miss-reference': () => missOf('reference'),
    };
    const inTurn: Scenario[] = [
      'bare',
      'fair',
      'floor',
      ...builds.map((build): Scenario => `hit-${build}`),
      ...builds.map((build): Scenario => `miss-${build}`),
    ];
    // Warm-ups, not recorded (the miss path warms up in its first round).
    for (const scenario of inTurn.filter((name) => !name.startsWith('miss-'))) {
      await autocannon({ ...make[scenario](), duration: 1 });
    }
    const taken = Object.fromEntries(inTurn.map((name) => [name, []])) as unknown as Record<
      Scenario,
      ServiceRun[]
    >;
    for (const [round, order] of interleavedOrder(inTurn, runs).entries()) {
      for (const scenario of order)
        taken[scenario].push(await measure(make[scenario](), memcached, pidOf[scenario]));
      log(`  service round ${round + 1}/${runs} done`);
    }
    const suffix = (build: Build) => (build === 'reference' ? ' (reference build)' : '');
    const scenarios: ServiceScenario[] = [
      summarizeScenario(
        'bare-node-http',
        'node:http server returning the cache-hit payload',
        taken.bare,
      ),
      summarizeScenario(
        'fair-limit',
        'node:http server doing one memjs GET of the cached entry on the same memcached node, then sending its body',
        taken.fair,
      ),
      summarizeScenario(
        'framework-floor',
        'the fair limit inside a Fastify route (logger off; no hooks, validation or rate limit)',
        taken.floor,
      ),
      ...builds.map((build) =>
        summarizeScenario(
          `service-cache-hit${build === 'reference' ? '-reference' : ''}`,
          `GET /api/items/bench-item, answered from memcached${suffix(build)}`,
          taken[`hit-${build}`],
        ),
      ),
      ...builds.map((build) =>
        summarizeScenario(
          `service-cache-miss${build === 'reference' ? '-reference' : ''}`,
          `GET of a different item each request (${missRequestsPerRun} per run): memcached miss, DynamoDB (dynalite) GetItem, cache fill${suffix(build)}`,
          taken[`miss-${build}`],
        ),
      ),
    ];

    // After the scenarios above, in turn between builds: one node dead, then DynamoDB down.
    const afterwards = async (
      name: string,
      what: string,
      scenario: (build: Build) => AutocannonOptions,
      nodes: MemcachedServer[],
      expectedStatus?: number,
    ): Promise<Record<Build, ServiceRun[]>> => {
      for (const build of builds) await autocannon({ ...scenario(build), duration: 1 });
      const results: Record<Build, ServiceRun[]> = { current: [], reference: [] };
      for (const order of interleavedOrder(builds, runs)) {
        for (const build of order) {
          results[build].push(
            await measure(scenario(build), nodes, serverPids.get(serviceUrl[build])),
          );
        }
      }
      for (const build of builds) {
        scenarios.push(
          summarizeScenario(
            `${name}${build === 'reference' ? '-reference' : ''}`,
            `${what}${suffix(build)}`,
            results[build],
            expectedStatus,
          ),
        );
      }
      return results;
    };

    // One node dead: fill the cache for the spread items, then kill one node. The warm-up
    // opens its breaker.
    for (let index = 0; index < DEAD_NODE_ITEMS; index += 1)
      await fetch(`${serviceUrl.current}/api/items/spread-${index}`);
    await memcached[1].kill();
    const dead = await afterwards(
      'service-one-node-dead',
      `GET over ${DEAD_NODE_ITEMS} items with 1 of 2 memcached nodes killed (its keys read from DynamoDB)`,
      (build) => spreadOver(serviceUrl[build], 'spread-', DEAD_NODE_ITEMS),
      [memcached[0]],
    );

    // DynamoDB down: every item not in the cache is a 503, as fast as the service can say so.
    await dynalite.stop();
    const outage = await afterwards(
      'service-dynamodb-outage',
      'GET of a different never-cached item each request with DynamoDB (dynalite) stopped and 1 memcached node still dead: 503 dependency_unavailable expected',
      (build) => spreadOver(serviceUrl[build], `outage-${build}-`),
      [memcached[0]],
      503,
    );
    scenarios.forEach((scenario) => log(describeScenario(scenario)));

    const rps = (runsOf: ServiceRun[]) => runsOf.map((run) => run.requestsPerSecond);
    const p99 = (runsOf: ServiceRun[]) => runsOf.map((run) => run.p99Ms);
    const hitRuns = taken['hit-current'];
    const medianOf = (name: string) =>
      scenarios.find((scenario) => scenario.name === name)?.requestsPerSecond.median ?? NaN;
    return {
      generatedAt: new Date().toISOString(),
      what:
        `autocannon, ${CONNECTIONS} connections, ${durationSeconds} s per timed run after a 1 s warm-up ` +
        `(cache-miss runs: ${missRequestsPerRun} requests each), ${runs} runs per scenario; bare, fair limit, framework floor, hit and miss taken in turn, round by round` +
        `${referenceBundle ? '; every service scenario also run against the reference build, in turn' : ''}. ` +
        'requestsPerSecond: completed requests / run duration. meanMs: mean response latency; p50Ms/p99Ms/maxMs: percentiles in whole milliseconds (autocannon rounds them). ' +
        'memcachedHits/Misses: change in memcached get_hits/get_misses during the run (live nodes only). ' +
        'The service is the production bundle in its own process at LOG_LEVEL=info, writing its logs and metrics to /dev/null. ' +
        "dynalite is far slower than DynamoDB, so cache-miss numbers are this machine's miss-path cost, not DynamoDB's.",
      node: process.version,
      machine: `${cpus().length} x ${cpus()[0]?.model.trim() ?? 'unknown CPU'}`,
      loadAverage1m5m15mAtStart: loadAtStart,
      payloadBytes: Buffer.byteLength(body),
      connections: CONNECTIONS,
      durationSeconds,
      ...(referenceBundle ? { reference: referenceBundle } : {}),
      scenarios,
      comparisons: {
        cacheHitThroughputVsBareHttp: pairedRatios(rps(hitRuns), rps(taken.bare)),
        cacheHitP99MsMinusBareHttp: pairedDifferences(p99(hitRuns), p99(taken.bare), 'ms'),
        cacheHitThroughputVsFairLimit: pairedRatios(rps(hitRuns), rps(taken.fair)),
        cacheHitP99MsMinusFairLimit: pairedDifferences(p99(hitRuns), p99(taken.fair), 'ms'),
        ...(serverCpu(hitRuns) && serverCpu(taken.fair)
          ? {
              cacheHitServerCpuVsFairLimit: pairedRatios(
                serverCpu(hitRuns)!,
                serverCpu(taken.fair)!,
              ),
            }
          : {}),
        ...cpuPartRatios(hitRuns, taken.fair),
        fairLimitThroughputVsBareHttp: pairedRatios(rps(taken.fair), rps(taken.bare)),
        frameworkFloorThroughputVsFairLimit: pairedRatios(rps(taken.floor), rps(taken.fair)),
        cacheHitThroughputVsFrameworkFloor: pairedRatios(rps(hitRuns), rps(taken.floor)),
        cacheHitFasterThanMissPercent: pairedReductionPercent(
          hitRuns.map((run) => run.meanMs),
          taken['miss-current'].map((run) => run.meanMs),
        ),
        cacheHitThroughputVsMiss: pairedRatios(rps(hitRuns), rps(taken['miss-current'])),
        oneNodeDeadThroughputVsCacheHit:
          Math.round((medianOf('service-one-node-dead') / medianOf('service-cache-hit')) * 1000) /
          1000,
        ...(referenceBundle
          ? {
              versusReference: {
                'service-cache-hit': pairedRatios(rps(hitRuns), rps(taken['hit-reference'])),
                'service-cache-miss': pairedRatios(
                  rps(taken['miss-current']),
                  rps(taken['miss-reference']),
                ),
                'service-one-node-dead': pairedRatios(rps(dead.current), rps(dead.reference)),
                'service-dynamodb-outage': pairedRatios(rps(outage.current), rps(outage.reference)),
              },
            }
          : {}),
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
  const usage =
    'usage: npm run bench:service [-- <runs> [<seconds per run>]] [--reference <dir with main.js>] [--out <file>]';
  let options: ServiceBenchOptions;
  let out = path.join(ROOT, 'bench', 'service-results.json');
  try {
    const args = parseServiceBenchArgs(process.argv.slice(2));
    out = args.out ?? out;
    options = {
      ...SERVICE_BENCH_DEFAULTS,
      runs: wholeArgument(args.positional[0], 'runs', SERVICE_BENCH_DEFAULTS.runs),
      durationSeconds: wholeArgument(
        args.positional[1],
        'seconds per run',
        SERVICE_BENCH_DEFAULTS.durationSeconds,
      ),
      log: (line) => process.stdout.write(`${line}\n`),
      ...(args.reference ? { referenceBundle: args.reference } : {}),
    };
  } catch (error) {
    process.stderr.write(`bench:service: ${(error as Error).message}\n${usage}\n`);
    process.exit(2);
  }
  stopEverythingOnSignals();
  const results = await runServiceBench(options);
  // Formatted as the repository's Prettier would, so `npm run lint` accepts the committed file.
  writeFileSync(out, await format(JSON.stringify(results), { parser: 'json' }));
  const c = results.comparisons;
  process.stdout.write(
    `\ncache hit: ${c.cacheHitThroughputVsFairLimit.median}x the fair limit's throughput (p99 +${c.cacheHitP99MsMinusFairLimit.median} ms` +
      (c.cacheHitServerCpuVsFairLimit
        ? `; ${c.cacheHitServerCpuVsFairLimit.median}x its server CPU per request`
        : '') +
      '), ' +
      `${c.cacheHitThroughputVsBareHttp.median}x the bare server's (p99 +${c.cacheHitP99MsMinusBareHttp.median} ms); ` +
      `${c.cacheHitFasterThanMissPercent.median} % less time than a cache miss.` +
      (c.versusReference
        ? ` Against the reference build (req/s ratio, median): ${Object.entries(c.versusReference)
            .map(([name, ratio]) => `${name} ${ratio.median}x`)
            .join(', ')}.`
        : '') +
      ` Wrote ${path.relative(process.cwd(), out) || out} (${results.totalSeconds} s).\n`,
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
