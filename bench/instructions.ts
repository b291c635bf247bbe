/**
 * Instructions per cache hit: the user-space instructions a server executes per request, counted
 * by valgrind's cachegrind, for the fair limit, the framework floor and the service. A count of
 * instructions moves much less than req/s or CPU time with the machine's load and its neighbours,
 * though it does move (see below). It leaves out what the kernel does (syscalls: the service makes
 * fewer than the fair limit, since it coalesces its memcached writes) and what memcached and the
 * load generator do.
 *
 * Each server runs three times under cachegrind, with the same warm-up and then a short, a middle
 * and a long measured burst: (instructions of the long run - the short run's) / (requests of the
 * long burst - the short one's) leaves start-up and warm-up out. The middle run splits that into two
 * halves, which are printed with their drift: V8 keeps compiling for tens of thousands of requests
 * (traced natively: compiles until about 26,000 cache hits), and a compile that lands in the
 * measured span counts as thousands of instructions per request.
 *
 * How far to trust one count: back to back on a quiet machine, two runs of one build agreed within
 * about 2 %; but one build counted by two runs at once gave 141,358 and 163,358 per hit, so a
 * difference of less than about 15 % between two builds needs repeated runs to mean anything.
 *
 * Under valgrind code runs about 50 times slower, so the service's bundle is run with two limits
 * raised that would otherwise turn hits into something else: the per-call memcached timeout (a hit
 * would time out into a miss) and the load shedder's event-loop delay (requests would be shed). The
 * work per request is the same; the timer is still set on every call.
 *
 *   npm run bench:instructions [-- --warm 20000 --short 5000 --long 15000 --connections 10]
 *   npm run bench:instructions -- --only service-cache-hit --bundle <dir>   (another build of the
 *     service, from sh service/bundle.sh <dir>: one feature taken out, or an earlier commit)
 *
 * Needs valgrind (apt-get install valgrind); `npm run bench` does not run it.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

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

import {
  cachegrindInstructions,
  middleRequests,
  parseInstructionsArgs,
  raiseLimitsForValgrind,
  steadyInstructions,
  STEADY_DRIFT,
  type CountedRun,
  type InstructionsOptions,
  type InstructionTarget,
  type SteadyCount,
  USAGE,
} from './instructions-count';
import { onInterrupt, stopEverythingOnSignals } from './processes';
import {
  FAIR_LIMIT_SERVER,
  FRAMEWORK_FLOOR_SERVER,
  serviceEnvironment,
  stop,
  TABLE,
  waitForHttp,
} from './service';

const ROOT = path.resolve(__dirname, '..');
/**
 * V8 compiles and collects garbage on the main thread: background threads would be scheduled
 * whenever valgrind lets them run, so when optimized code arrives (and how much work each run
 * counts) would vary from run to run.
 */
const V8_FLAGS = (process.env.BENCH_V8_FLAGS ?? '--single-threaded').split(' ').filter(Boolean);

interface AutocannonResult {
  readonly requests: { readonly total: number };
  readonly non2xx: number;
  readonly errors: number;
}
// autocannon ships no type definitions; this is the part used.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (options: {
  url: string;
  connections: number;
  amount: number;
  timeout: number;
}) => Promise<AutocannonResult>;

