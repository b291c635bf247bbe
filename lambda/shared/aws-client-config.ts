/**
 * What the functions' SDK clients share (the DynamoDB client of the state table and idempotency
 * records): timeouts and the standard retry strategy (`clientConfig`). Every other AWS call goes
 * through a small signed client (`signed-http.ts`), whose retry rules classify writes' failures.
 */
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
