import { Agent, request as httpRequest } from 'node:http';

import type { FastifyInstance } from 'fastify';

import type { MemcachedCache } from '../cache/memcached-cache';
import type { FaultState } from '../faults/fault-state';
import type { TaskIdentity } from '../identity';
import { SENTINEL_ID, type ItemsStore } from '../items/items-store';

import type { LoadShedder } from './load-shedder';
import type { ResponseWindow } from './response-window';

export interface ReadinessOptions {
  /** Found literally in every 200 body: Route 53 and the container health check search for it. */
  readonly token: string;
  readonly defaultToken: string;
  /**
   * Longest each sentinel read (from DynamoDB, and through the API) may take.
   * @default 2000
   */
  readonly sentinelTimeoutMs?: number;
  /** Header that marks the sentinel read as the probe's own (name and per-process secret). */
  readonly probeHeader: { readonly name: string; readonly value: string };
}

export interface ReadinessDependencies {
  readonly app: FastifyInstance;
  readonly identity: TaskIdentity;
  readonly faults: FaultState;
  readonly window: ResponseWindow;
  readonly cache: MemcachedCache;
  readonly store: ItemsStore;
  /** Reported in the body only: being busy never fails readiness. */
  readonly shedder: LoadShedder;
}

export interface ReadinessResult {
  readonly ready: boolean;
  /** JSON; when ready it contains the token. */
  readonly body: string;
}

/**
 * The deep readiness check, for the load balancer (the container health check is liveness only).
 * Ready means: not shutting down, no `health-fail` fault, not self-ejected (see ResponseWindow),
 * the sentinel item read from DynamoDB directly (never through the cache, so an outage shows at
 * the next check, not after the cache TTL), and the same item read through the real API pipeline
 * (an HTTP request to itself over loopback) answers 200 with a non-empty, well-formed body. The
 * two reads run in parallel, each bounded by `sentinelTimeoutMs`. Being busy or shedding load
 * never fails it. Concurrent checks share one run.
 */
export class Readiness {
  shuttingDown = false;
  private running: Promise<ReadinessResult> | undefined;
  private readonly sentinelTimeoutMs: number;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });

  constructor(
    private readonly deps: ReadinessDependencies,
    private readonly options: ReadinessOptions,
  ) {
    this.sentinelTimeoutMs = options.sentinelTimeoutMs ?? 2000;
  }

  check(): Promise<ReadinessResult> {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async run(): Promise<ReadinessResult> {
    const reasons: string[] = [];
    if (this.shuttingDown) reasons.push('shutting-down');
    if (this.deps.faults.hit('health-fail')) reasons.push('fault: health-fail');
    const window = this.deps.window.stats();
    if (window.reason) reasons.push(window.reason);
    if (!this.shuttingDown) {
      const problems = await Promise.all([this.readTable(), this.readSentinel()]);
      for (const problem of problems) if (problem) reasons.push(problem);
    }
    const load = this.deps.shedder.verdict();
    const details = {
      ...this.details(),
      window: { state: window.state, total: window.total, bad: window.bad },
      load: { shedding: load.shedding, reasons: load.reasons },
    };
    if (reasons.length > 0) {
      return { ready: false, body: JSON.stringify({ status: 'unavailable', reasons, ...details }) };
    }
    // `status` comes first, so the default token `"status":"ready"` opens the body.
    const token =
      this.options.token === this.options.defaultToken ? {} : { token: this.options.token };
    return { ready: true, body: JSON.stringify({ status: 'ready', ...token, ...details }) };
  }

  private details() {
    const { identity, faults, cache } = this.deps;
    const breakers = cache.breakerStates();
    return {
      taskId: identity.taskId,
      availabilityZone: identity.availabilityZone,
      region: identity.region,
      version: identity.version,
      activeFaults: faults.active().map((fault) => fault.type),
      cache: {
        nodes: breakers.length,
        unavailable: breakers.filter((breaker) => breaker.state !== 'closed').length,
      },
    };
  }

  /**
   * Undefined when the sentinel item reads from DynamoDB itself, else what is wrong. Not through
   * the cache: a cached copy would hide an outage for the whole TTL.
   */
  private async readTable(): Promise<string | undefined> {
    let found: boolean;
    try {
      found =
        (await withTimeout(this.deps.store.get(SENTINEL_ID), this.sentinelTimeoutMs)) !== undefined;
    } catch (error) {
      return `DynamoDB sentinel read failed: ${clip(error instanceof Error ? error.message : String(error))}`;
    }
    if (found) return undefined;
    // First start against an empty table, or someone removed it: put it back for next time.
    try {
      await this.deps.store.ensure(SENTINEL_ID, { name: 'health sentinel', price: 0 });
      return 'sentinel item was missing (recreated)';
    } catch {
      return 'sentinel item is missing and cannot be recreated';
    }
  }

  /** Undefined when the sentinel read through the API is healthy, else what is wrong with it. */
  private async readSentinel(): Promise<string | undefined> {
    let response: SelfResponse;
    try {
      response = await this.get(`/api/items/${SENTINEL_ID}`);
    } catch (error) {
      return `sentinel read failed: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (response.statusCode !== 200) return `sentinel read answered ${response.statusCode}`;
    if (response.body.length === 0) return 'sentinel read answered an empty body';
    if (!isSentinelBody(response.body)) return 'sentinel read answered a malformed body';
    return undefined;
  }

  /**
   * A real HTTP request to this server over loopback: the sentinel read goes through the socket,
   * the HTTP parser, every hook and the route, exactly as client requests do.
   */
  private get(path: string): Promise<SelfResponse> {
    const address = this.deps.app.server.address();
    if (address === null || typeof address === 'string') {
      return Promise.reject(new Error('the server is not listening'));
    }
    const host = LOOPBACK[address.address] ?? address.address;
    return new Promise((resolve, reject) => {
      const request = httpRequest(
        {
          host,
          port: address.port,
          path,
          agent: this.agent,
          timeout: this.sentinelTimeoutMs,
          headers: { [this.options.probeHeader.name]: this.options.probeHeader.value },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({
              statusCode: response.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          response.on('error', reject);
        },
      );
      request.on('timeout', () =>
        request.destroy(new Error(`no answer within ${this.sentinelTimeoutMs}ms`)),
      );
      request.on('error', reject);
      request.end();
    });
  }

  /** Closes the probe's keep-alive connection (on shutdown). */
  close(): void {
    this.agent.destroy();
  }
}

interface SelfResponse {
  readonly statusCode: number;
  readonly body: string;
}

function clip(message: string): string {
  return message.length > 200 ? `${message.slice(0, 197)}...` : message;
}

/** Rejects when the promise has not settled within `ms` (the call itself runs on to its deadline). */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms}ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A wildcard listener is reached over loopback. */
const LOOPBACK: Readonly<Record<string, string>> = { '0.0.0.0': '127.0.0.1', '::': '::1' };

function isSentinelBody(body: string): boolean {
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    return (
      parsed.id === SENTINEL_ID &&
      typeof parsed.name === 'string' &&
      typeof parsed.version === 'number' &&
      typeof parsed.updatedAt === 'string'
    );
  } catch {
    return false;
  }
}