async function main(): Promise<void> {
  let options: InstructionsOptions;
  try {
    options = parseInstructionsArgs(process.argv.slice(2));
    if (options.bundle !== undefined && !existsSync(path.join(options.bundle, 'main.js'))) {
      throw new Error(
        `--bundle must be a directory with main.js (sh service/bundle.sh <dir>), got ${options.bundle}`,
      );
    }
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
  } catch (error) {
    const message =
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'valgrind is not installed (apt-get install valgrind)'
        : (error as Error).message;
    process.stderr.write(
      `bench:instructions: ${message}\nusage: npm run bench:instructions [-- ${USAGE}]\n`,
    );
    process.exit(2);
  }
  stopEverythingOnSignals();
  // dynalite takes any credentials; a real AWS endpoint is never called.
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  const directory = mkdtempSync(path.join(tmpdir(), 'instructions-bench-'));
  let memcached: MemcachedServer[] = [];
  let dynalite: DynaliteServer | undefined;
  const cleanup = async () => {
    await Promise.all(memcached.map((node) => node.stop()));
    await dynalite?.stop();
    rmSync(directory, { recursive: true, force: true });
  };
  const removeCleanup = onInterrupt(cleanup);
  try {
    const bundle = options.bundle ?? path.join(directory, 'dist');
    if (options.bundle === undefined && options.only.includes('service-cache-hit')) {
      execFileSync('sh', ['service/bundle.sh', bundle], { cwd: ROOT });
    }
    const mainJs = path.join(directory, 'main-valgrind.js');
    if (options.only.includes('service-cache-hit')) {
      writeFileSync(
        mainJs,
        raiseLimitsForValgrind(readFileSync(path.join(bundle, 'main.js'), 'utf8')),
      );
    }
    memcached = await Promise.all([startMemcached(), startMemcached()]);
    dynalite = await startDynaliteProcess();
    await createServiceTable(dynalite.endpoint, TABLE);
    const timeouts = {
      connectTimeoutMs: 5000,
      requestTimeoutMs: 20_000,
      deadlineMs: 60_000,
      maxAttempts: 3,
    };
    const client = createDynamoDbClient('local', timeouts, dynalite.endpoint);
    await new ItemsStore(
      { reads: client, writes: client },
      TABLE,
      new AwsCaller(
        'dynamodb',
        timeouts,
        new DependencyMetrics({ namespace: 'Bench', region: 'local' }, { info: () => undefined }),
        { warn: () => undefined },
      ),
    ).put('bench-item', { name: 'Item bench-item', price: 19.9, tags: ['bench', 'catalog'] });
    client.destroy();
    const hotKey = ItemCache.key('bench-item');
    const owner = pickNode(
      memcached.map((node) => node.endpoint),
      hotKey,
    );

    const counted = async (target: InstructionTarget, requests: number): Promise<CountedRun> => {
      const port = await freePort();
      const out = path.join(directory, `${target}-${requests}.cachegrind`);
      const valgrind = [
        '--tool=cachegrind',
        '--cache-sim=no',
        `--cachegrind-out-file=${out}`,
        process.execPath,
        ...V8_FLAGS,
      ];
      const child =
        target === 'service-cache-hit'
          ? spawn('valgrind', [...valgrind, mainJs], {
              stdio: 'ignore',
              env: serviceEnvironment(port, memcached, dynalite?.endpoint, directory),
            })
          : spawn(
              'valgrind',
              [
                ...valgrind,
                '-e',
                target === 'fair-limit' ? FAIR_LIMIT_SERVER : FRAMEWORK_FLOOR_SERVER,
              ],
              {
                cwd: ROOT,
                stdio: 'ignore',
                env: { PATH: process.env.PATH, PORT: String(port), MEMCACHED: owner, KEY: hotKey },
              },
            );
      try {
        const base = `http://127.0.0.1:${port}`;
        await waitForHttp(
          target === 'service-cache-hit' ? `${base}/health/ready` : `${base}/`,
          child,
          300_000,
        );
        const url = target === 'fair-limit' ? `${base}/` : `${base}/api/items/bench-item`;
        // The service's first read fills the cache (the fair limit and the floor read that entry).
        for (let index = 0; index < 2; index += 1) await (await fetch(url)).text();
        const warm = await autocannon({
          url,
          connections: options.connections,
          amount: options.warm,
          timeout: 120,
        });
        const measured = await autocannon({
          url,
          connections: options.connections,
          amount: requests,
          timeout: 120,
        });
        const last = await fetch(url);
        await last.text();
        const failed = warm.non2xx + warm.errors + measured.non2xx + measured.errors;
        if (
          failed > 0 ||
          !last.ok ||
          (target === 'service-cache-hit' && last.headers.get('x-cache') !== 'HIT')
        ) {
          throw new Error(
            `${target}: ${failed} requests failed or the entry was not a hit; not a cache-hit run`,
          );
        }
        await stop(child);
        return {
          requests: measured.requests.total,
          instructions: cachegrindInstructions(readFileSync(out, 'utf8')),
        };
      } finally {
        child.kill('SIGKILL');
      }
    };

    const counts: Partial<Record<InstructionTarget, SteadyCount>> = {};
    for (const target of options.only) {
      const [short, middle, long] = [
        await counted(target, options.short),
        await counted(target, middleRequests(options)),
        await counted(target, options.long),
      ];
      const count = steadyInstructions(short, middle, long);
      counts[target] = count;
      process.stdout.write(
        `${target.padEnd(20)} ${count.perRequest} instructions per request ` +
          `(halves ${count.firstHalf} and ${count.secondHalf}: ${count.steady ? 'steady' : `drift ${Math.round(count.drift * 100)} % > ${STEADY_DRIFT * 100} %, not steady (V8 still compiling, or the run's timing): raise --warm, or repeat`})\n`,
      );
    }
    const ratio = (a: InstructionTarget, b: InstructionTarget): string => {
      const [x, y] = [counts[a], counts[b]];
      return x && y ? `${Math.round((x.perRequest / y.perRequest) * 1000) / 1000}x` : 'n/a';
    };
    if (options.only.length > 1) {
      process.stdout.write(
        `\nservice cache hit: ${ratio('service-cache-hit', 'fair-limit')} the fair limit's instructions per request, ` +
          `${ratio('service-cache-hit', 'framework-floor')} the framework floor's; ` +
          `the floor is ${ratio('framework-floor', 'fair-limit')} the fair limit ` +
          `(warm-up ${options.warm}, measured ${options.short}, ${middleRequests(options)} and ${options.long} requests, ${options.connections} connections).\n`,
      );
    }
  } finally {
    removeCleanup();
    await cleanup();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(
      `bench:instructions failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  });
}
