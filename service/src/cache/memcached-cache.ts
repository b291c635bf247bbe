import type { ConnectionOptions } from 'node:tls';

import {
  circuitBreaker,
  CircuitState,
  ConsecutiveBreaker,
  handleAll,
  isBrokenCircuitError,
  isTaskCancelledError,
  timeout,
  TimeoutStrategy,
  wrap,
  type CircuitBreakerPolicy,
  type IPolicy,
} from 'cockatiel';
import type { FastifyBaseLogger } from 'fastify';
import { Client, Server } from 'memjs';

import type { Endpoint } from '../config';
import { attemptReach, type FailureOutcome } from '../dependencies/outcome';
import type { DependencyMetrics } from '../metrics/emf';

import { pickNode } from './rendezvous';
import { TlsServer } from './tls-server';

export interface MemcachedCacheOptions {
  readonly endpoints: readonly Endpoint[];
  /**
   * Bound on one cache call, connect included; a slower call is a miss.
   * @default 100
   */
  readonly operationTimeoutMs?: number;
  /**
   * Consecutive failures that open a node's breaker.
   * @default 3
   */
  readonly breakerFailures?: number;
  /**
   * How long an open breaker waits before letting one probe call through.
   * @default 5000
   */
  readonly halfOpenAfterMs?: number;
  /**
   * TLS settings for ElastiCache in-transit encryption.
   * @default - plain TCP
   */
  readonly tls?: ConnectionOptions;
  /**
   * The `cache-blackhole` fault: when it answers true, a call hangs until its timeout, as if the
   * node's packets were dropped.
   * @default - never
   */
  readonly blackholed?: () => boolean;
}

export type BreakerState = 'closed' | 'open' | 'half-open' | 'isolated';

interface CacheNode {
  readonly name: string;
  readonly client: Client;
  readonly breaker: CircuitBreakerPolicy;
  readonly policy: IPolicy;
}

type CacheLog = Pick<FastifyBaseLogger, 'info' | 'warn' | 'debug'>;

const BREAKER_STATES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

const silentLogger = { log: () => undefined };

/**
 * Cache-aside memcached over all nodes. A key lives on the node rendezvous hashing picks; each node
 * has its own timeout and circuit breaker, so a dead node costs one fast miss per call until a
 * probe finds it back. Every method resolves: an error or timeout is a miss, never a client error.
 */
export class MemcachedCache {
  private readonly nodes = new Map<string, CacheNode>();
  private readonly names: string[];
  private readonly blackholed: () => boolean;

  constructor(
    options: MemcachedCacheOptions,
    private readonly metrics: DependencyMetrics,
    private readonly log: CacheLog,
  ) {
    const timeoutMs = options.operationTimeoutMs ?? 100;
    this.blackholed = options.blackholed ?? (() => false);
    // memjs's own timeouts (seconds) sit above ours so it cleans up sockets after we have moved on.
    const serverOptions = {
      timeout: (2 * timeoutMs) / 1000,
      conntimeout: (2 * timeoutMs) / 1000,
      keepAlive: true,
      keepAliveDelay: 30,
    };
    for (const endpoint of options.endpoints) {
      const name = `${endpoint.host}:${endpoint.port}`;
      const server = options.tls
        ? new TlsServer(endpoint.host, endpoint.port, serverOptions, options.tls)
        : new Server(endpoint.host, endpoint.port, undefined, undefined, serverOptions);
      // retries: 1 is a single attempt; failover would move keys to other nodes behind our back.
      const client = new Client([server], { retries: 1, failover: false, logger: silentLogger });
      const breaker = circuitBreaker(handleAll, {
        halfOpenAfter: options.halfOpenAfterMs ?? 5000,
        breaker: new ConsecutiveBreaker(options.breakerFailures ?? 3),
      });
      breaker.onBreak(() => this.log.warn({ node: name }, 'memcached node breaker opened'));
      breaker.onHalfOpen(() => this.log.info({ node: name }, 'memcached node breaker probing'));
      breaker.onReset(() => this.log.info({ node: name }, 'memcached node breaker closed'));
      // Aggressive: memjs cannot be cancelled, so the caller stops waiting at the timeout. Nothing
      // reads the abort signal, so it is not fired after each call (that costs a DOMException).
      const policy = wrap(
        breaker,
        timeout(timeoutMs, { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false }),
      );
      this.nodes.set(name, { name, client, breaker, policy });
    }
    this.names = [...this.nodes.keys()];
  }

  /** The node that owns a key (`host:port`). */
  nodeFor(key: string): string {
    return pickNode(this.names, key);
  }

  /** The value, or undefined on a miss or any failure. */
  async get(key: string): Promise<string | undefined> {
    const value = await this.run('get', key, async (client) => (await client.get(key)).value);
    return value ? value.toString('utf8') : undefined;
  }

  /** True when stored. */
  async set(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    return (
      (await this.run('set', key, (client) => client.set(key, value, { expires: ttlSeconds }))) ??
      false
    );
  }

  /** True when the key is gone from its node (deleted or absent); false when the node failed. */
  async delete(key: string): Promise<boolean> {
    return (
      (await this.run('delete', key, async (client) => (await client.delete(key), true))) ?? false
    );
  }

  breakerStates(): Array<{ node: string; state: BreakerState }> {
    return [...this.nodes.values()].map((node) => ({
      node: node.name,
      state: BREAKER_STATES[node.breaker.state],
    }));
  }

  close(): void {
    for (const node of this.nodes.values()) node.client.close();
  }

  private async run<T>(
    operation: string,
    key: string,
    call: (client: Client) => Promise<T>,
  ): Promise<T | undefined> {
    const node = this.nodes.get(this.nodeFor(key));
    if (!node) return undefined;
    try {
      const result = await node.policy.execute(() =>
        this.blackholed() ? new Promise<T>(() => undefined) : call(node.client),
      );
      this.metrics.record('memcached', 'ok');
      return result;
    } catch (error) {
      const outcome = classifyCacheFailure(error);
      this.metrics.record('memcached', outcome);
      this.log.debug(
        { node: node.name, operation, outcome, err: String(error) },
        `memcached ${operation} failed: ${outcome}`,
      );
      return undefined;
    }
  }
}

export function classifyCacheFailure(error: unknown): FailureOutcome {
  if (isBrokenCircuitError(error)) return 'failed-before-send';
  if (isTaskCancelledError(error)) return 'unknown';
  if (error instanceof Error && /^MemJS /.test(error.message)) return 'fatal';
  return attemptReach(error) === 'not-sent' ? 'failed-before-send' : 'unknown';
}
