import type { ResponseCheck } from './health/response-check';

declare module 'fastify' {
  interface FastifyRequest {
    /** The readiness check's own sentinel read: same pipeline, kept out of traffic statistics. */
    isProbe: boolean;
    /** Set by the response guard: the measured body of this request's response (before any replacement). */
    responseCheck: ResponseCheck | undefined;
    /** Set by the item read: whether the cache answered. */
    cacheOutcome: 'hit' | 'miss' | undefined;
    /**
     * Set when the body is known to be JSON: Fastify's serializer produced it, or the item cache
     * already parsed the cached text (the guard then checks only its length).
     */
    bodyKnownJson: boolean;
    /** Set by a fault that lets a bad body reach the client past the guard. */
    guardBypassed: boolean;
    /** Set by the guard when it replaced a bad body. */
    guardReplaced: boolean;
    /** Set when the request was shed for overload (it does not count for self-ejection). */
    shed: boolean;
  }
}
