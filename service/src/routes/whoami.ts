import type { FastifyInstance } from 'fastify';

import type { TaskIdentity } from '../identity';

/** Which region, AZ and task answered: the static site shows it. */
export function registerWhoamiRoute(app: FastifyInstance, identity: TaskIdentity): void {
  const body = {
    region: identity.region,
    availabilityZone: identity.availabilityZone,
    taskId: identity.taskId,
    version: identity.version,
  };
  app.get('/api/whoami', async (_request, reply) =>
    reply.header('cache-control', 'no-store').send(body),
  );
}
