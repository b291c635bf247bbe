import { createHash } from 'node:crypto';

/**
 * The writes an item remembers, stored on the item itself (attribute `writes`), so that recording
 * a write and applying it are one conditional single-item write:
 * - every write carries a write token: `t:<random>` for a plain PUT, `k:<sha-256 of the key>` for
 *   a PUT with an Idempotency-Key;
 * - after a write whose answer was lost, reading the item back tells whether it landed;
 * - a retried Idempotency-Key finds its entry and gets the first answer again, even after other
 *   clients wrote the item since.
 * Entries expire (plain tokens after minutes, keys after `ttlSeconds`); expired entries are
 * dropped by the next write and ignored before that, so an expired key is free to be used again.
 */
export interface AppliedWrite {
  /** The version the write produced. */
  readonly v: number;
  /** The ETag it produced. */
  readonly e: string;
  /** Its `updatedAt`. */
  readonly u: string;
  /** Expiry, epoch seconds. */
  readonly x: number;
  /** For an Idempotency-Key: the request's fingerprint, so reuse for another request is caught. */
  readonly f?: string;
}

export type AppliedWrites = Readonly<Record<string, AppliedWrite>>;

export interface IdempotencyOptions {
  /**
   * How long an Idempotency-Key is remembered.
   * @default 86400
   */
  readonly ttlSeconds?: number;
  /**
   * Most entries an item keeps. Plain write tokens go first, then the oldest keys; a key pushed
   * out by this many later idempotent writes to the same item is forgotten before its TTL.
   * @default 50
   */
  readonly maxEntries?: number;
}

/** How long a plain write's token is kept: far longer than one request can take. */
export const PLAIN_TOKEN_TTL_SECONDS = 300;
export const DEFAULT_KEY_TTL_SECONDS = 86_400;
export const DEFAULT_MAX_ENTRIES = 50;

export function hashKey(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function keyToken(keyHash: string): string {
  return `k:${keyHash}`;
}

export function isKeyToken(token: string): boolean {
  return token.startsWith('k:');
}

/** The entry for `token`, unless it has expired. */
export function findApplied(
  writes: AppliedWrites | undefined,
  token: string,
  nowSeconds: number,
): AppliedWrite | undefined {
  const entry = writes?.[token];
  return entry && entry.x >= nowSeconds ? entry : undefined;
}

/**
 * The entries to store with a new write: the live ones, at most `maxEntries - 1` of them (plain
 * tokens dropped before keys, older before newer), plus the new one.
 */
export function withApplied(
  writes: AppliedWrites | undefined,
  token: string,
  entry: AppliedWrite,
  nowSeconds: number,
  maxEntries: number,
): Record<string, AppliedWrite> {
  const live = Object.entries(writes ?? {}).filter(
    ([existing, applied]) => existing !== token && applied.x >= nowSeconds,
  );
  // Kept first: keys before plain tokens, then newer (higher version) before older.
  live.sort(
    ([tokenA, a], [tokenB, b]) =>
      Number(isKeyToken(tokenB)) - Number(isKeyToken(tokenA)) || b.v - a.v,
  );
  return Object.fromEntries([...live.slice(0, Math.max(0, maxEntries - 1)), [token, entry]]);
}
