import type { Writable } from 'node:stream';
import type { ConnectionOptions } from 'node:tls';

import type { FastifyInstance } from 'fastify';

import { createFastify, registerApp, type InboundLimits } from './app';
import {
  AwsCaller,
  createDynamoDbClient,
  createSsmClient,
  DEFAULT_AWS_TIMEOUTS,
  type AwsCallTimeouts,
} from './aws/clients';
import { NodeDiscovery } from './cache/auto-discovery';
import { MemcachedCache } from './cache/memcached-cache';
import type { ServiceConfig } from './config';
import { FaultPoller } from './faults/fault-poller';
import { FileFaultSource, SsmFaultSource, type FaultSource } from './faults/fault-sources';
import { FaultState } from './faults/fault-state';
import type { Readiness } from './health/readiness';
import { ResponseWindow, type ResponseWindowOptions } from './health/response-window';
import { faultTargetIds, type TaskIdentity } from './identity';
import type { IdempotencyOptions } from './items/applied-writes';
import { ItemCache } from './items/item-cache';
import { ItemsStore, SENTINEL_ID } from './items/items-store';
import { DependencyMetrics } from './metrics/emf';
import { RequestMetrics } from './metrics/request-metrics';

/** Knobs the environment does not expose; tests shrink them. Production uses the defaults. */
export interface ServiceTuning {
  readonly aws?: AwsCallTimeouts;
  readonly cacheOperationTimeoutMs?: number;
  readonly cacheBreakerFailures?: number;
  readonly cacheHalfOpenAfterMs?: number;
  /** TLS settings added to the defaults when MEMCACHED_TLS is true (e.g. a test CA). */
  readonly cacheTls?: ConnectionOptions;
  readonly selfEjection?: ResponseWindowOptions;
  readonly sentinelTimeoutMs?: number;
  readonly limits?: InboundLimits;
  readonly idempotency?: IdempotencyOptions;
  /**
   * The clock fault expiry, the self-ejection window and Idempotency-Key expiry read.
   * @default Date.now
   */
  readonly clock?: () => number;
  /**
   * How often the aggregated request and dependency-outcome metrics are written (one EMF line per
   * interval each, not one per request).
   * @default 10000
   */
  readonly metricsFlushIntervalMs?: number;
}

export interface ServiceOptions {
  readonly identity: TaskIdentity;
  readonly tuning?: ServiceTuning;
  /** Where log lines go. @default - stdout */
  readonly logStream?: Writable;
}

export interface Service {
  readonly app: FastifyInstance;
  readonly identity: TaskIdentity;
  readonly readiness: Readiness;
  readonly cache: MemcachedCache;
  /** Set when the nodes come from an ElastiCache configuration endpoint. */
  readonly discovery?: NodeDiscovery;
  readonly store: ItemsStore;
  readonly faults: FaultState;
  readonly faultPoller: FaultPoller;
  /** The request metrics; written every flush interval and at shutdown (tests flush at will). */
  readonly requestMetrics: RequestMetrics;
  /** Reads the faults, listens, and returns the URL it listens on. */
  start(): Promise<string>;
  /**
   * Graceful stop: readiness fails, the listener closes, in-flight requests finish within the
   * drain time (then open connections are cut), dependencies close. Resolves whether it drained.
   */
  stop(): Promise<{ drained: boolean }>;
}

/**
 * Wires the service from its config: clients, cache, stores, faults, health, routes. Nothing in
 * the wiring waits (the service connects in start()); the promise is kept for the callers.
 */
