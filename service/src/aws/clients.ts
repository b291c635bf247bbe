import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { FastifyBaseLogger } from 'fastify';

import {
  attemptReach,
  classifyAwsFailure,
  DependencyError,
  type AttemptReach,
  type DependencyName,
} from '../dependencies/outcome';
import type { DependencyMetrics } from '../metrics/emf';

/** Timeouts for one AWS call. Every call has all three. */
export interface AwsCallTimeouts {
  /** TCP (and TLS) connect, per attempt. */
  readonly connectTimeoutMs: number;
  /** Waiting for the response, per attempt. */
  readonly requestTimeoutMs: number;
  /** The whole call including retries and backoff: after it the call is abandoned. */
  readonly deadlineMs: number;
  /** Attempts including the first; retries only on retryable errors. */
  readonly maxAttempts: number;
}

export const DEFAULT_AWS_TIMEOUTS: AwsCallTimeouts = {
  connectTimeoutMs: 500,
  requestTimeoutMs: 1000,
  deadlineMs: 2500,
  maxAttempts: 3,
};

/** Where the per-attempt middleware leaves what each failed attempt reached. */
const ATTEMPTS = Symbol('attempts');

interface SdkClientLike {
  readonly middlewareStack: {
    add(middleware: unknown, options: Record<string, unknown>): void;
  };
}

/**
 * Records how far each failed attempt got. One middleware sits in the deserialize step, below the
 * retry middleware, so it sees every attempt's own error; the outermost one hands the list to the
 * error the SDK finally throws (which may be a wrapper, not the last attempt's error).
 */
function recordAttempts(client: SdkClientLike): void {
  type Context = Record<symbol, AttemptReach[] | undefined>;
  client.middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>, context: Context) => async (args: unknown) => {
      try {
        return await next(args);
      } catch (error) {
        (context[ATTEMPTS] ??= []).push(attemptReach(error));
        throw error;
      }
    },
    { step: 'deserialize', name: 'recordAttemptReach', priority: 'high' },
  );
  client.middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>, context: Context) => async (args: unknown) => {
      try {
        return await next(args);
      } catch (error) {
        if (typeof error === 'object' && error !== null) {
          (error as Context)[ATTEMPTS] = context[ATTEMPTS] ?? [];
        }
        throw error;
      }
    },
    { step: 'initialize', name: 'attachAttemptReach', priority: 'high' },
  );
}

function attemptsOf(error: unknown): AttemptReach[] {
  return typeof error === 'object' && error !== null
    ? ((error as Record<symbol, AttemptReach[] | undefined>)[ATTEMPTS] ?? [])
    : [];
}

/**
 * SDK client settings shared by DynamoDB and SSM: connect and request timeouts on the Node handler,
 * and the SDK's standard retry strategy (capped exponential backoff with full jitter; its retry
 * quota is the process-wide retry budget, so a failing dependency cannot cause a retry storm).
 */
function sdkClientConfig(region: string, timeouts: AwsCallTimeouts, endpoint?: string) {
  return {
    region,
    endpoint,
    maxAttempts: timeouts.maxAttempts,
    retryMode: 'standard',
    requestHandler: {
      connectionTimeout: timeouts.connectTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      throwOnRequestTimeout: true,
      httpAgent: { keepAlive: true, maxSockets: 64 },
      httpsAgent: { keepAlive: true, maxSockets: 64 },
    },
  };
}

export interface DynamoDbClientOptions {
  /**
   * Whether the SDK retries failed calls. Conditional writes must not be retried blindly: when the
   * first attempt lands and its answer is lost, the retry fails its own condition (a 412 for the
   * client's own write) or applies twice. Their callers retry after reading back instead.
   * @default true
   */
  readonly sdkRetries?: boolean;
}

export function createDynamoDbClient(
  region: string,
  timeouts: AwsCallTimeouts,
  endpoint?: string,
  options: DynamoDbClientOptions = {},
): DynamoDBDocumentClient {
  const attempts = options.sdkRetries === false ? { ...timeouts, maxAttempts: 1 } : timeouts;
  const client = new DynamoDBClient(sdkClientConfig(region, attempts, endpoint));
  const documentClient = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  recordAttempts(documentClient);
  return documentClient;
}

export function createSsmClient(region: string, timeouts: AwsCallTimeouts): SSMClient {
  const client = new SSMClient(sdkClientConfig(region, timeouts));
  recordAttempts(client);
  return client;
}

type CallLog = Pick<FastifyBaseLogger, 'warn'>;

/** Errors that are expected answers, not failures (e.g. a conditional write that lost). */
export type ExpectedError = (error: unknown) => boolean;

/**
 * Runs AWS calls with a deadline, counts their outcomes and turns failures into a
 * {@link DependencyError} that says whether the call may have happened.
 */
export class AwsCaller {
  constructor(
    private readonly dependency: DependencyName,
    private readonly timeouts: AwsCallTimeouts,
    private readonly metrics: DependencyMetrics,
    private readonly log: CallLog,
  ) {}

  async call<T>(
    operation: string,
    send: (abortSignal: AbortSignal) => Promise<T>,
    expected: ExpectedError = () => false,
  ): Promise<T> {
    try {
      const result = await send(AbortSignal.timeout(this.timeouts.deadlineMs));
      this.metrics.record(this.dependency, 'ok');
      return result;
    } catch (error) {
      if (expected(error)) {
        this.metrics.record(this.dependency, 'ok');
        throw error;
      }
      const attempts = attemptsOf(error);
      const outcome = classifyAwsFailure(error, attempts);
      this.metrics.record(this.dependency, outcome);
      this.log.warn(
        {
          dependency: this.dependency,
          operation,
          outcome,
          attempts: attempts.length,
          err: { name: errorName(error), message: errorMessage(error) },
        },
        `${this.dependency} ${operation} failed: ${outcome}`,
      );
      throw new DependencyError(this.dependency, operation, outcome, attempts.length, {
        cause: error,
      });
    }
  }
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
