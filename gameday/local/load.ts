import { randomUUID } from 'node:crypto';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';

import { viewerHeaders, type SimulatedViewer } from './viewers';

/**
 * Steady client load: an open-loop generator that sends requests at a fixed rate, evenly spaced
 * (three reads of seeded items for every idempotent write: a PUT with an Idempotency-Key), over
 * keep-alive connections. Like many independent users, a slow answer does not hold the next
 * request back: each request in flight may have a connection of its own (up to `maxInFlight`).
 * Each request is timed from when it was due. Every response is recorded with its latency, status, whether its body was
 * empty, and who answered; a request cut off without an answer is recorded as a failure. Every
 * acknowledged write is kept for the read-back at the end.
 *
 * (autocannon was the first choice; it neither reports a request whose keep-alive connection is
 * closed before the answer, which is exactly what a crashing target does, nor clears it from its
 * queue, so every later latency on that connection is off by one request.)
 */

export interface Sample {
  /** When the response (or the error) arrived, ms since the epoch. */
  readonly at: number;
  /** When the request was due to be sent. */
  readonly sentAt: number;
  readonly latencyMs: number | null;
  readonly kind: 'read' | 'write';
  /** 0 when no HTTP answer came (connection error, cut-off or client timeout). */
  readonly status: number;
  /** 2xx with a non-empty JSON body. */
  readonly ok: boolean;
  readonly zeroLength: boolean;
  /** HAProxy's x-served-by: the target (AZ) that answered. */
  readonly target?: string;
  /** The router's x-region, when a router is in front. */
  readonly region?: string;
  /** The simulated viewer the request came from, when the load has viewers. */
  readonly viewer?: string;
  readonly cache?: 'HIT' | 'MISS';
  /** The service's x-fault-injected header. */
  readonly fault?: string;
  readonly error?: string;
}

export interface AcknowledgedWrite {
  readonly id: string;
  readonly name: string;
  readonly price: number;
  readonly version: number;
  readonly at: number;
}

export interface LoadOptions {
  readonly url: string;
  /** Requests per second. */
  readonly rate: number;
  /** Requests in flight at most (each may hold a connection); beyond it a request fails at once. */
  readonly maxInFlight: number;
  readonly timeoutSeconds: number;
  /** Upper bound on the run; stop() normally ends it sooner. */
  readonly maxSeconds: number;
  readonly itemIds: readonly string[];
  /** Prefix of the ids written, unique per run. */
  readonly writePrefix: string;
  /**
   * Places the requests come from, in turn, each with CloudFront's viewer-location headers.
   * @default - no viewer headers: every request is placed nowhere
   */
  readonly viewers?: readonly SimulatedViewer[];
}