export function createService(config: ServiceConfig, options: ServiceOptions): Promise<Service> {
  const { identity } = options;
  const tuning = options.tuning ?? {};
  const app = createFastify(config, identity, {
    logStream: options.logStream,
    bodyLimitBytes: tuning.limits?.bodyLimitBytes,
  });
  const log = app.log;
  const metricsContext = { namespace: config.metricsNamespace, region: identity.region };
  const metrics = new DependencyMetrics(metricsContext, log);
  const requestMetrics = new RequestMetrics(metricsContext, log);
  const awsTimeouts = tuning.aws ?? DEFAULT_AWS_TIMEOUTS;
  const dynamoDb = createDynamoDbClient(config.region, awsTimeouts, config.dynamoDbEndpoint);
  const dynamoDbWrites = createDynamoDbClient(config.region, awsTimeouts, config.dynamoDbEndpoint, {
    sdkRetries: false,
  });
  const dynamoDbCaller = new AwsCaller('dynamodb', awsTimeouts, metrics, log);

  const clock = tuning.clock ?? Date.now;
  const faults = new FaultState(faultTargetIds(identity), clock, undefined, config.revisionFaults);
  const cache = new MemcachedCache(
    {
      endpoints: config.memcachedEndpoints,
      operationTimeoutMs: tuning.cacheOperationTimeoutMs,
      breakerFailures: tuning.cacheBreakerFailures,
      halfOpenAfterMs: tuning.cacheHalfOpenAfterMs,
      tls: config.memcachedTls ? (tuning.cacheTls ?? {}) : undefined,
      blackholed: () => faults.hit('cache-blackhole') !== undefined,
      ringChangeGraceMs: config.cacheTtlSeconds * 1000,
    },
    metrics,
    log,
  );
  const discovery = config.memcachedConfigEndpoint
    ? new NodeDiscovery({
        endpoint: config.memcachedConfigEndpoint,
        tls: config.memcachedTls ? (tuning.cacheTls ?? {}) : undefined,
        intervalMs: config.memcachedDiscoveryIntervalSeconds * 1000,
        apply: (nodes) => cache.setNodes(nodes),
        log,
      })
    : undefined;

  const ssm =
    config.faultsSource.kind === 'ssm-parameter'
      ? createSsmClient(config.region, awsTimeouts)
      : undefined;
  const faultSource: FaultSource =
    config.faultsSource.kind === 'ssm-parameter' && ssm
      ? new SsmFaultSource(
          ssm,
          config.faultsSource.name,
          new AwsCaller('ssm', awsTimeouts, metrics, log),
        )
      : new FileFaultSource(config.faultsSource.kind === 'file' ? config.faultsSource.path : '');
  const faultPoller = new FaultPoller(faultSource, faults, config.faultsPollSeconds * 1000, log);

  const store = new ItemsStore(
    { reads: dynamoDb, writes: dynamoDbWrites },
    config.tableName,
    dynamoDbCaller,
    tuning.idempotency,
    () => new Date(clock()),
  );
  const readiness = registerApp(app, {
    config,
    identity,
    store,
    itemCache: new ItemCache(cache, { ttlSeconds: config.cacheTtlSeconds }),
    cache,
    faults,
    window: new ResponseWindow(tuning.selfEjection, clock),
    requestMetrics,
    limits: tuning.limits,
    sentinelTimeoutMs: tuning.sentinelTimeoutMs,
  });

  // Runs after the server has drained (Fastify closes the listener first).
  app.addHook('onClose', (_instance, done) => {
    faultPoller.stop();
    discovery?.stop();
    readiness.close();
    cache.close();
    metrics.stop();
    requestMetrics.stop();
    dynamoDb.destroy();
    dynamoDbWrites.destroy();
    ssm?.destroy();
    done();
  });

  return Promise.resolve({
    app,
    identity,
    readiness,
    cache,
    discovery,
    store,
    faults,
    faultPoller,
    requestMetrics,
    async start() {
      await faultPoller.start();
      // Without a node list every cache call is a miss: the service still answers from DynamoDB,
      // and the next refresh tries again.
      await discovery?.start();
      const flushIntervalMs = tuning.metricsFlushIntervalMs ?? 10_000;
      metrics.start(flushIntervalMs);
      requestMetrics.start(flushIntervalMs);
      try {
        await store.ensure(SENTINEL_ID, { name: 'health sentinel', price: 0 });
      } catch {
        // Logged by the caller; readiness keeps trying, and reports it until it works.
      }
      const address = await app.listen({ port: config.port, host: config.host });
      log.info(
        {
          address,
          faults: faultSource.description,
          memcached: cache.nodeNames().length,
          ...(config.memcachedConfigEndpoint
            ? { memcachedDiscoveryVersion: discovery?.config?.version ?? null }
            : {}),
        },
        'service listening',
      );
      return address;
    },
    async stop() {
      readiness.shuttingDown = true;
      readiness.close();
      let drained = true;
      const drainMs = config.shutdownDrainSeconds * 1000;
      const deadline = setTimeout(() => {
        drained = false;
        log.warn({ drainMs }, 'drain time is up; closing the connections still open');
        app.server.closeAllConnections();
      }, drainMs);
      try {
        await app.close();
      } finally {
        clearTimeout(deadline);
      }
      return { drained };
    },
  });
}
