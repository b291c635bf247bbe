import { setTimeout as sleep } from 'node:timers/promises';

import type { FastifyInstance, FastifyReply } from 'fastify';

import type { FaultType } from './fault-document';
import type { FaultState } from './fault-state';

/** Faults act on the API only: the health routes must keep telling the truth about it. */
function isApi(url: string): boolean {
  return url.startsWith('/api/');
}

/** Names the faults applied to a response, so a game day can count what clients got. */
function markFault(reply: FastifyReply, type: FaultType): void {
  const applied = reply.getHeader('x-fault-injected');
  void reply.header('x-fault-injected', applied ? `${String(applied)}, ${type}` : type);
}

/**
 * Applies request faults. `latency` and `error-status` act before the handler; `empty-response`
 * replaces the finished body with nothing and keeps the status and headers, like the full-disk
 * server that answered every request with a fast, empty 200. Register before the response guard,
 * so it measures (and, unless the fault bypasses it, replaces) what the fault produced.
 */
export function registerFaultHooks(app: FastifyInstance, faults: FaultState): void {
  app.addHook('onRequest', async (request, reply) => {
    if (!isApi(request.url)) return undefined;
    const latency = faults.hit('latency');
    if (latency) {
      markFault(reply, 'latency');
      await sleep(latency.latencyMs);
    }
    const errorStatus = faults.hit('error-status');
    if (!errorStatus) return undefined;
    markFault(reply, 'error-status');
    // Answering here ends the request: the handler does not run.
    return reply.code(errorStatus.status).send({
      error: 'fault_injected',
      message: `game-day fault: error-status ${errorStatus.status}`,
      requestId: request.id,
    });
  });

  app.addHook('onSend', async (request, reply, payload) => {
    if (!isApi(request.url)) return payload;
    const empty = faults.hit('empty-response');
    if (!empty) return payload;
    markFault(reply, 'empty-response');
    // By default the empty body gets past the response guard, as it reached clients in the
    // incident; with `bypassGuard: false` the guard replaces it with a 500.
    request.guardBypassed = empty.bypassGuard;
    return '';
  });
}
