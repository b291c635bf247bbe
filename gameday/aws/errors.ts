/**
 * What can go wrong for the game-day CLI, each with a message a user can act on and an exit code.
 * No stack trace ever reaches the terminal.
 */

/** A mistake in how the CLI was called: exit 2 with the usage. */
export class UsageError extends Error {
  public override readonly name = 'UsageError';
  public readonly exitCode = 2;
}

/** Anything else the user must fix or know: exit 1 (or the code given). */
export class GameDayCliError extends Error {
  public override readonly name = 'GameDayCliError';

  constructor(
    message: string,
    public readonly exitCode = 1,
  ) {
    super(message);
  }
}

interface AwsErrorLike {
  readonly name: string;
  readonly message: string;
  readonly code?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

function isAwsErrorLike(value: unknown): value is AwsErrorLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { name?: unknown }).name === 'string' &&
    typeof (value as { message?: unknown }).message === 'string'
  );
}

const CREDENTIAL_ERRORS = new Set([
  'CredentialsProviderError',
  'ProviderError',
  'TokenProviderError',
]);
const REJECTED_CREDENTIALS = new Set([
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'SignatureDoesNotMatch',
  'InvalidSignatureException',
  'IncompleteSignature',
]);
const EXPIRED = new Set(['ExpiredToken', 'ExpiredTokenException', 'RequestExpired']);
const NETWORK_CODES = new Set([
  'ENOTFOUND',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EAI_AGAIN',
]);

/**
 * Turns an AWS SDK failure into a GameDayCliError that says what to do. `doing` names the call in
 * words (`read stack Blueprint-eu-west-1`); `region` is where it went.
 */
export function explainAwsError(error: unknown, doing: string, region: string): GameDayCliError {
  if (error instanceof GameDayCliError) return error;
  if (!isAwsErrorLike(error)) return new GameDayCliError(`Could not ${doing}: ${String(error)}`);
  const firstLine = error.message.split('\n')[0];
  if (CREDENTIAL_ERRORS.has(error.name) || /could not load credentials/i.test(error.message)) {
    return new GameDayCliError(
      'No AWS credentials found. Sign in first (for example `aws sso login --profile <name>` and ' +
        '`export AWS_PROFILE=<name>`, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), then run again.',
    );
  }
  if (EXPIRED.has(error.name)) {
    return new GameDayCliError(
      `Your AWS credentials have expired (${firstLine}). Sign in again, then run again.`,
    );
  }
  if (REJECTED_CREDENTIALS.has(error.name)) {
    return new GameDayCliError(
      `AWS rejected your credentials (${error.name}: ${firstLine}). Check AWS_PROFILE or the access keys.`,
    );
  }
  if (error.name === 'AccessDenied' || error.name === 'AccessDeniedException') {
    return new GameDayCliError(
      `Your credentials may not ${doing} (${firstLine}). A game day needs ` +
        'cloudformation:DescribeStacks, states:StartExecution/DescribeExecution/GetExecutionHistory ' +
        'and s3:GetObject on the report bucket.',
    );
  }
  const code = typeof error.code === 'string' ? error.code : undefined;
  if ((code && NETWORK_CODES.has(code)) || error.name === 'TimeoutError') {
    return new GameDayCliError(
      `Could not reach AWS in ${region} to ${doing} (${code ?? error.name}). Check the network and the region.`,
    );
  }
  return new GameDayCliError(`Could not ${doing}: ${error.name}: ${firstLine}`);
}

/** The name an AWS error carries, or undefined. */
export const awsErrorName = (error: unknown): string | undefined =>
  isAwsErrorLike(error) ? error.name : undefined;
