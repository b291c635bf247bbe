import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';

import { isBrokenCircuitError, isTaskCancelledError, TaskCancelledError } from 'cockatiel';
import type { FastifyBaseLogger } from 'fastify';
import { Client } from 'memjs';

import type { Endpoint } from '../config';
import { attemptReach, type FailureOutcome } from '../dependencies/outcome';
import type { DependencyMetrics } from '../metrics/emf';

import { NodeBreaker, type NodeBreakerState } from './node-breaker';
import { pickNode } from './rendezvous';
import { GuardedServer } from './tls-server';

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
  /**
   * After the node list changes, invalidations also go to a key's owner in the earlier lists for
   * this long, so a key that moves back to a node that held it does not find an old entry there.
   * Set it to the longest entry TTL.
   * @default 60000
   */
  readonly ringChangeGraceMs?: number;
  /** @default Date.now */
  readonly clock?: () => number;
}

export type BreakerState = NodeBreakerState;

/** What `gets` finds: the value and its CAS token, or null when the key is absent. */
export interface CasValue {
  readonly value: string;
  readonly cas: Buffer;
}

interface CacheNode {
  /** `host:port`: the node's place on the ring, the same in every task. */
  readonly name: string;
  /** `host|address|port`: a node whose address changed is a new node. */
  readonly identity: string;
  readonly client: Client;
  readonly breaker: NodeBreaker;
  /**
   * One call through the node's breaker, bounded by the operation timeout: its value, or
   * undefined when the breaker refused it, it failed or it timed out (counted and logged).
   */
  readonly call: <T>(
    operation: string,
    start: (client: Client, done: Done<T>) => void,
  ) => Promise<T | undefined>;
  /**
   * Set when this node may hold entries a write failed to invalidate (an invalidation failed, or
   * the breaker opened). Nothing is read from or filled into it until it has been flushed.
   */
  suspect: boolean;
  /** Bumped whenever the node becomes suspect: a fill started under an older one is dropped. */
  generation: number;
  repairing?: Promise<boolean>;
  readonly dispose: () => void;
}

type CacheLog = Pick<FastifyBaseLogger, 'info' | 'warn' | 'debug'>;

const silentLogger = { log: () => undefined };

/** memcached binary-protocol opcodes and statuses this module sends or reads itself. */
const OPCODE = { get: 0x00, set: 0x01, add: 0x02 } as const;
const STATUS = { ok: 0x0000, notFound: 0x0001, exists: 0x0002, notStored: 0x0005 } as const;

interface RawResponse {
  readonly header: { readonly status: number; readonly cas: Buffer };
  readonly val: Buffer;
}

/** One binary-protocol request with a CAS field, which memjs 1.3.2 does not send itself. */
function request(
  opcode: number,
  key: string,
  opaque: number,
  options: { value?: string; expires?: number; cas?: Buffer } = {},
): Buffer {
  // One buffer for the whole request: header, extras, key and value written in place.
  const keyLength = Buffer.byteLength(key, 'utf8');
  const valueLength = options.value === undefined ? 0 : Buffer.byteLength(options.value, 'utf8');
  const extrasLength = options.expires === undefined ? 0 : 8;
  const bodyLength = extrasLength + keyLength + valueLength;
  const buffer = Buffer.alloc(24 + bodyLength);
  buffer[0] = 0x80;
  buffer[1] = opcode;
  buffer.writeUInt16BE(keyLength, 2);
  buffer[4] = extrasLength;
  buffer.writeUInt32BE(bodyLength, 8);
  buffer.writeUInt32BE(opaque, 12);
  options.cas?.copy(buffer, 16);
  // Extras: flags (0), then the expiry.
  if (options.expires !== undefined) buffer.writeUInt32BE(options.expires, 28);
  buffer.write(key, 24 + extrasLength, 'utf8');
  if (options.value !== undefined)
    buffer.write(options.value, 24 + extrasLength + keyLength, 'utf8');
  return buffer;
}

