import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import type { ErrorBody } from '../errors';

import { checkResponse, type ResponseCheck } from './response-check';

/** Whether the guard stands between this response and the client: API routes only. */
function isGuarded(request: FastifyRequest): boolean {
  return request.url.startsWith('/api/');
}

/** What the client gets instead of a known-bad API body. */
function replacementBody(request: FastifyRequest): string {
  const safe = request.method === 'GET' || request.method === 'HEAD';
  const body: ErrorBody = {
    error: 'invalid_response',
    message: safe
      ? 'the service produced an invalid response; retry'
      : 'the service produced an invalid response after handling the request: it may have been applied; read it back, or retry with the same Idempotency-Key',
    requestId: request.id,
  };
  return JSON.stringify(body);
}

/**
 * The response guard: the last onSend hook (register it after every hook that may change a
 * body). It measures each body as it leaves (`request.responseCheck`, which self-ejection and the
 * metrics read) and replaces a zero-length or malformed API body with a 500 and a JSON error body,
 * so clients never get a known-bad 200. Bodies known to be JSON (serialized from objects, or a
 * cached item the item cache has parsed) have only their length checked; other text is parsed.
 *
 * A fault may set `request.guardBypassed` to let a bad body through, as it reached clients in the
 * incident a game day replays; it is still measured and counted.
 */
export function registerResponseGuard(app: FastifyInstance): void {
  // Callback-style hooks: an async hook costs a promise per response.
  app.addHook('preSerialization', (request, _reply, payload, done) => {
    request.bodyKnownJson = true;
    done(null, payload);
  });

  app.addHook('onSend', (request, reply, payload, done) => {
    const check: ResponseCheck = checkResponse(
      payload,
      reply.getHeader('content-type'),
      reply.statusCode,
      request.method,
      request.bodyKnownJson,
    );
    request.responseCheck = check;
    if (!(check.zeroLength || check.malformed) || request.guardBypassed || !isGuarded(request)) {
      done(null, payload);
      return;
    }
    request.guardReplaced = true;
    done(null, replace(request, reply));
  });
}

function replace(request: FastifyRequest, reply: FastifyReply): string {
  void reply.code(500).type('application/json; charset=utf-8');
  reply.removeHeader('etag');
  reply.removeHeader('content-length');
  return replacementBody(request);
}