function single(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function parseJson(body: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'object' && parsed !== null
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

interface Planned {
  readonly kind: Sample['kind'];
  readonly viewer?: string;
  readonly method: 'GET' | 'PUT';
  readonly path: string;
  readonly body?: string;
  readonly headers: Record<string, string>;
  readonly write?: { id: string; name: string; price: number };
}

export class Load {
  readonly samples: Sample[] = [];
  readonly acknowledged: AcknowledgedWrite[] = [];
  private readonly agent: Agent;
  private readonly inFlight = new Set<Promise<void>>();
  private ticker?: NodeJS.Timeout;
  private deadline?: NodeJS.Timeout;
  private startedAt = 0;
  private issued = 0;
  private writes = 0;

  constructor(private readonly options: LoadOptions) {
    this.agent = new Agent({ keepAlive: true, maxSockets: options.maxInFlight });
  }

  start(): void {
    this.startedAt = Date.now();
    // A 10 ms tick sends whatever has come due, so the rate holds even when a tick is late.
    this.ticker = setInterval(() => this.tick(), 10);
    this.deadline = setTimeout(() => clearInterval(this.ticker), this.options.maxSeconds * 1000);
    this.tick();
  }

  /** Stops sending; resolves once every request in flight has ended, and closes the connections. */
  async stop(): Promise<void> {
    clearInterval(this.ticker);
    clearTimeout(this.deadline);
    await Promise.all([...this.inFlight]);
    this.agent.destroy();
  }

  private tick(): void {
    const due = Math.floor(((Date.now() - this.startedAt) * this.options.rate) / 1000) + 1;
    // The bound on requests in flight keeps a stalled target from growing memory without limit.
    const limit = this.options.maxInFlight;
    while (this.issued < due) {
      const sentAt = this.startedAt + (this.issued * 1000) / this.options.rate;
      const planned = this.plan(this.issued);
      this.issued += 1;
      if (this.inFlight.size >= limit) {
        this.record(planned, sentAt, { status: 0, error: 'client saturated (too many in flight)' });
        continue;
      }
      const pending = this.send(planned, sentAt);
      this.inFlight.add(pending);
      void pending.finally(() => this.inFlight.delete(pending));
    }
  }

  private plan(index: number): Planned {
    const viewers = this.options.viewers ?? [];
    const viewer = viewers.length > 0 ? viewers[index % viewers.length] : undefined;
    const from = viewer ? { viewer: viewer.id } : {};
    const located = viewer ? viewerHeaders(viewer) : {};
    if (index % 4 === 3) {
      this.writes += 1;
      const id = `${this.options.writePrefix}-${this.writes}`;
      const write = { id, name: `Game-day item ${this.writes}`, price: this.writes };
      return {
        kind: 'write',
        ...from,
        method: 'PUT',
        path: `/api/items/${id}`,
        body: JSON.stringify({ name: write.name, price: write.price }),
        headers: {
          ...located,
          'content-type': 'application/json',
          'idempotency-key': randomUUID(),
        },
        write,
      };
    }
    const ids = this.options.itemIds;
    return {
      kind: 'read',
      ...from,
      method: 'GET',
      path: `/api/items/${ids[index % ids.length]}`,
      headers: located,
    };
  }

  private send(planned: Planned, sentAt: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let done = false;
      const finish = (outcome: Parameters<Load['record']>[2]) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.record(planned, sentAt, outcome);
        resolve();
      };
      const request = httpRequest(new URL(planned.path, this.options.url), {
        method: planned.method,
        headers: planned.body
          ? { ...planned.headers, 'content-length': Buffer.byteLength(planned.body) }
          : planned.headers,
        agent: this.agent,
      });
      const timer = setTimeout(
        () => request.destroy(new Error(`no answer within ${this.options.timeoutSeconds} s`)),
        this.options.timeoutSeconds * 1000,
      );
      request.on('error', (error: NodeJS.ErrnoException) =>
        finish({ status: 0, error: error.code ?? error.message }),
      );
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (error: NodeJS.ErrnoException) =>
          finish({ status: 0, error: error.code ?? error.message }),
        );
        response.on('end', () =>
          finish({
            status: response.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            headers: response.headers,
          }),
        );
      });
      request.end(planned.body);
    });
  }

  private record(
    planned: Planned,
    sentAt: number,
    outcome: {
      readonly status: number;
      readonly body?: string;
      readonly headers?: IncomingHttpHeaders;
      readonly error?: string;
    },
  ): void {
    const at = Date.now();
    const headers = outcome.headers ?? {};
    const body = outcome.body ?? '';
    const json = body.length > 0 ? parseJson(body) : undefined;
    const ok = outcome.status >= 200 && outcome.status < 300 && json !== undefined;
    const cache = single(headers, 'x-cache');
    this.samples.push({
      at,
      sentAt,
      latencyMs: outcome.error === undefined ? at - sentAt : null,
      kind: planned.kind,
      status: outcome.status,
      ok,
      zeroLength: outcome.error === undefined && body.length === 0,
      target: single(headers, 'x-served-by'),
      region: single(headers, 'x-region'),
      viewer: planned.viewer,
      cache: cache === 'HIT' || cache === 'MISS' ? cache : undefined,
      fault: single(headers, 'x-fault-injected'),
      error: outcome.error,
    });
    const write = planned.write;
    if (planned.kind === 'write' && ok && write && json?.id === write.id) {
      this.acknowledged.push({
        ...write,
        version: typeof json.version === 'number' ? json.version : 0,
        at,
      });
    }
  }
}
