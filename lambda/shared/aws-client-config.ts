/**
 * What every SDK client of the functions shares: timeouts and the standard retry strategy
 * (`clientConfig`), and the classification of failures for chaos work (`addOutcomeClassifier`).
 * It imports no SDK client, so a function loads only the clients it creates.
 */
import type { FinalizeRequestMiddleware, MiddlewareStack } from '@smithy/types';

import { OutcomeUnknownError, isErrorLike } from './errors';

export interface AwsClientOptions {
  /** Override the endpoint (tests point this at a loopback fake). */
  readonly endpoint?: string;
  readonly region?: string;
  /** Whole-request timeout: connect, send, and receive the full answer. */
  readonly requestTimeoutMs?: number;
  readonly connectionTimeoutMs?: number;
  /** Attempts in all, the first included. */
  readonly maxAttempts?: number;
}

export const AWS_CLIENT_DEFAULTS = {
  requestTimeoutMs: 5_000,
  connectionTimeoutMs: 2_000,
  maxAttempts: 4,
} as const;

/**
 * The configuration every client shares: the SDK's standard retry strategy (exponential backoff
 * with full jitter, capped by the SDK at 20 s; throttling errors back off from a larger base),
 * and a timeout that turns a hung call into an error instead of a hung function.
 */
export function clientConfig(options: AwsClientOptions = {}) {
  return {
    region: options.region,
    endpoint: options.endpoint,
    maxAttempts: options.maxAttempts ?? AWS_CLIENT_DEFAULTS.maxAttempts,
    retryMode: 'standard',
    requestHandler: {
      requestTimeout: options.requestTimeoutMs ?? AWS_CLIENT_DEFAULTS.requestTimeoutMs,
      // Without this the handler only logs a warning when requestTimeout passes.
      throwOnRequestTimeout: true,
      connectionTimeout: options.connectionTimeoutMs ?? AWS_CLIENT_DEFAULTS.connectionTimeoutMs,
    },
  } as const;
}

/**
 * The same classification for any client, given its mutating commands (ElastiCache's
 * RebootCacheCluster uses it): a failure is
 * - failed before send (a refused connection): retried by the standard strategy, harmless;
 * - retryable (throttling, 5xx, or an unreadable 2xx on a read): retried by the standard strategy;
 * - fatal (any other 4xx): thrown as is, never retried;
 * - unknown (a mutating call that timed out, was reset, or got an unreadable 2xx): an
 *   OutcomeUnknownError, which no strategy retries; the caller reads the real state instead.
 */
export function addOutcomeClassifier<I extends object, O extends object>(
  client: { readonly middlewareStack: MiddlewareStack<I, O> },
  mutating: ReadonlySet<string>,
): void {
  const classifier: FinalizeRequestMiddleware<I, O> = (next, context) => async (args) => {
    try {
      return await next(args);
    } catch (error) {
      throw classifyFailure(error, context.commandName ?? 'UnknownCommand', mutating);
    }
  };
  client.middlewareStack.addRelativeTo(classifier, {
    // Inside the retry loop, so that the retry strategy sees the classified error.
    relation: 'after',
    toMiddleware: 'retryMiddleware',
    name: 'chaosOutcomeClassifier',
    override: true,
  });
}

export function classifyFailure(
  error: unknown,
  commandName: string,
  mutating: ReadonlySet<string>,
): unknown {
  if (!isErrorLike(error)) return error;
  const operation = commandName.replace(/Command$/, '');
  const code = (error as { code?: unknown }).code;
  const timedOut =
    error.name === 'TimeoutError' ||
    (typeof code === 'string' && ['ETIMEDOUT', 'ECONNRESET', 'EPIPE'].includes(code));
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  // A 2xx never carries a modeled error: an error with a 2xx status is a body we could not parse.
  const unreadableSuccess = status !== undefined && status >= 200 && status < 300;

  if (mutating.has(commandName)) {
    if (timedOut || unreadableSuccess) {
      const firstLine = error.message.split('\n')[0] ?? '';
      return new OutcomeUnknownError(operation, `${error.name}: ${firstLine}`);
    }
    return error;
  }
  if (unreadableSuccess) {
    Object.assign(error, { $retryable: { throttling: false } });
  }
  return error;
}
