import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';

import { chooseRegion, type EdgeRegion } from '../../lib/edge-routing/geoproximity';

import type { RouterSettings } from './plan';
import { viewerOf } from './viewers';

/**
 * Route 53 in a box: string-match health checks on each region's load balancer, geoproximity
 * answers that each viewer's resolver keeps for the alias TTL, and a relay that sends each client
 * request to the region its viewer's cached answer names.
 *
 * The answers come from the blueprint's one routing rule, chooseRegion
 * (lib/edge-routing/geoproximity.ts), which the CloudFront Function on `/api/*` runs too: the
 * viewer's coordinates (the CloudFront-Viewer-Latitude/-Longitude headers the load sends), each
 * region's coordinates and bias, and each region's health as these checks see it. A request
 * without coordinates goes to the first region in list order that is healthy.
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
  /** Where the region is, and its geoproximity bias, as the edge sees it. */
  readonly latitude: number;
  readonly longitude: number;
  readonly bias: number;
}

export interface RouterEvent {
  readonly at: number;
  readonly kind: 'unhealthy' | 'healthy' | 'answer';
  readonly region: string;
  readonly detail: string;
  /** For answers: the simulated viewer the answer is for ('' for requests without one). */
  readonly viewer?: string;
}

/** A viewer as the router sees a request: its id and, if known, its coordinates. */
export interface RoutedViewer {
  readonly id: string;
  readonly location?: { latitude: number; longitude: number };
}

const ANONYMOUS: RoutedViewer = { id: '' };

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
  /** Each viewer's resolver cache. */
  private readonly cached = new Map<string, { region: RouterRegion; until: number }>();
  private readonly edgeRegions: readonly EdgeRegion[];

  /** @param regions in config order, the home region first */
  constructor(
    private readonly regions: readonly RouterRegion[],
    private readonly settings: RouterSettings,
  ) {
    this.edgeRegions = regions.map((region) => ({
      region: region.name,
      latitude: region.latitude,
      longitude: region.longitude,
      bias: region.bias,
      originId: region.name,
    }));
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

  /** The answer a viewer's resolver holds now, without refreshing it. */
  cachedAnswer(viewer = ''): string | undefined {
    return this.cached.get(viewer)?.region.name;
  }

  /**
   * The region a viewer is sent to now: its cached answer, refreshed by the shared rule once the
   * TTL has passed.
   */
  answer(now = Date.now(), viewer: RoutedViewer = ANONYMOUS): RouterRegion {
    const cached = this.cached.get(viewer.id);
    if (cached && now < cached.until) return cached.region;
    const decision = chooseRegion(viewer.location, this.edgeRegions, (name) =>
      this.isHealthy(name) ? 'healthy' : 'unhealthy',
    );
    const region =
      this.regions.find((candidate) => candidate.name === decision.region.region) ??
      this.regions[0];
    if (cached?.region.name !== region.name) {
      this.emit({
        at: now,
        kind: 'answer',
        region: region.name,
        detail: decision.reason,
        viewer: viewer.id,
      });
    }
    this.cached.set(viewer.id, { region, until: now + this.settings.aliasTtlMs });
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
    const region = this.answer(Date.now(), viewerOf(request.headers));
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
