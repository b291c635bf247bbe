import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';

/**
 * A local stand-in for an ElastiCache memcached configuration endpoint: it answers the Auto
 * Discovery command `config get cluster` (ASCII protocol) with a node list the test sets, and a
 * version it bumps on every change, in the format ElastiCache uses:
 *
 *     CONFIG cluster 0 <bytes>\r\n<version>\n<host>|<ip>|<port> ...\n\r\nEND\r\n
 *
 * Other commands get `ERROR`. With `tls` it speaks TLS only, as with in-transit encryption.
 * Only 127.0.0.1 is bound.
 */

const HOST = '127.0.0.1';

export interface DiscoveredNode {
  /** The node's DNS name, as ElastiCache lists it. */
  readonly host: string;
  /** Its IP address ('' lists none). */
  readonly address: string;
  readonly port: number;
}

/** `answer`: normal; `refuse`: every connection is reset; `garbage`: a malformed answer. */
export type ConfigEndpointMode = 'answer' | 'refuse' | 'garbage';

export interface ConfigEndpointServer {
  readonly host: string;
  readonly port: number;
  /** `host:port`, as MEMCACHED_CONFIG_ENDPOINT takes it. */
  readonly endpoint: string;
  readonly version: number;
  /** `config get cluster` requests answered so far. */
  readonly requests: number;
  /** Replaces the node list and bumps the version. */
  setNodes(nodes: readonly DiscoveredNode[]): void;
  setMode(mode: ConfigEndpointMode): void;
  stop(): Promise<void>;
}

export interface ConfigEndpointOptions {
  readonly nodes: readonly DiscoveredNode[];
  /** PEM certificate and key: serve TLS only. @default - plain TCP */
  readonly tls?: { readonly cert: string; readonly key: string };
  /** @default 1 */
  readonly initialVersion?: number;
}

export function clusterConfigResponse(version: number, nodes: readonly DiscoveredNode[]): string {
  const data = `${version}\n${nodes.map((node) => `${node.host}|${node.address}|${node.port}`).join(' ')}\n`;
  return `CONFIG cluster 0 ${Buffer.byteLength(data)}\r\n${data}\r\nEND\r\n`;
}

export async function startConfigEndpoint(
  options: ConfigEndpointOptions,
): Promise<ConfigEndpointServer> {
  let nodes = [...options.nodes];
  let version = options.initialVersion ?? 1;
  let mode: ConfigEndpointMode = 'answer';
  let requests = 0;
  const sockets = new Set<Socket>();
  // A TLS socket cannot be reset (no RST through the TLS layer): it is closed instead.
  const cut = (socket: Socket) => (options.tls ? socket.destroy() : socket.resetAndDestroy());

  const serve = (socket: Socket) => {
    if (mode === 'refuse') {
      cut(socket);
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      let newline: number;
      while ((newline = pending.indexOf('\r\n')) >= 0) {
        const command = pending.slice(0, newline);
        pending = pending.slice(newline + 2);
        if (command !== 'config get cluster') {
          socket.write('ERROR\r\n');
        } else if (mode === 'garbage') {
          socket.write('CONFIG cluster 0 5\r\nnope!\r\nEND\r\n');
        } else {
          requests += 1;
          socket.write(clusterConfigResponse(version, nodes));
        }
      }
    });
  };

  const server: Server = options.tls
    ? createTlsServer({ cert: options.tls.cert, key: options.tls.key }, serve)
    : createTcpServer(serve);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  let stopped = false;

  return {
    host: HOST,
    port,
    endpoint: `${HOST}:${port}`,
    get version() {
      return version;
    },
    get requests() {
      return requests;
    },
    setNodes(next) {
      nodes = [...next];
      version += 1;
    },
    setMode(next) {
      mode = next;
      if (next === 'refuse') for (const socket of sockets) cut(socket);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
