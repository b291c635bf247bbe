import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { userInfo } from 'node:os';

/**
 * Starts real memcached servers on free loopback ports for tests, the local service and the game
 * day. Only 127.0.0.1 is ever bound.
 */

const HOST = '127.0.0.1';

export const MEMCACHED_INSTALL_HINT =
  'memcached is not installed: run `sudo apt-get install memcached` (Debian/Ubuntu) or `bash scripts/install.sh --test`';

export interface MemcachedTlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

export interface MemcachedOptions {
  /** @default - a free port */
  readonly port?: number;
  /** Serve TLS only, with this certificate and key. @default - plain TCP */
  readonly tls?: MemcachedTlsFiles;
}

export interface MemcachedServer {
  readonly host: string;
  readonly port: number;
  /** `host:port`, as MEMCACHED_ENDPOINTS lists it. */
  readonly endpoint: string;
  /** Kills the server (SIGKILL, like a crashed node) and waits for it to exit. */
  kill(): Promise<void>;
  /** Stops the server (SIGTERM) and waits for it to exit. Safe to call twice. */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>;
}

function memcachedBinary(): string {
  const binary = process.env.MEMCACHED_BIN ?? 'memcached';
  const probe = spawnSync(binary, ['-V'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(`${MEMCACHED_INSTALL_HINT} (tried '${binary}')`);
  }
  return binary;
}

/** A port nothing listens on right now (the kernel picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function launch(
  binary: string,
  port: number,
  options: MemcachedOptions,
): Promise<ChildProcess> {
  const args = ['-l', HOST, '-p', String(port), '-U', '0', '-m', '32', '-t', '1', '-c', '256'];
  // memcached refuses to run as root unless told which user to be.
  if (process.getuid?.() === 0) args.push('-u', userInfo().username);
  if (options.tls) {
    args.push('-Z', '-o', `ssl_chain_cert=${options.tls.certFile},ssl_key=${options.tls.keyFile}`);
  }
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`memcached exited with ${child.exitCode} on port ${port}: ${stderr.trim()}`);
    }
    if (await canConnect(port)) return child;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  child.kill('SIGKILL');
  throw new Error(`memcached did not listen on ${HOST}:${port} within 5 s: ${stderr.trim()}`);
}

export async function startMemcached(options: MemcachedOptions = {}): Promise<MemcachedServer> {
  const binary = memcachedBinary();
  let port = options.port ?? (await freePort());
  let child: ChildProcess | undefined;
  // A free port can be taken between the probe and the bind: try a few.
  for (let attempt = 1; child === undefined; attempt += 1) {
    try {
      child = await launch(binary, port, options);
    } catch (error) {
      if (options.port !== undefined || attempt >= 3) throw error;
      port = await freePort();
    }
  }
  let current: ChildProcess = child;
  const killOnExit = () => current.kill('SIGKILL');
  process.once('exit', killOnExit);

  const end = async (signal: NodeJS.Signals) => {
    if (current.exitCode === null && current.signalCode === null) {
      current.kill(signal);
    }
    await waitForExit(current);
  };
  return {
    host: HOST,
    port,
    endpoint: `${HOST}:${port}`,
    kill: () => end('SIGKILL'),
    async stop() {
      await end('SIGTERM');
      process.removeListener('exit', killOnExit);
    },
    async restart() {
      await end('SIGKILL');
      current = await launch(binary, port, options);
    },
  };
}
