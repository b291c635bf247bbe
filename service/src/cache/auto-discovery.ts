import { connect as connectTcp, isIP, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';

import type { FastifyBaseLogger } from 'fastify';

import type { Endpoint } from '../config';

/**
 * ElastiCache for Memcached Auto Discovery: the cluster's configuration endpoint answers
 * `config get cluster` (ASCII protocol) with the current node list:
 *
 *     CONFIG cluster 0 <bytes>\r\n
 *     <version>\n
 *     <host>|<ip>|<port> <host>|<ip>|<port> ...\n
 *     \r\n
 *     END\r\n
 *
 * The version goes up whenever a node is added or removed. With in-transit encryption the
 * configuration endpoint speaks TLS like the nodes.
 */

export interface ClusterConfig {
  readonly version: number;
  readonly nodes: readonly Endpoint[];
}

export class DiscoveryError extends Error {
  override readonly name = 'DiscoveryError';
}

const HEADER = /^CONFIG cluster \d+ (\d+)\r\n/;
const HOST = /^[A-Za-z0-9.-]{1,253}$/;
const MAX_RESPONSE_BYTES = 64 * 1024;

/** Parses a whole `config get cluster` response; throws a {@link DiscoveryError} naming the fault. */
export function parseClusterConfig(response: Buffer): ClusterConfig {
  const head = response.subarray(0, 64).toString('latin1');
  if (head.startsWith('ERROR') || head.startsWith('CLIENT_ERROR')) {
    throw new DiscoveryError(
      `the configuration endpoint does not know 'config get cluster' (answered '${head.split('\r\n')[0]}'): is it an ElastiCache memcached configuration endpoint?`,
    );
  }
  const header = HEADER.exec(head);
  if (!header) {
    throw new DiscoveryError(`unexpected answer to 'config get cluster': '${printable(head)}'`);
  }
  const start = header[0].length;
  const length = Number(header[1]);
  const trailer = response.subarray(start + length).toString('latin1');
  if (response.length < start + length || !/^(\r\n)?END\r\n$/.test(trailer)) {
    throw new DiscoveryError(
      `'config get cluster' answer is cut short or malformed (${response.length} bytes, ${length} announced)`,
    );
  }
  const lines = response
    .subarray(start, start + length)
    .toString('utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const [versionLine, nodesLine] = lines;
  if (lines.length !== 2 || !/^\d{1,15}$/.test(versionLine ?? '')) {
    throw new DiscoveryError(
      `'config get cluster' must hold a version line and a node line, got '${printable(lines.join(' / '))}'`,
    );
  }
  const nodes: Endpoint[] = [];
  for (const entry of (nodesLine ?? '').split(' ').filter((part) => part !== '')) {
    const [host = '', address = '', portText = '', ...rest] = entry.split('|');
    const port = Number(portText);
    if (
      rest.length > 0 ||
      !HOST.test(host) ||
      (address !== '' && isIP(address) === 0) ||
      !/^\d{1,5}$/.test(portText) ||
      port < 1 ||
      port > 65535
    ) {
      throw new DiscoveryError(
        `'config get cluster' lists a node that is not host|ip|port: '${printable(entry)}'`,
      );
    }
    nodes.push(address === '' ? { host, port } : { host, address, port });
  }
  if (nodes.length === 0) {
    throw new DiscoveryError(`'config get cluster' lists no nodes`);
  }
  return { version: Number(versionLine), nodes };
}

function printable(text: string): string {
  const shown = text.replace(/[^\x20-\x7e]/g, (char) => JSON.stringify(char).slice(1, -1));
  return shown.length > 120 ? `${shown.slice(0, 117)}...` : shown;
}

export interface FetchOptions {
  /** TLS settings when in-transit encryption is on. @default - plain TCP */
  readonly tls?: ConnectionOptions;
  /** Bound on the whole exchange, connect included. */
  readonly timeoutMs: number;
}

/** Asks a configuration endpoint for the node list, over one short-lived connection. */
export function fetchClusterConfig(
  endpoint: Endpoint,
  options: FetchOptions,
): Promise<ClusterConfig> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let received = Buffer.alloc(0);
    const socket: Socket = options.tls
      ? connectTls(
          {
            host: endpoint.host,
            port: endpoint.port,
            servername: isIP(endpoint.host) === 0 ? endpoint.host : undefined,
            ...options.tls,
          },
          () => socket.write('config get cluster\r\n'),
        )
      : connectTcp({ host: endpoint.host, port: endpoint.port }, () =>
          socket.write('config get cluster\r\n'),
        );
    const finish = (error: Error | undefined, config?: ClusterConfig) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(config!);
    };
    const timer = setTimeout(
      () =>
        finish(
          new DiscoveryError(
            `no answer to 'config get cluster' from ${endpoint.host}:${endpoint.port} within ${options.timeoutMs} ms`,
          ),
        ),
      options.timeoutMs,
    );
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const text = received.toString('latin1');
      if (/(^|\r\n)END\r\n$/.test(text) || /^(CLIENT_|SERVER_)?ERROR[^\r\n]*\r\n$/.test(text)) {
        try {
          finish(undefined, parseClusterConfig(received));
        } catch (error) {
          finish(error as Error);
        }
      } else if (received.length > MAX_RESPONSE_BYTES) {
        finish(
          new DiscoveryError(`'config get cluster' answer exceeds ${MAX_RESPONSE_BYTES} bytes`),
        );
      }
    });
    socket.on('error', (error: Error) =>
      finish(
        new DiscoveryError(
          `cannot read the node list from ${endpoint.host}:${endpoint.port}: ${error.message}`,
        ),
      ),
    );
    socket.on('close', () =>
      finish(
        new DiscoveryError(
          `${endpoint.host}:${endpoint.port} closed the connection before answering 'config get cluster'`,
        ),
      ),
    );
  });
}

