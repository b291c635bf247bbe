import { setTimeout as sleep } from 'node:timers/promises';

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

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
  const errorStatusFault = (request: FastifyRequest, reply: FastifyReply): boolean => {
    const errorStatus = faults.hit('error-status');
    if (!errorStatus) return false;
    markFault(reply, 'error-status');
    // Answering here ends the request: the handler does not run.
    void reply.code(errorStatus.status).send({
      error: 'fault_injected',
      message: `game-day fault: error-status ${errorStatus.status}`,
      requestId: request.id,
    });
    return true;
  };

  // Callback-style: without faults (the common case) a request costs no promise here.
  app.addHook('onRequest', (request, reply, done) => {
    if (!isApi(request.url)) {
      done();
      return;
    }
    const latency = faults.hit('latency');
    if (!latency) {
      if (!errorStatusFault(request, reply)) done();
      return;
    }
    markFault(reply, 'latency');
    sleep(latency.latencyMs).then(
      () => {
        if (!errorStatusFault(request, reply)) done();
      },
      (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
    );
  });

  app.addHook('onSend', (request, reply, payload, done) => {
    const empty = isApi(request.url) ? faults.hit('empty-response') : undefined;
    if (!empty) {
      done(null, payload);
      return;
    }
    markFault(reply, 'empty-response');
    // By default the empty body gets past the response guard, as it reached clients in the
    // incident; with `bypassGuard: false` the guard replaces it with a 500.
    request.guardBypassed = empty.bypassGuard;
    done(null, '');
  });
}
