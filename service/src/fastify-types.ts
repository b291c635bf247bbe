import type { ResponseCheck } from './health/response-check';

declare module 'fastify' {
  interface FastifyRequest {
    /** The readiness check's own sentinel read: same pipeline, kept out of traffic statistics. */
    isProbe: boolean;
    /** Set by the last onSend hook: the measured body of this request's response. */
    responseCheck: ResponseCheck | undefined;
    /** Set by the item read: whether the cache answered. */
    cacheOutcome: 'hit' | 'miss' | undefined;
  }
}