/** How a callback-style call hands back its outcome: an error, or null and its value. */
export type Done<T> = (error: Error | null, value?: T) => void;

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** Hands a promise's outcome to a callback-style `done` (the memjs calls that return promises). */
function settle<T>(call: Promise<T>, done: Done<T>): void {
  call.then(
    (value) => done(null, value),
    (error: unknown) => done(asError(error)),
  );
}

/**
 * A call that sends one request built with the next sequence number. `interpret` turns memjs's
 * answer into the call's value, and throws for a status the call does not expect.
 */
function requestCall<T>(
  key: string,
  build: (seq: number) => Buffer,
  interpret: (response: RawResponse) => T,
): (client: Client, done: Done<T>) => void {
  return (client, done) => {
    client.incrSeq();
    const seq = client.seq;
    client.perform(key, build(seq), seq, (error: Error | null, response: RawResponse) => {
      if (error) {
        done(error);
        return;
      }
      let value: T;
      try {
        value = interpret(response);
      } catch (failure) {
        done(asError(failure));
        return;
      }
      done(null, value);
    });
  };
}

/** GETS: the value and its CAS token, or null when the key is absent. */
function casValue(response: RawResponse): CasValue | null {
  if (response.header.status === STATUS.notFound) return null;
  if (response.header.status !== STATUS.ok) throw unexpected('GETS', response.header.status);
  return { value: response.val.toString('utf8'), cas: Buffer.from(response.header.cas) };
}

/** ADD: the new CAS token, or 'exists' when the key was already there. */
function added(response: RawResponse): Buffer | 'exists' {
  const status = response.header.status;
  if (status === STATUS.exists || status === STATUS.notStored) return 'exists';
  if (status !== STATUS.ok) throw unexpected('ADD', status);
  return Buffer.from(response.header.cas);
}

/** SET with a CAS: true when stored, false when the key changed or went meanwhile. */
function casStored(response: RawResponse): boolean {
  const status = response.header.status;
  if (status === STATUS.ok) return true;
  if (status === STATUS.exists || status === STATUS.notFound || status === STATUS.notStored) {
    return false;
  }
  throw unexpected('CAS', status);
}

/**
 * Starts a callback-style call and settles with what `outcome` makes of how it ended: with its
 * value, with its error, or with cockatiel's TaskCancelledError (what its timeout policy throws)
 * once `timeoutMs` has passed. memjs calls cannot be cancelled, so the caller stops waiting and
 * memjs cleans up the socket later. The first of these wins, and `outcome` hears only it.
 *
 * One promise and one timer per call, and nothing else: cockatiel's timeout policy created an
 * AbortController and its listeners per call even when nothing read the signal, which cost more
 * than the rest of a cache hit, and a promise per layer (the memjs call, its deadline, the
 * breaker's verdict, the metrics) cost a promise and a microtask each.
 */
export function callWithDeadline<T, R>(
  start: (done: Done<T>) => void,
  timeoutMs: number,
  outcome: (error: Error | null, value: T | undefined) => R,
): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    let finished = false;
    const finish = (error: Error | null, value?: T): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      try {
        resolve(outcome(error, value));
      } catch (failure) {
        reject(asError(failure));
      }
    };
    const timer = setTimeout(
      () => finish(new TaskCancelledError(`Operation timed out after ${timeoutMs}ms`)),
      timeoutMs,
    );
    try {
      start(finish);
    } catch (error) {
      finish(asError(error));
    }
  });
}

/** Deletes a key: true once it is gone from the node (deleted, or it was not there). */
function deleteKey(key: string): (client: Client, done: Done<boolean>) => void {
  return (client, done) =>
    settle(
      client.delete(key).then(() => true),
      done,
    );
}

function unexpected(operation: string, status: number): Error {
  return new Error(`MemJS ${operation}: unexpected status 0x${status.toString(16)}`);
}

