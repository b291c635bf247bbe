import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';

import { loadConfig, type ServiceConfig } from '../../service/src/config';
import type { Fault } from '../../service/src/faults/fault-document';
import type { TaskIdentity } from '../../service/src/identity';
import { createService, type Service, type ServiceTuning } from '../../service/src/service';
import { createServiceTable, startDynalite, type DynaliteServer } from '../support/dynalite';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy';
import { startMemcached, type MemcachedServer } from '../support/memcached';

/** Log lines the service wrote, parsed. */
export class LogCapture extends Writable {
  readonly lines: Array<Record<string, unknown>> = [];

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() !== '') this.lines.push(JSON.parse(line) as Record<string, unknown>);
    }
    if (process.env.SERVICE_TEST_LOGS === '1') process.stderr.write(chunk);
    done();
  }

  find(predicate: (line: Record<string, unknown>) => boolean): Record<string, unknown>[] {
    return this.lines.filter(predicate);
  }
}

export interface HarnessOptions {
  /** @default 2 */
  readonly memcachedNodes?: number;
  readonly env?: Record<string, string>;
  readonly tuning?: ServiceTuning;
  /**
   * Puts a fault proxy between the service and dynalite, and one before each memcached node.
   * @default false
   */
  readonly faultProxies?: boolean;
}

export interface Harness {
  readonly memcached: MemcachedServer[];
  readonly dynalite: DynaliteServer;
  readonly config: ServiceConfig;
  readonly service: Service;
  readonly baseUrl: string;
  readonly faultsFile: string;
  readonly logs: LogCapture;
  /** Between the service and dynalite, with `faultProxies`. */
  readonly dynamoDbProxy?: FaultProxy;
  /** Before each memcached node (same order), with `faultProxies`. */
  readonly memcachedProxies?: FaultProxy[];
  /** Writes the fault document the service polls (FAULTS_POLL_SECONDS is 0.1 here). */
  writeFaults(faults: ReadonlyArray<Record<string, unknown>> | string): Promise<void>;
  stop(): Promise<void>;
}

/** Short timeouts so failure paths are quick; the shapes are production's. */
export const TEST_TUNING: ServiceTuning = {
  aws: { connectTimeoutMs: 300, requestTimeoutMs: 1000, deadlineMs: 2500, maxAttempts: 3 },
  cacheOperationTimeoutMs: 100,
  cacheBreakerFailures: 2,
  cacheHalfOpenAfterMs: 300,
  // Hysteresis shortened too: a test moves the clock past a hold instead of waiting for it.
  selfEjection: {
    windowSeconds: 2,
    threshold: 0.5,
    minResponses: 5,
    holdSeconds: 2,
    maxHoldSeconds: 8,
    forgiveSeconds: 20,
    readmitAfterGoodResponses: 10,
  },
  sentinelTimeoutMs: 1500,
  metricsFlushIntervalMs: 200,
  // The service shares jest's event loop here, so the tests' own work would count as overload.
  // Shedding is tested on its own with an injected sampler (health.test.ts).
  limits: { maxEventLoopDelayMs: 10_000 },
};

export const TEST_IDENTITY: TaskIdentity = {
  region: 'us-east-1',
  availabilityZone: 'us-east-1a',
  taskId: 'task-under-test',
  version: 'test',
};

let tableCounter = 0;

/** Real memcached nodes and dynalite on loopback, the table, and the service on a free port. */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const directory = await mkdtemp(join(tmpdir(), 'service-test-'));
  const faultsFile = join(directory, 'faults.json');
  const memcached = await Promise.all(
    Array.from({ length: options.memcachedNodes ?? 2 }, () => startMemcached()),
  );
  const dynalite = await startDynalite();
  tableCounter += 1;
  const tableName = `items-${process.pid}-${tableCounter}`;
  await createServiceTable(dynalite.endpoint, tableName);
  const dynamoDbProxy = options.faultProxies
    ? await startFaultProxy({ targetPort: dynalite.port })
    : undefined;
  const memcachedProxies = options.faultProxies
    ? await Promise.all(memcached.map((node) => startFaultProxy({ targetPort: node.port })))
    : undefined;
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    MEMCACHED_ENDPOINTS: (memcachedProxies ?? memcached)
      .map((node) => ('address' in node ? node.address : node.endpoint))
      .join(','),
    TABLE_NAME: tableName,
    DYNAMODB_ENDPOINT: (dynamoDbProxy ?? dynalite).endpoint,
    AWS_REGION: 'us-east-1',
    FAULTS_FILE: faultsFile,
    FAULTS_POLL_SECONDS: '0.1',
    SHUTDOWN_DRAIN_SECONDS: '5',
    TRUST_PROXY_HOPS: '0',
    LOG_LEVEL: 'info',
    ...options.env,
  });
  const logs = new LogCapture();
  const service = await createService(config, {
    identity: TEST_IDENTITY,
    tuning: { ...TEST_TUNING, ...options.tuning },
    logStream: logs,
  });
  const baseUrl = await service.start();
  return {
    memcached,
    dynalite,
    config,
    service,
    baseUrl,
    faultsFile,
    logs,
    dynamoDbProxy,
    memcachedProxies,
    async writeFaults(faults) {
      const text = typeof faults === 'string' ? faults : JSON.stringify({ faults });
      await writeFile(faultsFile, text);
      await service.faultPoller.pollOnce();
    },
    async stop() {
      // Everything started is stopped, even when stopping the service fails.
      try {
        await service.stop();
      } finally {
        const proxies = [dynamoDbProxy, ...(memcachedProxies ?? [])];
        await Promise.all(proxies.flatMap((proxy) => (proxy ? [proxy.stop()] : [])));
        await Promise.all(memcached.map((node) => node.stop()));
        await dynalite.stop();
        await rm(directory, { recursive: true, force: true });
      }
    },
  };
}

export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The body parsed as JSON (throws if it is not). */
  json<T = Record<string, unknown>>(): T;
}

/** A request to the service over real HTTP. */
export async function api(
  baseUrl: string,
  path: string,
  init: RequestInit = {},
): Promise<ApiResponse> {
  const response = await fetch(`${baseUrl}${path}`, init);
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    json: <T>() => JSON.parse(text) as T,
  };
}

export function putItem(
  baseUrl: string,
  id: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<ApiResponse> {
  return api(baseUrl, `/api/items/${id}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

/** Polls until the check passes or the time is up; returns the last value either way. */
export async function eventually<T>(
  probe: () => Promise<T>,
  passes: (value: T) => boolean,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!passes(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await probe();
  }
  return value;
}

/** A fault document entry that expires after `ms`. */
export function faultFor(
  type: Fault['type'],
  ms: number,
  params: Partial<Fault['params']> = {},
  targets: string[] = ['*'],
): Record<string, unknown> & { type: string } {
  return { type, targets, expiresAt: new Date(Date.now() + ms).toISOString(), params };
}
