/**
 * How an outbound call ended. The four failure outcomes tell operators different things:
 * - `failed-before-send`: the request never left (refused, DNS, connect timeout, open breaker);
 *   it certainly did not happen and is safe to retry;
 * - `retryable`: the dependency answered with a transient error (throttling, 5xx) after our retries;
 * - `fatal`: the dependency answered with an error retrying cannot fix (validation, access, 4xx);
 * - `unknown`: the request was sent and no answer came (timeout, reset): it may have happened.
 */
export const DEPENDENCY_OUTCOMES = [
  'ok',
  'failed-before-send',
  'retryable',
  'fatal',
  'unknown',
] as const;
export type DependencyOutcome = (typeof DEPENDENCY_OUTCOMES)[number];
export type FailureOutcome = Exclude<DependencyOutcome, 'ok'>;

export type DependencyName = 'dynamodb' | 'memcached' | 'ssm';

/** A dependency call that failed, with its classified outcome. Routes map it to a 503. */
export class DependencyError extends Error {
  override readonly name = 'DependencyError';

  constructor(
    readonly dependency: DependencyName,
    readonly operation: string,
    readonly outcome: FailureOutcome,
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(`${dependency} ${operation} failed (${outcome}) after ${attempts} attempt(s)`, options);
  }

  /** True when the call may have taken effect even though it failed. */
  get mayHaveHappened(): boolean {
    return this.outcome === 'unknown' || this.outcome === 'retryable';
  }
}

/** Where an attempt got to before it failed. */
export type AttemptReach = 'not-sent' | 'maybe-sent' | 'answered';

/** Node error codes that mean the request never reached the peer. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'ERR_INVALID_URL',
]);

function property(error: unknown, key: string): unknown {
  return typeof error === 'object' && error !== null
    ? (error as Record<string, unknown>)[key]
    : undefined;
}

/** How far a failed attempt got, judged from the error it threw. */
export function attemptReach(error: unknown): AttemptReach {
  const metadata = property(error, '$metadata');
  if (typeof property(metadata, 'httpStatusCode') === 'number') return 'answered';
  const code = property(error, 'code') ?? property(property(error, 'cause'), 'code');
  if (typeof code === 'string' && NOT_SENT_CODES.has(code)) return 'not-sent';
  const message = error instanceof Error ? error.message : '';
  // @smithy/node-http-handler's connect timeout; memjs's connect timeout.
  if (/did not establish a connection|timed out connecting/i.test(message)) return 'not-sent';
  return 'maybe-sent';
}

/** The error names the AWS SDK's standard retry strategy treats as throttling (and retries). */
const THROTTLING_ERRORS = new Set([
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'LimitExceededException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
]);

/** True for an AWS service error retrying can fix: throttling, 5xx, or one the SDK marked retryable. */
export function isRetryableServiceError(error: unknown): boolean {
  const status = property(property(error, '$metadata'), 'httpStatusCode');
  const name = property(error, 'name');
  return (
    property(error, '$retryable') !== undefined ||
    property(error, '$fault') === 'server' ||
    (typeof name === 'string' && THROTTLING_ERRORS.has(name)) ||
    (typeof status === 'number' && (status >= 500 || status === 429))
  );
}

/**
 * Classifies a failed AWS SDK call. `attempts` lists how far each failed attempt got (recorded by
 * the per-attempt middleware). No recorded attempt means the call failed before reaching the
 * transport (credentials, serialization). If any attempt may have reached the service and none
 * answered, the outcome is unknown even when the last attempt was refused.
 */
export function classifyAwsFailure(
  error: unknown,
  attempts: readonly AttemptReach[],
): FailureOutcome {
  if (attemptReach(error) === 'answered') {
    return isRetryableServiceError(error) ? 'retryable' : 'fatal';
  }
  return attempts.every((reach) => reach === 'not-sent') ? 'failed-before-send' : 'unknown';
}