/**
 * Cache-aside memcached over all nodes. A key lives on the node rendezvous hashing picks; each node
 * has its own timeout and circuit breaker, so a dead node costs one fast miss per call until a
 * probe finds it back. Every method resolves: an error or timeout is a miss, never a client error.
 *
 * A node that may have missed an invalidation (one failed, or its breaker opened) is suspect: it is
 * flushed before anything is read from or written to it again, so a node coming back cannot serve
 * a version older than a write it missed. The node list can change at run time ({@link setNodes});
 * surviving nodes keep their connection and breaker, new ones start suspect.
 */
export class MemcachedCache {
  private nodes = new Map<string, CacheNode>();
  private names: string[] = [];
  /** The last key {@link nodeFor} placed, and where; forgotten when the ring changes. */
  private lastOwner: { key?: string; node: string } = { node: '' };
  private readonly blackholed: () => boolean;
  private readonly timeoutMs: number;
  private readonly clock: () => number;
  private readonly ringChangeGraceMs: number;
  /** Earlier node lists, each until its grace period ends. */
  private previousRings: Array<{ names: readonly string[]; until: number }> = [];

  constructor(
    private readonly options: MemcachedCacheOptions,
    private readonly metrics: DependencyMetrics,
    private readonly log: CacheLog,
  ) {
    this.timeoutMs = options.operationTimeoutMs ?? 100;
    this.blackholed = options.blackholed ?? (() => false);
    this.clock = options.clock ?? Date.now;
    this.ringChangeGraceMs = options.ringChangeGraceMs ?? 60_000;
    this.replaceNodes(options.endpoints, false);
  }

  /**
   * Replaces the node list (auto discovery). Nodes still listed keep their connection, breaker and
   * state; removed ones are closed; new ones start suspect (they may hold entries from an earlier
   * membership). Returns whether anything changed.
   */
  setNodes(endpoints: readonly Endpoint[]): boolean {
    return this.replaceNodes(endpoints, true);
  }

  /** The ring, as `host:port` names. */
  nodeNames(): readonly string[] {
    return this.names;
  }

  /** The node that owns a key (`host:port`), or '' without nodes. */
  nodeFor(key: string): string {
    if (this.names.length === 0) return '';
    // A lookup asks twice in a row for the same key (its epoch, then its read): hash it once.
    if (key !== this.lastOwner.key) this.lastOwner = { key, node: pickNode(this.names, key) };
    return this.lastOwner.node;
  }

  /**
   * The owner of a key and its generation: a fill started under one epoch must not land under
   * another (the node became suspect, or the key moved to another node).
   */
  epoch(key: string): string {
    const node = this.nodes.get(this.nodeFor(key));
    return node ? `${node.identity}#${node.generation}` : '';
  }

  /** The value, or undefined on a miss or any failure. */
  async get(key: string): Promise<string | undefined> {
    const value = await this.run<Buffer | null>('get', key, (client, done) =>
      settle(
        client.get(key).then((found) => found.value),
        done,
      ),
    );
    return value ? value.toString('utf8') : undefined;
  }

  /** The value and its CAS token; null when absent; undefined on any failure. */
  gets(key: string): Promise<CasValue | null | undefined> {
    // Not async, here and in the call: a cache hit's path has one promise, the call's deadline.
    return this.run(
      'get',
      key,
      requestCall(key, (seq) => request(OPCODE.get, key, seq), casValue),
    );
  }

  /** Stores only if absent: the new CAS token, 'exists', or undefined on any failure. */
  add(key: string, value: string, ttlSeconds: number): Promise<Buffer | 'exists' | undefined> {
    return this.run(
      'add',
      key,
      requestCall(
        key,
        (seq) => request(OPCODE.add, key, seq, { value, expires: ttlSeconds }),
        added,
      ),
    );
  }

  /**
   * Stores only if the key still holds the version `cas` names (nobody changed or deleted it in
   * between). True when stored.
   */
  async compareAndSet(
    key: string,
    value: string,
    ttlSeconds: number,
    cas: Buffer,
  ): Promise<boolean> {
    const stored = await this.run(
      'set',
      key,
      requestCall(
        key,
        (seq) => request(OPCODE.set, key, seq, { value, expires: ttlSeconds, cas }),
        casStored,
      ),
    );
    return stored ?? false;
  }

