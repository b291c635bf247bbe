import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';

import type { RouterSettings } from './plan';

/**
 * Route 53 in a box: string-match health checks on each region's load balancer, geoproximity
 * answers (the nearest healthy region) that a resolver keeps for the alias TTL, and a relay that
 * sends each client request to the region its cached answer names.
 *
 * Health checks follow Route 53's documented HTTP(S)_STR_MATCH semantics: one request every
 * interval on a new connection; it passes when the connection opens within the connect timeout,
 * a 2xx or 3xx status arrives within the response timeout, and the token appears in the first
 * 5,120 bytes of the body. A healthy region becomes unhealthy after `failureThreshold`
 * consecutive failures, and healthy again after as many consecutive passes. When every region is
 * unhealthy, Route 53 answers as if all were healthy (it fails open).
 */

export interface RouterRegion {
  readonly name: string;
  /** The region's load balancer, e.g. http://127.0.0.1:port. */
  readonly url: string;
}

export interface RouterEvent {
  readonly at: number;
  readonly kind: 'unhealthy' | 'healthy' | 'answer';
  readonly region: string;
  readonly detail: string;
}

export interface CheckResult {
  readonly passed: boolean;
  readonly detail: string;
}

/** One Route 53 style string-match check. */
export function stringMatchCheck(url: string, settings: RouterSettings): Promise<CheckResult> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: CheckResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      clearTimeout(responseTimer);
      request.destroy();
      resolve(result);
    };
    let responseTimer: NodeJS.Timeout | undefined;
    const request = httpRequest(`${url}/health/ready`, { agent: false });
    const connectTimer = setTimeout(
      () =>
        finish({ passed: false, detail: `no connection within ${settings.connectTimeoutMs} ms` }),
      settings.connectTimeoutMs,
    );
    request.on('socket', (socket) => {
      socket.once('connect', () => {
        clearTimeout(connectTimer);
        responseTimer = setTimeout(
          () =>
            finish({ passed: false, detail: `no answer within ${settings.responseTimeoutMs} ms` }),
          settings.responseTimeoutMs,
        );
      });
    });
    request.on('error', (error: NodeJS.ErrnoException) =>
      finish({ passed: false, detail: error.code ?? error.message }),
    );
    request.on('response', (response) => {
      const status = response.statusCode ?? 0;
      if (status < 200 || status >= 400) {
        finish({ passed: false, detail: `status ${status}` });
        return;
      }
      let body = Buffer.alloc(0);
      const decide = () => {
        const searched = body.subarray(0, settings.searchBytes).toString('utf8');
        finish(
          searched.includes(settings.token)
            ? { passed: true, detail: `status ${status}, token found` }
            : {
                passed: false,
                detail: `status ${status}, token not in the first ${settings.searchBytes} bytes (${body.length} bytes read)`,
              },
        );
      };
      response.on('data', (chunk: Buffer) => {
        body = Buffer.concat([body, chunk]);
        if (body.length >= settings.searchBytes) decide();
      });
      response.on('end', decide);
      response.on('error', decide);
    });
    request.end();
  });
}

interface RegionHealth {
  healthy: boolean;
  failures: number;
  passes: number;
  lastDetail: string;
}

export class GeoRouter {
  readonly events: RouterEvent[] = [];
  private readonly health = new Map<string, RegionHealth>();
  private readonly agents = new Map<string, Agent>();
  private readonly listeners: Array<(event: RouterEvent) => void> = [];
  private server?: Server;
  private timer?: NodeJS.Timeout;
  private checking = false;
  private cached?: { region: RouterRegion; until: number };

  /** @param regions nearest first, as geoproximity ranks them for these clients */
  constructor(
    private readonly regions: readonly RouterRegion[],
    private readonly settings: RouterSettings,
  ) {
    for (const region of regions) {
      this.health.set(region.name, { healthy: true, failures: 0, passes: 0, lastDetail: '' });
      this.agents.set(region.name, new Agent({ keepAlive: true, maxSockets: 64 }));
    }
  }

  onEvent(listener: (event: RouterEvent) => void): void {
    this.listeners.push(listener);
  }

  isHealthy(region: string): boolean {
    return this.health.get(region)?.healthy ?? false;
  }

  /** The answer resolvers hold now, without refreshing it. */
  cachedAnswer(): string | undefined {
    return this.cached?.region.name;
  }

  /** The region clients are sent to now: the cached answer, refreshed once the TTL has passed. */
  answer(now = Date.now()): RouterRegion {
    if (this.cached && now < this.cached.until) return this.cached.region;
    const healthy = this.regions.filter((region) => this.isHealthy(region.name));
    // Route 53 fails open: with no healthy record it answers as if every record were healthy.
    const region = healthy[0] ?? this.regions[0];
    if (this.cached?.region.name !== region.name) {
      this.emit({
        at: now,
        kind: 'answer',
        region: region.name,
        detail:
          healthy.length === 0
            ? 'no region is healthy: failing open to the nearest'
            : `nearest healthy region`,
      });
    }
    this.cached = { region, until: now + this.settings.aliasTtlMs };
    return region;
  }

  /** Listens on 127.0.0.1:`port` and starts the health checks. */
  async start(port: number): Promise<string> {
    this.server = createServer((request, response) => this.relay(request, response));
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(port, '127.0.0.1', () => resolve());
    });
    this.timer = setInterval(() => void this.checkAll(), this.settings.intervalMs);
    return `http://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    for (const agent of this.agents.values()) agent.destroy();
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** One round of checks (exposed so a caller can run one without waiting for the interval). */
  async checkAll(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      await Promise.all(
        this.regions.map(async (region) => {
          const result = await stringMatchCheck(region.url, this.settings);
          this.record(region.name, result);
        }),
      );
    } finally {
      this.checking = false;
    }
  }

  private record(name: string, result: CheckResult): void {
    const state = this.health.get(name);
    if (!state) return;
    state.lastDetail = result.detail;
    if (result.passed) {
      state.passes += 1;
      state.failures = 0;
    } else {
      state.failures += 1;
      state.passes = 0;
    }
    const threshold = this.settings.failureThreshold;
    if (state.healthy && state.failures >= threshold) {
      state.healthy = false;
      this.emit({
        at: Date.now(),
        kind: 'unhealthy',
        region: name,
        detail: `${threshold} checks failed: ${result.detail}`,
      });
    } else if (!state.healthy && state.passes >= threshold) {
      state.healthy = true;
      this.emit({
        at: Date.now(),
        kind: 'healthy',
        region: name,
        detail: `${threshold} checks passed`,
      });
    }
  }

  private emit(event: RouterEvent): void {
    this.events.push(event);
    for (const listener of this.listeners) listener(event);
  }

  private relay(request: IncomingMessage, response: ServerResponse): void {
    const region = this.answer();
    const target = new URL(request.url ?? '/', region.url);
    const upstream = httpRequest(
      target,
      {
        method: request.method,
        headers: request.headers,
        agent: this.agents.get(region.name),
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, {
          ...answer.headers,
          'x-region': region.name,
        });
        answer.pipe(response);
      },
    );
    upstream.on('error', () => {
      if (response.headersSent) {
        response.destroy();
        return;
      }
      response.writeHead(502, { 'content-type': 'application/json', 'x-region': region.name });
      response.end(JSON.stringify({ error: 'bad_gateway', message: `${region.name} unreachable` }));
    });
    request.pipe(upstream);
  }
}
