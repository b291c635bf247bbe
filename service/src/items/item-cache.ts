import { randomBytes } from 'node:crypto';

import type { MemcachedCache } from '../cache/memcached-cache';

import type { Item } from './items-store';

/** What a cache hit gives back: the rendered body and its ETag, ready to send. */
export interface CachedItem {
  readonly etag: string;
  readonly body: string;
}

/** The response body of one item, the same whether it came from the cache or DynamoDB. */
export function renderItem(item: Item): string {
  return JSON.stringify(item);
}

/**
 * What a lookup found. On a miss the reader may hold a lease: the right to fill the entry with what
 * it reads next from DynamoDB, as long as nobody touched the key in between.
 */
export type CacheLookup =
  | {
      readonly kind: 'hit';
      readonly item: CachedItem;
      /**
       * The body parses as JSON. False for an entry a broken node garbled: the response guard
       * then parses it itself and replaces it.
       */
      readonly wellFormed: boolean;
    }
  | { readonly kind: 'miss'; readonly lease?: FillLease };

export interface FillLease {
  readonly key: string;
  readonly cas: Buffer;
  readonly epoch: string;
}

export interface ItemCacheOptions {
  /** How long a cached item lives at most. */
  readonly ttlSeconds: number;
  /**
   * How long a fill lease lives: a reader that takes longer between its lookup and its fill does
   * not fill, and a reader that died holding one blocks fills that long.
   * @default 5
   */
  readonly leaseSeconds?: number;
  /**
   * How many entries' bodies are remembered as parsed (by key, the latest version each): a hit
   * on one of them is not parsed again.
   * @default 1024
   */
  readonly parsedBodiesKept?: number;
}

/** Marks a key being filled; never a valid entry (entries are `<etag>\n<body>`). */
const LEASE_PREFIX = 'lease:';

/**
 * Cache-aside for single items with leases, as in "Scaling Memcache at Facebook" (NSDI 2013):
 *
 * - A reader that misses `add`s a lease token (only if the key is absent) and gets its CAS.
 * - It reads DynamoDB, then stores the item with compare-and-set on that CAS: it lands only if
 *   nobody deleted or replaced the lease in between.
 * - A writer deletes the key after its conditional write commits. That deletes any lease too,
 *   so a reader that read the old version before the write cannot fill it after the write.
 * - If the delete fails (node unreachable, breaker open), the node is suspect: flushed before it
 *   is used again, and fills begun before are dropped (the lease carries the node's epoch).
 *
 * The cache holds the rendered response (`<etag>\n<body>`), so a hit is sent as is.
 */
export class ItemCache {
  private readonly ttlSeconds: number;
  private readonly leaseSeconds: number;
  private readonly parsedBodiesKept: number;
  /** Bodies known to parse as JSON, by key, oldest first (see {@link wellFormed}). */
  private readonly parsedBodies = new Map<string, string>();

  constructor(
    private readonly cache: MemcachedCache,
    options: ItemCacheOptions,
  ) {
    this.ttlSeconds = options.ttlSeconds;
    this.leaseSeconds = options.leaseSeconds ?? 5;
    this.parsedBodiesKept = options.parsedBodiesKept ?? 1024;
    if (!Number.isInteger(this.parsedBodiesKept) || this.parsedBodiesKept < 0) {
      throw new Error(
        `ItemCache: parsedBodiesKept must be a whole number of at least 0, got ${this.parsedBodiesKept}`,
      );
    }
  }

  static key(id: string): string {
    return `item:v1:${id}`;
  }

  /** A hit, or a miss with a lease to fill when this reader is the one to fill. */
  async lookup(id: string): Promise<CacheLookup> {
    const key = ItemCache.key(id);
    // Taken before anything is read: a node that turns suspect after this drops the fill.
    const epoch = this.cache.epoch(key);
    const found = await this.cache.gets(key);
    if (found === undefined) return { kind: 'miss' };
    if (found !== null) {
      const newline = found.value.indexOf('\n');
      if (!found.value.startsWith(LEASE_PREFIX) && newline > 0) {
        const body = found.value.slice(newline + 1);
        return {
          kind: 'hit',
          item: { etag: found.value.slice(0, newline), body },
          wellFormed: this.wellFormed(key, body),
        };
      }
      // Another reader is filling it: read DynamoDB, leave the fill to that reader.
      return { kind: 'miss' };
    }
    const token = `${LEASE_PREFIX}${randomBytes(9).toString('base64url')}`;
    const cas = await this.cache.add(key, token, this.leaseSeconds);
    if (cas === undefined || cas === 'exists') return { kind: 'miss' };
    return { kind: 'miss', lease: { key, cas, epoch } };
  }

  /** Fills the entry if the lookup got a lease and nothing changed since. True when stored. */
  async fill(lookup: CacheLookup, entry: CachedItem): Promise<boolean> {
    if (lookup.kind !== 'miss' || !lookup.lease) return false;
    const { key, cas, epoch } = lookup.lease;
    if (this.cache.epoch(key) !== epoch) return false;
    return this.cache.compareAndSet(key, `${entry.etag}\n${entry.body}`, this.ttlSeconds, cas);
  }

  /**
   * Whether a cached body parses as JSON. Entries are rendered by the service, but memcached may
   * hand back a garbled one; parsing every hit of a hot item cost more than the rest of its
   * checks, so a body that parsed is remembered (per key, the latest version) and a hit that reads
   * the same text again is not parsed again.
   */
  private wellFormed(key: string, body: string): boolean {
    if (this.parsedBodies.get(key) === body) return true;
    this.parsedBodies.delete(key);
    try {
      JSON.parse(body);
    } catch {
      return false;
    }
    if (this.parsedBodiesKept === 0) return true;
    if (this.parsedBodies.size >= this.parsedBodiesKept) {
      // The oldest remembered body goes; it is parsed again when next read.
      this.parsedBodies.delete(this.parsedBodies.keys().next().value as string);
    }
    this.parsedBodies.set(key, body);
    return true;
  }

  /** After a write: deletes the entry (and any lease), or makes its node suspect. */
  async invalidate(id: string): Promise<boolean> {
    return this.cache.invalidate(ItemCache.key(id));
  }
}