  /** True when stored. */
  async set(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    return (
      (await this.run<boolean>('set', key, (client, done) =>
        settle(client.set(key, value, { expires: ttlSeconds }), done),
      )) ?? false
    );
  }

  /** True when the key is gone from its node (deleted or absent); false when the node failed. */
  async delete(key: string): Promise<boolean> {
    return (await this.run('delete', key, deleteKey(key))) ?? false;
  }

  /**
   * Deletes a key after a write. When that fails the node may still hold the old version, so it
   * becomes suspect: flushed before it is used again, and fills under way are dropped.
   */
  async invalidate(key: string): Promise<boolean> {
    const owner = this.nodeFor(key);
    const now = this.clock();
    this.previousRings = this.previousRings.filter((ring) => ring.until > now);
    // The key's owners in recent node lists that are still members: they may hold it too.
    const earlier = new Set(
      this.previousRings
        .filter((ring) => ring.names.length > 0)
        .map((ring) => pickNode(ring.names, key))
        .filter((name) => name !== owner && this.nodes.has(name)),
    );
    const results = await Promise.all(
      [owner, ...earlier].map(async (name) => {
        const deleted = (await this.run('delete', key, deleteKey(key), name)) ?? false;
        const node = this.nodes.get(name);
        if (!deleted && node) this.markSuspect(node, 'invalidation failed');
        return deleted;
      }),
    );
    return results[0] ?? false;
  }

  breakerStates(): Array<{ node: string; state: BreakerState }> {
    return [...this.nodes.values()].map((node) => ({
      node: node.name,
      state: node.breaker.state,
    }));
  }

  /** Nodes waiting for a flush before they are used again. */
  suspectNodes(): string[] {
    return [...this.nodes.values()].filter((node) => node.suspect).map((node) => node.name);
  }

  close(): void {
    for (const node of this.nodes.values()) node.dispose();
  }

  private replaceNodes(endpoints: readonly Endpoint[], suspectNew: boolean): boolean {
    const next = new Map<string, CacheNode>();
    let changed = false;
    for (const endpoint of endpoints) {
      const name = `${endpoint.host}:${endpoint.port}`;
      const identity = `${endpoint.host}|${endpoint.address ?? ''}|${endpoint.port}`;
      const existing = this.nodes.get(name);
      if (existing && existing.identity === identity) {
        next.set(name, existing);
        continue;
      }
      changed = true;
      next.set(name, this.createNode(name, identity, endpoint, suspectNew));
    }
    for (const [name, node] of this.nodes) {
      if (next.get(name) !== node) {
        changed = true;
        node.dispose();
      }
    }
    if (changed && this.names.length > 0) {
      this.previousRings.push({ names: this.names, until: this.clock() + this.ringChangeGraceMs });
    }
    this.nodes = next;
    this.names = [...next.keys()];
    this.lastOwner = { node: '' };
    return changed;
  }

