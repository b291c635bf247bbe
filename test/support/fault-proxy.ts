import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP fault proxy: put it between a caller and a real server (dynalite, memcached) and
 * make single requests, or the whole link, fail the ways networks fail.
 *
 * Per-request faults match the bytes a client sends (a DynamoDB `X-Amz-Target`, a memcached
 * opcode); the first `times` matching requests get the fault:
 * - `lose-response`: the request reaches the server, which applies it; its response is thrown
 *   away and the connection reset. The caller cannot tell whether the request landed (UNKNOWN).
 * - `hang-response`: like `lose-response`, but the connection stays open and silent until the
 *   caller gives up (a response lost in a black hole after the request landed).
 * - `reset`: the connection is reset before the request is forwarded: it never landed.
 * - `black-hole`: the request is swallowed and never answered: it never landed.
 * - `delay-response`: the response is held for `delayMs`, then delivered.
 * - `delay-request`: the request is held for `delayMs`, then forwarded (it lands late).
 * - `hold-response` / `hold-request`: like the delays, but held until `release` settles, so a
 *   test orders a race exactly instead of hoping a sleep finds it.
 *
 * Link modes apply to every connection: `pass`, `black-hole` (accepts, forwards nothing, answers
 * nothing), `refuse` (resets every new connection at once), and `delayMs` on every response.
 *
 * Only 127.0.0.1 is bound or dialled.
 */

const HOST = '127.0.0.1';

export type RequestMatcher = (request: Buffer) => boolean;

export type FaultAction =
  | { readonly kind: 'lose-response' }
  | { readonly kind: 'hang-response' }
  | { readonly kind: 'reset' }
  | { readonly kind: 'black-hole' }
  | { readonly kind: 'delay-response'; readonly delayMs: number }
  | { readonly kind: 'delay-request'; readonly delayMs: number }
  | { readonly kind: 'hold-response'; readonly release: Promise<unknown> }
  | { readonly kind: 'hold-request'; readonly release: Promise<unknown> };

export interface FaultRule {
  /** Which requests the fault is for. @default - every request */
  readonly match?: RequestMatcher;
  readonly action: FaultAction;
  /** How many matching requests get the fault. @default 1 */
  readonly times?: number;
}

export interface InjectedFault {
  /** Matching requests that got the fault so far. */
  readonly fired: number;
  /** Resolves when the fault has fired `times` times. */
  readonly done: Promise<void>;
  /** Stops the fault from firing again. */
  cancel(): void;
}

export type LinkMode = 'pass' | 'black-hole' | 'refuse';

export interface FaultProxy {
  readonly port: number;
  /** `127.0.0.1:<port>`, as MEMCACHED_ENDPOINTS lists it. */
  readonly address: string;
  /** `http://127.0.0.1:<port>`, as DYNAMODB_ENDPOINT takes it. */
  readonly endpoint: string;
  /**
   * Requests seen so far that matched `match` (all requests without one). A request is what a
   * client sent on one connection before the server's next answer (pipelined requests count once).
   */
  requestsSeen(match?: RequestMatcher): number;
  inject(rule: FaultRule): InjectedFault;
  /** Sets the mode for every connection, new and open. */
  setMode(mode: LinkMode): void;
  /** Delays every response by this much (0 to stop). */
  setResponseDelay(delayMs: number): void;
  /** Resets every open connection (a network blip). */
  resetConnections(): void;
  /** Back to `pass`, no delay, no pending faults. */
  heal(): void;
  stop(): Promise<void>;
}

export interface FaultProxyOptions {
  readonly targetPort: number;
  /** @default '127.0.0.1' (only loopback is allowed) */
  readonly targetHost?: string;
}

interface ActiveRule {
  readonly rule: FaultRule;
  readonly times: number;
  fired: number;
  cancelled: boolean;
  resolve(): void;
}

