import { Agent, request as httpRequest } from 'node:http';

import type { FastifyInstance } from 'fastify';

import type { MemcachedCache } from '../cache/memcached-cache';
import type { FaultState } from '../faults/fault-state';
import type { TaskIdentity } from '../identity';
import { SENTINEL_ID, type ItemsStore } from '../items/items-store';

import type { ResponseWindow } from './response-window';

export interface ReadinessOptions {
  /** Found literally in every 200 body: Route 53 and the container health check search for it. */
  readonly token: string;
  readonly defaultToken: string;
  /**
   * Longest the sentinel read may take.
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
  readonly isUnderPressure: () => boolean;
}

export interface ReadinessResult {
  readonly ready: boolean;
  /** JSON; when ready it contains the token. */
  readonly body: string;
}

/**
 * The deep readiness check. Ready means: not shutting down, not overloaded, no `health-fail`
 * fault, not self-ejected (too many zero-length or malformed responses in the window), and a
 * sentinel item read through the real route pipeline (an HTTP request to itself over loopback)
 * answers 200 with a non-empty, well-formed body. Concurrent checks share one run.
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
    if (this.deps.isUnderPressure()) reasons.push('overloaded');
    if (this.deps.faults.hit('health-fail')) reasons.push('fault: health-fail');
    const window = this.deps.window.stats();
    if (window.ejected) {
      reasons.push(
        `self-ejected: ${window.bad} of ${window.total} responses in the last ${window.windowSeconds}s were zero-length or malformed`,
      );
    }
    if (!this.shuttingDown) {
      const sentinelProblem = await this.readSentinel();
      if (sentinelProblem) reasons.push(sentinelProblem);
    }
    const details = { ...this.details(), window: { total: window.total, bad: window.bad } };
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

  /** Undefined when the sentinel read is healthy, else what is wrong with it. */
  private async readSentinel(): Promise<string | undefined> {
    let response: SelfResponse;
    try {
      response = await this.get(`/api/items/${SENTINEL_ID}`);
    } catch (error) {
      return `sentinel read failed: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (response.statusCode === 404) {
      // First start against an empty table, or someone removed it: put it back for next time.
      try {
        await this.deps.store.ensure(SENTINEL_ID, { name: 'health sentinel', price: 0 });
        return 'sentinel item was missing (recreated)';
      } catch {
        return 'sentinel item is missing and cannot be recreated';
      }
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