  private createNode(
    name: string,
    identity: string,
    endpoint: Endpoint,
    suspect: boolean,
  ): CacheNode {
    const { options, timeoutMs } = this;
    // memjs's own timeouts (seconds) sit above ours so it cleans up sockets after we have moved on.
    const serverOptions = {
      timeout: (2 * timeoutMs) / 1000,
      conntimeout: (2 * timeoutMs) / 1000,
      keepAlive: true,
      keepAliveDelay: 30,
    };
    // Dial the address discovery reported, verify the certificate against the node's name.
    const dial = endpoint.address ?? endpoint.host;
    const server = new GuardedServer(
      dial,
      endpoint.port,
      serverOptions,
      options.tls
        ? { ...(isIP(endpoint.host) === 0 ? { servername: endpoint.host } : {}), ...options.tls }
        : undefined,
    );
    // retries: 1 is a single attempt; failover would move keys to other nodes behind our back.
    const client = new Client([server], { retries: 1, failover: false, logger: silentLogger });
    // The breaker outside, the timeout inside: a timed-out call counts as a failure of the node.
    // Nothing is allocated per call beyond the deadline's promise and timer.
    const breaker: NodeBreaker = new NodeBreaker(
      {
        failureThreshold: options.breakerFailures ?? 3,
        halfOpenAfterMs: options.halfOpenAfterMs ?? 5000,
      },
      {
        onBreak: () => {
          this.log.warn({ node: name }, 'memcached node breaker opened');
          // Writes meanwhile cannot invalidate it: whatever it holds is suspect when it is back.
          this.markSuspect(node, 'breaker opened');
        },
        onHalfOpen: () => this.log.info({ node: name }, 'memcached node breaker probing'),
        onReset: () => this.log.info({ node: name }, 'memcached node breaker closed'),
      },
    );
    /** Counts a failed call (the breaker has heard it) and says why at debug level. */
    const failed = (operation: string, error: Error): undefined => {
      const outcome = classifyCacheFailure(error);
      this.metrics.record('memcached', outcome);
      this.log.debug(
        { node: name, operation, outcome, err: String(error) },
        `memcached ${operation} failed: ${outcome}`,
      );
      return undefined;
    };
    const call = <T>(
      operation: string,
      start: (client: Client, done: Done<T>) => void,
    ): Promise<T | undefined> => {
      const refused = breaker.admit();
      if (refused) return Promise.resolve(failed(operation, refused));
      return callWithDeadline<T, T | undefined>(
        // A black-holed node never answers: the call ends at its timeout.
        this.blackholed() ? () => undefined : (done) => start(client, done),
        timeoutMs,
        (error, value) => {
          if (error) {
            breaker.failed();
            return failed(operation, error);
          }
          breaker.succeeded();
          this.metrics.record('memcached', 'ok');
          return value;
        },
      );
    };
    const node: CacheNode = {
      name,
      identity,
      client,
      breaker,
      call,
      suspect,
      generation: 0,
      dispose: () => client.close(),
    };
    return node;
  }

  private markSuspect(node: CacheNode, reason: string): void {
    node.generation += 1;
    if (!node.suspect) this.log.warn({ node: node.name, reason }, 'memcached node suspect');
    node.suspect = true;
  }

  /** Flushes a suspect node (one flush however many callers wait). True when it is clean. */
  private repair(node: CacheNode): Promise<boolean> {
    node.repairing ??= (async () => {
      const generation = node.generation;
      try {
        const flushed = await node.call<true>('flush', (client, done) =>
          settle(
            client.flush().then(() => true as const),
            done,
          ),
        );
        if (!flushed) return false;
        // A failure while the flush was under way makes it suspect again.
        if (node.generation === generation) {
          node.suspect = false;
          this.log.info({ node: node.name }, 'memcached node flushed; no longer suspect');
        }
        return !node.suspect;
      } finally {
        node.repairing = undefined;
      }
    })();
    return node.repairing;
  }

  /**
   * One call on a key's node: undefined when there is no node, its flush failed, or the call
   * failed (a miss, counted and logged). Not async: on a cache hit the call's deadline is its
   * only promise.
   */
  private run<T>(
    operation: string,
    key: string,
    start: (client: Client, done: Done<T>) => void,
    nodeName: string = this.nodeFor(key),
  ): Promise<T | undefined> {
    const node = this.nodes.get(nodeName);
    if (!node) return Promise.resolve(undefined);
    if (node.suspect) {
      return this.repair(node).then((clean) => (clean ? node.call(operation, start) : undefined));
    }
    return node.call(operation, start);
  }
}

export function classifyCacheFailure(error: unknown): FailureOutcome {
  if (isBrokenCircuitError(error)) return 'failed-before-send';
  if (isTaskCancelledError(error)) return 'unknown';
  if (error instanceof Error && /^MemJS /.test(error.message)) return 'fatal';
  return attemptReach(error) === 'not-sent' ? 'failed-before-send' : 'unknown';
}
