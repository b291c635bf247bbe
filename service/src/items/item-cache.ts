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
 * Cache-aside for single items. The cache holds the rendered response (`<etag>\n<body>`), so a hit
 * is sent without parsing or serializing. Entries live `ttlSeconds` at most: a write deletes its
 * entry, and the TTL bounds what a delete can miss (a node unreachable during the write, a
 * reader filling the cache with the version it read just before the write, a write in another
 * region of the global table).
 */
export class ItemCache {
  constructor(
    private readonly cache: MemcachedCache,
    private readonly ttlSeconds: number,
  ) {}

  static key(id: string): string {
    return `item:v1:${id}`;
  }

  async get(id: string): Promise<CachedItem | undefined> {
    const value = await this.cache.get(ItemCache.key(id));
    if (value === undefined) return undefined;
    const newline = value.indexOf('\n');
    if (newline <= 0) return undefined;
    return { etag: value.slice(0, newline), body: value.slice(newline + 1) };
  }

  async put(id: string, entry: CachedItem): Promise<void> {
    await this.cache.set(ItemCache.key(id), `${entry.etag}\n${entry.body}`, this.ttlSeconds);
  }

  async invalidate(id: string): Promise<boolean> {
    return this.cache.delete(ItemCache.key(id));
  }
}