export interface NodeDiscoveryOptions {
  readonly endpoint: Endpoint;
  readonly tls?: ConnectionOptions;
  /** Mean time between refreshes. */
  readonly intervalMs: number;
  /**
   * Each wait is `intervalMs` times a random factor in [1 - jitter, 1 + jitter], so tasks started
   * together do not ask at the same moment.
   * @default 0.2
   */
  readonly jitter?: number;
  /** @default 2000 */
  readonly timeoutMs?: number;
  /** Called with each node list that differs from the last one applied. */
  readonly apply: (nodes: readonly Endpoint[]) => void;
  readonly log: Pick<FastifyBaseLogger, 'info' | 'warn'>;
  /** @default Math.random */
  readonly random?: () => number;
}

export type RefreshOutcome = 'changed' | 'unchanged' | 'failed';

/** The wait before the next refresh: `intervalMs` scaled by a random factor in [1 - jitter, 1 + jitter]. */
export function refreshDelayMs(intervalMs: number, jitter: number, random: () => number): number {
  return intervalMs * (1 - jitter + 2 * jitter * random());
}

function sameNodes(a: readonly Endpoint[], b: readonly Endpoint[]): boolean {
  const key = (node: Endpoint) => `${node.host}|${node.address ?? ''}|${node.port}`;
  const left = a.map(key).sort();
  const right = b.map(key).sort();
  return left.length === right.length && left.every((value, index) => value === right[index]);
}

/**
 * Keeps the cache's node list in step with the cluster: reads it at start, then again every
 * interval (jittered). A failed read keeps the list in use; a changed one is applied at once.
 */
export class NodeDiscovery {
  private current: ClusterConfig | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly random: () => number;

  constructor(private readonly options: NodeDiscoveryOptions) {
    this.random = options.random ?? Math.random;
  }

  /** The node list in use and its version (undefined until the first successful read). */
  get config(): ClusterConfig | undefined {
    return this.current;
  }

  /** Reads the node list once, then keeps refreshing. Never throws. */
  async start(): Promise<RefreshOutcome> {
    const outcome = await this.refresh();
    this.schedule();
    return outcome;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One read of the node list; applies it when it changed. */
  async refresh(): Promise<RefreshOutcome> {
    const { endpoint } = this.options;
    let next: ClusterConfig;
    try {
      next = await fetchClusterConfig(endpoint, {
        tls: this.options.tls,
        timeoutMs: this.options.timeoutMs ?? 2000,
      });
    } catch (error) {
      this.options.log.warn(
        {
          configEndpoint: `${endpoint.host}:${endpoint.port}`,
          err: error instanceof Error ? error.message : String(error),
          keeping: this.current?.nodes.length ?? 0,
        },
        'memcached node discovery failed; keeping the node list in use',
      );
      return 'failed';
    }
    if (this.stopped) return 'unchanged';
    if (this.current && sameNodes(this.current.nodes, next.nodes)) {
      this.current = next;
      return 'unchanged';
    }
    this.current = next;
    this.options.apply(next.nodes);
    this.options.log.info(
      {
        version: next.version,
        nodes: next.nodes.map((node) => `${node.host}:${node.port}`),
      },
      'memcached nodes discovered',
    );
    return 'changed';
  }

  private schedule(): void {
    if (this.stopped) return;
    const delay = refreshDelayMs(this.options.intervalMs, this.options.jitter ?? 0.2, this.random);
    this.timer = setTimeout(() => {
      void this.refresh().finally(() => this.schedule());
    }, delay);
    this.timer.unref();
  }
}
