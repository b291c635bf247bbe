import type { FastifyInstance, FastifyReply } from 'fastify';

import { DependencyError } from '../dependencies/outcome';
import { BadRequestError, HttpError, NotFoundError, PreconditionFailedError } from '../errors';
import type { IdempotencyStore, StoredResponse } from '../items/idempotency-store';
import { hashKey } from '../items/idempotency-store';
import { renderItem, type ItemCache } from '../items/item-cache';
import {
  ITEM_ID_PATTERN,
  RESERVED_ID_PREFIX,
  type IfMatch,
  type ItemInput,
  type ItemsStore,
} from '../items/items-store';

export interface ItemRoutesDependencies {
  readonly store: ItemsStore;
  readonly cache: ItemCache;
  readonly idempotency: IdempotencyStore;
}

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: ITEM_ID_PATTERN } },
} as const;

/** An item as a client writes it. Unknown fields are rejected, not dropped. */
const itemBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'price'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001f]*$' },
    price: { type: 'number', minimum: 0, maximum: 1_000_000_000 },
    tags: {
      type: 'array',
      maxItems: 20,
      uniqueItems: true,
      items: { type: 'string', minLength: 1, maxLength: 50, pattern: '^[^\\u0000-\\u001f]*$' },
    },
  },
} as const;

const putHeaders = {
  type: 'object',
  properties: {
    // Printable ASCII, as the IETF Idempotency-Key draft suggests (UUIDs fit).
    'idempotency-key': {
      type: 'string',
      minLength: 1,
      maxLength: 128,
      pattern: '^[\\x21-\\x7e]+$',
    },
    'if-match': { type: 'string', maxLength: 200 },
  },
} as const;

const listQuery = {
  type: 'object',
  properties: {
    // Query values stay strings (no type coercion anywhere): 1-100 by pattern.
    limit: { type: 'string', pattern: '^(100|[1-9][0-9]?)$' },
    cursor: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,200}$' },
  },
} as const;

interface IdParams {
  id: string;
}
interface ListQuery {
  limit?: string;
  cursor?: string;
}
interface PutHeaders {
  'idempotency-key'?: string;
  'if-match'?: string;
}

const DEFAULT_PAGE_SIZE = 20;

/** What makes two PUTs the same request: a reused Idempotency-Key must come with the same one. */
export function requestFingerprint(
  id: string,
  ifMatch: IfMatch | undefined,
  input: ItemInput,
): string {
  return hashKey(
    JSON.stringify(['PUT', id, ifMatch ?? null, input.name, input.price, input.tags ?? null]),
  );
}

function parseIfMatch(header: string | undefined): IfMatch | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (value === '*') return { kind: 'any' };
  const match = /^"([A-Za-z0-9_-]{1,64})"$/.exec(value);
  if (!match) {
    throw new BadRequestError(
      `If-Match must be * or one strong ETag such as "abc123", got '${value.slice(0, 80)}'`,
    );
  }
  return { kind: 'etag', etag: match[1] };
}

function sendItemBody(
  reply: FastifyReply,
  statusCode: number,
  etag: string,
  body: string,
): FastifyReply {
  return reply
    .code(statusCode)
    .header('etag', `"${etag}"`)
    .type('application/json; charset=utf-8')
    .send(body);
}

