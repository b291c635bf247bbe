import type { FastifyInstance } from 'fastify';

import type { Readiness } from '../health/readiness';

/**
 * `/health/live`: the process answers (never shed, never deep: a liveness failure gets the task
 * killed). `/health/ready`: the deep check; 200 with the token, or 503 with the reasons.
 */
export function registerHealthRoutes(app: FastifyInstance, readiness: Readiness): void {
  app.get('/health/live', async (_request, reply) =>
    reply.header('cache-control', 'no-store').send({ status: 'live' }),
  );

  app.get('/health/ready', async (_request, reply) => {
    const result = await readiness.check();
    return reply
      .code(result.ready ? 200 : 503)
      .header('cache-control', 'no-store')
      .type('application/json; charset=utf-8')
      .send(result.body);
  });
}