interface Link {
  readonly client: Socket;
  readonly upstream: Socket;
  /** What happens to what the server sends back on this connection. */
  response: 'pass' | 'drop-then-reset' | 'drop-and-hang';
  /** Later client bytes wait behind a held request until then (epoch ms). */
  holdRequestsUntil: number;
  /** Client bytes since the server last answered: the request(s) in flight. */
  request: Buffer;
  /** Whether a fault was already chosen for the request in flight. */
  decided: boolean;
  /** Set while a request is held: later client bytes queue behind it. */
  held?: Promise<void>;
  closed: boolean;
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const targetHost = options.targetHost ?? HOST;
  if (!['127.0.0.1', 'localhost', '::1'].includes(targetHost)) {
    throw new Error(`fault proxy: target must be loopback, got ${targetHost}`);
  }
  let mode: LinkMode = 'pass';
  let responseDelayMs = 0;
  const rules: ActiveRule[] = [];
  const links = new Set<Link>();
  const seen: Buffer[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const later = (ms: number, run: () => void): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      run();
    }, ms);
    timers.add(timer);
  };

  const settleRequest = (link: Link): void => {
    if (link.request.length > 0) seen.push(link.request);
    link.request = Buffer.alloc(0);
    link.decided = false;
  };

  const close = (link: Link): void => {
    if (link.closed) return;
    settleRequest(link);
    link.closed = true;
    links.delete(link);
    link.client.resetAndDestroy();
    link.upstream.destroy();
  };

  const takeRule = (request: Buffer): ActiveRule | undefined => {
    const rule = rules.find(
      (candidate) =>
        !candidate.cancelled &&
        candidate.fired < candidate.times &&
        (candidate.rule.match?.(request) ?? true),
    );
    if (!rule) return undefined;
    rule.fired += 1;
    if (rule.fired >= rule.times) rule.resolve();
    return rule;
  };

  const forwardRequest = (link: Link, chunk: Buffer, delayMs: number): void => {
    const write = () => {
      if (!link.closed) link.upstream.write(chunk);
    };
    if (link.held) {
      link.held = link.held.then(write);
      return;
    }
    // Keep later chunks of the same connection behind a held one.
    const at = Math.max(Date.now() + delayMs, link.holdRequestsUntil);
    if (at > Date.now()) {
      link.holdRequestsUntil = at;
      later(at - Date.now(), write);
    } else {
      write();
    }
  };

  const onClientData = (link: Link, chunk: Buffer): void => {
    if (mode === 'black-hole') return;
    // A request's head and body can arrive in separate chunks: match on all of it so far.
    link.request = Buffer.concat([link.request, chunk]);
    const rule = link.decided ? undefined : takeRule(link.request);
    if (rule) link.decided = true;
    switch (rule?.rule.action.kind) {
      case undefined:
        forwardRequest(link, chunk, 0);
        return;
      case 'reset':
        close(link);
        return;
      case 'black-hole':
        // Nothing more goes either way on this connection; the caller times out.
        link.response = 'drop-and-hang';
        link.upstream.destroy();
        return;
      case 'lose-response':
        link.response = 'drop-then-reset';
        forwardRequest(link, chunk, 0);
        return;
      case 'hang-response':
        link.response = 'drop-and-hang';
        forwardRequest(link, chunk, 0);
        return;
      case 'delay-request':
        forwardRequest(link, chunk, rule.rule.action.delayMs);
        return;
      case 'delay-response': {
        const delayMs = rule.rule.action.delayMs;
        // Hold whatever the server answers to this request.
        link.upstream.pause();
        forwardRequest(link, chunk, 0);
        later(delayMs, () => {
          if (!link.closed) link.upstream.resume();
        });
        return;
      }
      case 'hold-response':
        link.upstream.pause();
        forwardRequest(link, chunk, 0);
        void rule.rule.action.release.then(
          () => !link.closed && link.upstream.resume(),
          () => !link.closed && link.upstream.resume(),
        );
        return;
      case 'hold-request': {
        const release = rule.rule.action.release.then(
          () => undefined,
          () => undefined,
        );
        link.held = release.then(() => {
          if (!link.closed) link.upstream.write(chunk);
        });
        return;
      }
    }
  };

  const onUpstreamData = (link: Link, chunk: Buffer): void => {
    settleRequest(link);
    switch (link.response) {
      case 'pass':
        if (responseDelayMs > 0) {
          later(responseDelayMs, () => {
            if (!link.closed) link.client.write(chunk);
          });
        } else {
          link.client.write(chunk);
        }
        return;
      case 'drop-then-reset':
        // The server answered (so the request was applied); the caller never hears it.
        close(link);
        return;
      case 'drop-and-hang':
        return;
    }
  };

  const server: Server = createServer((client) => {
    if (mode === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect({ host: targetHost, port: options.targetPort });
    const link: Link = {
      client,
      upstream,
      response: 'pass',
      holdRequestsUntil: 0,
      request: Buffer.alloc(0),
      decided: false,
      closed: false,
    };
    links.add(link);
    client.on('data', (chunk: Buffer) => onClientData(link, chunk));
    upstream.on('data', (chunk: Buffer) => onUpstreamData(link, chunk));
    client.on('error', () => close(link));
    upstream.on('error', () => {
      if (link.response !== 'drop-and-hang') close(link);
    });
    client.on('close', () => close(link));
    upstream.on('close', () => {
      if (link.response !== 'drop-and-hang') close(link);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  let stopped = false;

  return {
    port,
    address: `${HOST}:${port}`,
    endpoint: `http://${HOST}:${port}`,
    requestsSeen: (match) => seen.filter((chunk) => match?.(chunk) ?? true).length,
    inject(rule) {
      let resolve!: () => void;
      const done = new Promise<void>((r) => (resolve = r));
      const active: ActiveRule = {
        rule,
        times: rule.times ?? 1,
        fired: 0,
        cancelled: false,
        resolve,
      };
      rules.push(active);
      return {
        get fired() {
          return active.fired;
        },
        done,
        cancel() {
          active.cancelled = true;
        },
      };
    },
    setMode(next) {
      mode = next;
      if (next !== 'pass') {
        for (const link of links) {
          if (next === 'refuse') close(link);
          else link.response = 'drop-and-hang';
        }
      }
    },
    setResponseDelay(delayMs) {
      responseDelayMs = delayMs;
    },
    resetConnections() {
      for (const link of [...links]) close(link);
    },
    heal() {
      mode = 'pass';
      responseDelayMs = 0;
      for (const rule of rules) rule.cancelled = true;
      // Connections left hanging by a black hole are dead to their callers anyway.
      for (const link of [...links]) if (link.response !== 'pass') close(link);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const link of [...links]) close(link);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Matches a DynamoDB API request for one operation (`UpdateItem`, `GetItem`, ...). */
export function dynamoOperation(operation: string, ...mustContain: string[]): RequestMatcher {
  const target = Buffer.from(`DynamoDB_20120810.${operation}`);
  const needles = mustContain.map((text) => Buffer.from(text));
  return (request) =>
    request.includes(target) && needles.every((needle) => request.includes(needle));
}

/** memcached binary-protocol opcodes, as memjs sends them. */
export const MEMCACHED_OPCODES = {
  get: 0x00,
  set: 0x01,
  add: 0x02,
  replace: 0x03,
  delete: 0x04,
  increment: 0x05,
  decrement: 0x06,
  version: 0x0b,
} as const;

/**
 * Matches a chunk holding a memcached binary-protocol request with this opcode (pipelined
 * requests in one chunk are walked), optionally for one key.
 */
export function memcachedOperation(
  operation: keyof typeof MEMCACHED_OPCODES,
  key?: string,
): RequestMatcher {
  const opcode = MEMCACHED_OPCODES[operation];
  return (request) => {
    let offset = 0;
    while (offset + 24 <= request.length && request[offset] === 0x80) {
      const keyLength = request.readUInt16BE(offset + 2);
      const extrasLength = request[offset + 4] ?? 0;
      const bodyLength = request.readUInt32BE(offset + 8);
      if (request[offset + 1] === opcode) {
        if (key === undefined) return true;
        const start = offset + 24 + extrasLength;
        if (request.subarray(start, start + keyLength).toString('utf8') === key) return true;
      }
      offset += 24 + bodyLength;
    }
    return false;
  };
}

/** Matches a memcached text-protocol command line (`config get cluster`, `get k`, ...). */
export function memcachedTextCommand(prefix: string): RequestMatcher {
  const needle = Buffer.from(prefix);
  return (request) => request.subarray(0, needle.length).equals(needle);
}
