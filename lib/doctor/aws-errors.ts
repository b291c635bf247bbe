/**
 * What an AWS call's failure means for the doctor:
 * - `no-credentials`: the SDK found no credentials; the AWS checks are skipped.
 * - `offline`: AWS could not be reached (DNS, connection, timeout); the AWS checks are skipped.
 * - `rejected`: AWS refused the credentials (expired, invalid, or a region not enabled).
 * - `access-denied`: the credentials may not make this call; the check cannot tell.
 * - `not-found`: the thing asked about does not exist.
 * - `other`: anything else.
 */
export type AwsErrorKind =
  'no-credentials' | 'offline' | 'rejected' | 'access-denied' | 'not-found' | 'other';

const NETWORK_CODES = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ECONNABORTED',
]);

const REJECTED = new Set([
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'ExpiredToken',
  'ExpiredTokenException',
  'RequestExpired',
  'SignatureDoesNotMatch',
  'InvalidSignatureException',
  'AuthFailure',
  'IncompleteSignature',
  'InvalidAccessKeyId',
]);

const ACCESS_DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'NotAuthorized',
]);

const NOT_FOUND = new Set([
  'NoSuchHostedZone',
  'ParameterNotFound',
  'NoSuchResourceException',
  'StackNotFoundException',
]);

interface ErrorLike {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

function asErrorLike(error: unknown): ErrorLike {
  return typeof error === 'object' && error !== null ? error : {};
}

/** The error's AWS code (`name`), or its Node code for network errors. */
export function errorCode(error: unknown): string {
  const e = asErrorLike(error);
  if (typeof e.name === 'string' && e.name !== 'Error') return e.name;
  if (typeof e.code === 'string') return e.code;
  return 'Error';
}

/** The error's first line, without a stack. */
export function errorMessage(error: unknown): string {
  const e = asErrorLike(error);
  const message = typeof e.message === 'string' ? e.message : String(error);
  return message.split('\n')[0].trim();
}

export function classifyAwsError(error: unknown): AwsErrorKind {
  const e = asErrorLike(error);
  const name = typeof e.name === 'string' ? e.name : '';
  const code = typeof e.code === 'string' ? e.code : '';
  if (name === 'CredentialsProviderError' || name === 'TokenProviderError') {
    return 'no-credentials';
  }
  if (
    NETWORK_CODES.has(code) ||
    name === 'TimeoutError' ||
    (e.$metadata?.httpStatusCode === undefined &&
      /getaddrinfo|socket hang up|connect E|network/i.test(errorMessage(error)))
  ) {
    return 'offline';
  }
  if (REJECTED.has(name)) return 'rejected';
  if (ACCESS_DENIED.has(name)) return 'access-denied';
  if (NOT_FOUND.has(name)) return 'not-found';
  if (name === 'ValidationError' && /does not exist/.test(errorMessage(error))) return 'not-found';
  return 'other';
}