export function registerItemRoutes(app: FastifyInstance, deps: ItemRoutesDependencies): void {
  const { store, cache, idempotency } = deps;

  app.get<{ Params: IdParams }>(
    '/api/items/:id',
    { schema: { params: idParams } },
    async (request, reply) => {
      const { id } = request.params;
      const lookup = await cache.lookup(id);
      if (lookup.kind === 'hit') {
        request.cacheOutcome = 'hit';
        reply.header('x-cache', 'HIT');
        return sendItemBody(reply, 200, lookup.item.etag, lookup.item.body);
      }
      request.cacheOutcome = 'miss';
      // Strongly consistent: an eventually consistent read just after a write could return the
      // previous version, and the cache would then serve it for the whole TTL.
      const stored = await store.get(id, { consistent: true });
      if (!stored) throw new NotFoundError(`item '${id}' not found`);
      const body = renderItem(stored.item);
      // Lands only if no write invalidated the key since the lookup (see ItemCache).
      await cache.fill(lookup, { etag: stored.etag, body });
      reply.header('x-cache', 'MISS');
      return sendItemBody(reply, 200, stored.etag, body);
    },
  );

  app.get<{ Querystring: ListQuery }>(
    '/api/items',
    { schema: { querystring: listQuery } },
    async (request) => {
      const limit = request.query.limit ? Number(request.query.limit) : DEFAULT_PAGE_SIZE;
      const page = await store.list(limit, request.query.cursor);
      return {
        items: page.items.map((stored) => stored.item),
        ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
      };
    },
  );

  /** One write, then the cache entry goes. */
  async function write(
    id: string,
    input: ItemInput,
    ifMatch: IfMatch | undefined,
    writeKey: string | undefined,
  ): Promise<StoredResponse> {
    const { stored, created } = await store.put(id, input, { ifMatch, writeKey });
    await cache.invalidate(id);
    return { statusCode: created ? 201 : 200, etag: stored.etag, body: renderItem(stored.item) };
  }

  /**
   * The same write, done at most once per Idempotency-Key: a retry gets the first response.
   * Returns the response and whether it is a replay.
   */
  async function writeOnce(
    key: string,
    id: string,
    input: ItemInput,
    ifMatch: IfMatch | undefined,
    log: FastifyInstance['log'],
  ): Promise<{ response: StoredResponse; replayed: boolean }> {
    const keyHash = hashKey(key);
    const fingerprint = requestFingerprint(id, ifMatch, input);
    const claim = await idempotency.claim(keyHash, fingerprint);
    switch (claim.kind) {
      case 'completed':
        return { response: claim.response, replayed: true };
      case 'mismatch':
        throw new HttpError(
          422,
          'idempotency_key_reused',
          'this Idempotency-Key was already used with a different request',
        );
      case 'in-progress':
        throw new HttpError(
          409,
          'idempotency_key_in_progress',
          'a request with this Idempotency-Key is in progress; retry later',
          { 'retry-after': '1' },
        );
      case 'taken-over': {
        // An earlier attempt stopped without an answer. If its write landed, answer with it.
        const current = await store.get(id, { consistent: true });
        if (current?.writeKey === keyHash) {
          const response: StoredResponse = {
            statusCode: current.item.version === 1 ? 201 : 200,
            etag: current.etag,
            body: renderItem(current.item),
          };
          await cache.invalidate(id);
          await completeQuietly(keyHash, response, log);
          return { response, replayed: true };
        }
        break;
      }
      case 'claimed':
        break;
    }
    let response: StoredResponse;
    try {
      response = await write(id, input, ifMatch, keyHash);
    } catch (error) {
      const nothingWritten =
        error instanceof PreconditionFailedError ||
        (error instanceof DependencyError && !error.mayHaveHappened);
      try {
        await (nothingWritten ? idempotency.discard(keyHash) : idempotency.release(keyHash));
      } catch (cleanupError) {
        // The claim expires by itself; the client sees the original error.
        log.warn({ err: String(cleanupError) }, 'cannot release an idempotency claim');
      }
      throw error;
    }
    await completeQuietly(keyHash, response, log);
    return { response, replayed: false };
  }

  /** The write is done: failing to record its response must not turn it into an error. */
  async function completeQuietly(
    keyHash: string,
    response: StoredResponse,
    log: FastifyInstance['log'],
  ): Promise<void> {
    try {
      await idempotency.complete(keyHash, response);
    } catch (error) {
      log.warn(
        { err: String(error) },
        'cannot record an idempotent response; a retry after the claim expires will find the write',
      );
    }
  }

  app.put<{ Params: IdParams; Body: ItemInput; Headers: PutHeaders }>(
    '/api/items/:id',
    { schema: { params: idParams, body: itemBody, headers: putHeaders } },
    async (request, reply) => {
      const { id } = request.params;
      if (id.startsWith(RESERVED_ID_PREFIX)) {
        throw new BadRequestError(
          `item ids starting with '${RESERVED_ID_PREFIX}' are reserved, got '${id}'`,
        );
      }
      const ifMatch = parseIfMatch(request.headers['if-match']);
      const input: ItemInput = {
        name: request.body.name,
        price: request.body.price,
        ...(request.body.tags ? { tags: request.body.tags } : {}),
      };
      const key = request.headers['idempotency-key'];
      if (key === undefined) {
        const response = await write(id, input, ifMatch, undefined);
        return sendItemBody(reply, response.statusCode, response.etag, response.body);
      }
      const { response, replayed } = await writeOnce(key, id, input, ifMatch, request.log);
      if (replayed) reply.header('idempotent-replayed', 'true');
      return sendItemBody(reply, response.statusCode, response.etag, response.body);
    },
  );
}
