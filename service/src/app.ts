import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Writable } from 'node:stream';

import Fastify, {
  LogController,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';

import './fastify-types';
import { AccessLogPolicy } from './access-log';
import type { MemcachedCache } from './cache/memcached-cache';
import { DEFAULT_HEALTH_TOKEN, type ServiceConfig } from './config';
import { DependencyError } from './dependencies/outcome';
import { handleError, HttpError } from './errors';
import { registerFaultHooks } from './faults/fault-hooks';
import type { FaultState } from './faults/fault-state';
import { LoadShedder, ProcessSampler, type PressureSampler } from './health/load-shedder';
import { Readiness } from './health/readiness';
import { registerResponseGuard } from './health/response-guard';
import type { ResponseWindow } from './health/response-window';
import type { TaskIdentity } from './identity';
import type { ItemCache } from './items/item-cache';
import type { ItemsStore } from './items/items-store';
import { registerStrictJsonParser } from './json-body';
import { createLogDestination } from './log-destination';
import type { RequestMetrics } from './metrics/request-metrics';
import { ClientRateLimiter, registerRateLimit } from './rate-limit';
import { requestLoggerFactory } from './request-logger';
import { registerHealthRoutes } from './routes/health';
import { registerItemRoutes } from './routes/items';
import { registerWhoamiRoute } from './routes/whoami';

/** Limits on inbound work. Tests shrink them; production uses the defaults. */
export interface InboundLimits {
  /**
   * Largest request body.
   * @default 16384
   */
  readonly bodyLimitBytes?: number;
  /**
   * Mean event-loop delay at or above which API requests are shed with 503.
   * @default 500
   */
  readonly maxEventLoopDelayMs?: number;
  /**
   * Heap use at or above which API requests are shed with 503.
   * @default - 90% of the V8 heap limit
   */
  readonly maxHeapUsedBytes?: number;
  /**
   * Resident set size at or above which API requests are shed with 503.
   * @default - 90% of the container's memory limit when the process can see one, else no limit
   */
  readonly maxRssBytes?: number;
  /**
   * How often pressure is sampled.
   * @default 1000
   */
  readonly pressureSampleIntervalMs?: number;
  /**
   * Where pressure samples come from (tests inject overload).
   * @default - the process: event-loop delay histogram, V8 heap, RSS
   */
  readonly pressureSampler?: PressureSampler;
}

/**
 * Builds the Fastify instance with its logger; the dependencies are created with its log.
 * Without a `logStream`, lines go to stdout in batches (log-destination.ts), written at close.
 */
export function createFastify(
  config: ServiceConfig,
  identity: TaskIdentity,
  options: { logStream?: Writable; bodyLimitBytes?: number } = {},
): FastifyInstance {
  const stdout = options.logStream ? undefined : createLogDestination();
  const app = Fastify({
    logger: {
      level: config.logLevel,
      base: {
        taskId: identity.taskId,
        region: identity.region,
        availabilityZone: identity.availabilityZone,
        version: identity.version,
      },
      stream: options.logStream ?? stdout?.stream,
    },
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'reqId' }),
    // Each request's child logger is built at its first line (request-logger.ts).
    childLoggerFactory: requestLoggerFactory,
    requestIdHeader: false,
    genReqId: requestId,
    bodyLimit: options.bodyLimitBytes ?? 16 * 1024,
    // Trust the X-Forwarded-For entries the nearest proxies added (the ALB's), not the client's.
    trustProxy: (_address, hop) => hop < config.trustProxyHops,
    // Longer than the ALB idle timeout (60 s), so the ALB, not the service, closes idle connections.
    keepAliveTimeout: 65_000,
    requestTimeout: 30_000,
    return503OnClosing: true,
    // Errors the router raises before any hook runs (a broken URL, an over-long parameter).
    frameworkErrors: (error, request, reply) => {
      void reply.header('x-request-id', request.id);
      handleError(error, request, reply);
    },
    // Request bodies are validated strictly: no type coercion, unknown fields rejected.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  });
  if (stdout) {
    app.addHook('onClose', (_instance, done) => {
      stdout.close();
      done();
    });
  }
  return app;
}

/** A caller's X-Request-Id when it looks like an id, else a new UUID. */
function requestId(request: IncomingMessage): string {
  const header = request.headers['x-request-id'];
  return typeof header === 'string' && /^[A-Za-z0-9._:-]{8,128}$/.test(header)
    ? header
    : randomUUID();
}

export interface AppDependencies {
  readonly config: ServiceConfig;
  readonly identity: TaskIdentity;
  readonly store: ItemsStore;
  readonly itemCache: ItemCache;
  readonly cache: MemcachedCache;
  readonly faults: FaultState;
  readonly window: ResponseWindow;
  /** Where each API request's metrics are aggregated (written as EMF every flush interval). */
  readonly requestMetrics: RequestMetrics;
  readonly limits?: InboundLimits;
  /**
   * Longest the readiness sentinel read may take.
   * @default 2000
   */
  readonly sentinelTimeoutMs?: number;
}

const PROBE_HEADER = 'x-readiness-probe';

/** What a response without a measured body (a stream, or none at all) counts as. */
const NO_BODY_CHECK = { bytes: 0, zeroLength: false, malformed: false } as const;

function isHealthRoute(url: string): boolean {
  return url.startsWith('/health/');
}

/**
 * Whether a response is evidence of how this task serves its API, for self-ejection: a response
 * of a matched API route, not the readiness probe's own read, not 429 (the rate limiter answers
 * without the API) and not shed. Health routes, static paths and 404s for unknown paths (a
 * client asking for /favicon.ico) say nothing about the API, and must not hide a broken one.
 */
function countsForSelfEjection(request: FastifyRequest, reply: FastifyReply): boolean {
  // A matched route (not 404) whose path is under /api/: every API route is, and no other route
  // is. Not `request.routeOptions`, which builds a new object of twelve fields on every read.
  return (
    !request.isProbe &&
    !request.shed &&
    !request.is404 &&
    request.url.startsWith('/api/') &&
    reply.statusCode !== 429
  );
}

/**
 * Public, read-only endpoints the static site reads from another origin (its own CloudFront name,
 * or `www.` against `api.`). Plain GETs need no preflight, so one header is all CORS asks; it is
 * set on every answer, 503 readiness included, so the page can show why a region is down.
 */
const CROSS_ORIGIN_READABLE = new Set(['/api/whoami', '/health/ready']);

/**
 * Registers the plugins, hooks and routes, in the order that matters: probe marking, load
 * shedding, rate limiting, faults, then the response guard last among onSend hooks.
 */
export function registerApp(app: FastifyInstance, deps: AppDependencies): Readiness {
  const { config, identity, faults, window } = deps;
  const limits = deps.limits ?? {};
  const probe = { name: PROBE_HEADER, value: randomBytes(16).toString('hex') };

  app.decorateRequest('isProbe', false);
  app.decorateRequest('responseCheck', undefined);
  app.decorateRequest('cacheOutcome', undefined);
  app.decorateRequest('bodyKnownJson', false);
  app.decorateRequest('guardBypassed', false);
  app.decorateRequest('guardReplaced', false);
  app.decorateRequest('shed', false);
  app.removeContentTypeParser('text/plain');
  registerStrictJsonParser(app);
  app.setErrorHandler((error, request, reply) => {
    if (error instanceof DependencyError) {
      // The dependency is down or slow: the client may retry, here or in another region.
      handleError(
        new HttpError(503, 'dependency_unavailable', 'a dependency is unavailable; retry later', {
          'retry-after': '1',
        }),
        request,
        reply,
      );
      return;
    }
    handleError(error, request, reply);
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({
      error: 'not_found',
      message: `no route for ${request.method} ${request.url.slice(0, 200)}`,
      requestId: request.id,
    });
  });

  // Callback-style hooks on the request path: an async hook costs a promise per request. The
  // debug line's fields are not even built when debug lines are not written.
  const debugLogged = ['debug', 'trace'].includes(app.log.level);
  app.addHook('onRequest', (request, reply, done) => {
    request.isProbe = request.headers[PROBE_HEADER] === probe.value;
    void reply.header('x-request-id', request.id);
    const query = request.url.indexOf('?');
    if (CROSS_ORIGIN_READABLE.has(query < 0 ? request.url : request.url.slice(0, query))) {
      void reply.header('access-control-allow-origin', '*');
    }
    if (debugLogged) {
      request.log.debug({ method: request.method, url: request.url }, 'request received');
    }
    done();
  });

  let sampler = limits.pressureSampler;
  let closeSampler = (): void => undefined;
  if (!sampler) {
    const processSampler = new ProcessSampler();
    sampler = processSampler.sample;
    closeSampler = () => processSampler.close();
  }
  const shedder = new LoadShedder(
    {
      maxEventLoopDelayMs: limits.maxEventLoopDelayMs,
      maxHeapUsedBytes: limits.maxHeapUsedBytes,
      maxRssBytes: limits.maxRssBytes,
      sampleIntervalMs: limits.pressureSampleIntervalMs,
    },
    sampler,
  );
  shedder.start();
  app.addHook('onClose', (_instance, done) => {
    shedder.stop();
    closeSampler();
    done();
  });

  const readiness = new Readiness(
    {
      app,
      identity,
      faults,
      window,
      cache: deps.cache,
      store: deps.store,
      shedder,
    },
    {
      token: config.healthToken,
      defaultToken: DEFAULT_HEALTH_TOKEN,
      probeHeader: probe,
      sentinelTimeoutMs: deps.sentinelTimeoutMs,
    },
  );

  // Health routes and the readiness probe's own read are never shed: liveness must not fail
  // under load (ECS would replace a busy task), and readiness must not either (the balancer
  // would push the load onto the other tasks).
  app.addHook('onRequest', (request, _reply, done) => {
    if (isHealthRoute(request.url) || request.isProbe || !shedder.verdict().shedding) {
      done();
      return;
    }
    request.shed = true;
    done(
      new HttpError(503, 'overloaded', 'the service is overloaded; retry later', {
        'retry-after': '5',
      }),
    );
  });

  registerRateLimit(
    app,
    new ClientRateLimiter({ max: config.rateLimitPerMinute, windowMs: 60_000 }),
    (request) => request.isProbe || isHealthRoute(request.url),
  );

  registerFaultHooks(app, faults);

  // Last among onSend hooks: measures every response as sent (after any fault), so self-ejection
  // sees what clients would see, and replaces a known-bad API body unless a fault bypasses it.
  registerResponseGuard(app);

  const metrics = deps.requestMetrics;
  const accessLog = new AccessLogPolicy({
    sampleEvery: config.accessLogSampleEvery,
    slowMs: config.accessLogSlowMs,
  });
  app.addHook('onResponse', (request, reply, done) => {
    if (request.isProbe || isHealthRoute(request.url)) {
      done();
      return;
    }
    const check = request.responseCheck ?? NO_BODY_CHECK;
    const bad = check.zeroLength || check.malformed;
    if (countsForSelfEjection(request, reply)) window.record(bad);
    const status = reply.statusCode;
    const latencyMs = reply.elapsedTime;
    metrics.record({
      latencyMs,
      responseBytes: check.bytes,
      statusCode: status,
      zeroLength: check.zeroLength,
      malformed: check.malformed,
      guarded: request.guardReplaced,
      shed: request.shed,
      cache: request.cacheOutcome,
    });
    // Every request is counted above; the line is for the ones worth reading (access-log.ts).
    if (!accessLog.shouldLog({ statusCode: status, latencyMs, bad, shed: request.shed })) {
      done();
      return;
    }
    const fields = {
      method: request.method,
      url: request.url.slice(0, 300),
      route: request.routeOptions.url,
      statusCode: status,
      latencyMs: Math.round(latencyMs * 100) / 100,
      responseBytes: check.bytes,
      traceId: request.headers['x-amzn-trace-id'],
      cache: request.cacheOutcome,
    };
    if (bad) {
      const what = check.zeroLength ? 'zero-length response' : 'malformed response';
      request.log.warn(
        { ...fields, guardReplaced: request.guardReplaced },
        request.guardReplaced ? `${what} replaced by the guard` : what,
      );
    } else {
      request.log.info(fields, 'request completed');
    }
    done();
  });

  registerHealthRoutes(app, readiness);
  registerWhoamiRoute(app, identity);
  registerItemRoutes(app, {
    store: deps.store,
    cache: deps.itemCache,
  });
  return readiness;
}
