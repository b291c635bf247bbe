import type { FastifyInstance, FastifyReply } from 'fastify';

import { BadRequestError, HttpError, NotFoundError, WriteOutcomeUnknownError } from '../errors';
import { hashKey } from '../items/applied-writes';
import { renderItem, type ItemCache } from '../items/item-cache';
import {
  ITEM_ID_PATTERN,
  RESERVED_ID_PREFIX,
  unstorableNumber,
  type IfMatch,
  type ItemInput,
  type ItemsStore,
} from '../items/items-store';

export interface ItemRoutesDependencies {
  readonly store: ItemsStore;
  readonly cache: ItemCache;
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
  const { store, cache } = deps;

  app.get<{ Params: IdParams }>(
    '/api/items/:id',
    { schema: { params: idParams } },
    async (request, reply) => {
      const { id } = request.params;
      const lookup = await cache.lookup(id);
      if (lookup.kind === 'hit') {
        request.cacheOutcome = 'hit';
        // A body that parsed needs no second parse in the response guard; a garbled one gets it.
        request.bodyKnownJson = lookup.wellFormed;
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
      const priceProblem = unstorableNumber('body/price', input.price);
      if (priceProblem) throw new HttpError(400, 'validation_failed', priceProblem);
      const key = request.headers['idempotency-key'];
      let written;
      try {
        written = await store.put(id, input, {
          ifMatch,
          idempotency:
            key === undefined
              ? undefined
              : { keyHash: hashKey(key), fingerprint: requestFingerprint(id, ifMatch, input) },
        });
      } catch (error) {
        // It may be stored: do not let the cache keep serving the version before it.
        if (error instanceof WriteOutcomeUnknownError) await cache.invalidate(id);
        throw error;
      }
      const { stored, replayed } = written;
      // A replay invalidates too: the first request may have stopped before it could.
      await cache.invalidate(id);
      if (replayed) reply.header('idempotent-replayed', 'true');
      return sendItemBody(
        reply,
        stored.item.version === 1 ? 201 : 200,
        stored.etag,
        renderItem(stored.item),
      );
    },
  );
}
