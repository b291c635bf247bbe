/**
 * A small typed client for an AWS service on its JSON protocol (awsJson1_0 or awsJson1_1: `POST /`,
 * `X-Amz-Target: <prefix>.<Operation>`, a JSON body each way), signed with the SDK's own SigV4
 * signer (`signed-http.ts`). ECS, SSM, CloudWatch and DynamoDB all speak it. An SDK client of one of
 * them, with the SDK runtime under it, is 100-300 KiB of minified JavaScript (every operation's
 * schema and error class) that a cold start loads for the two or three operations a function calls.
 *
 * Inputs and outputs are the SDK's own shapes (type-only imports: nothing of the SDK is loaded),
 * except that timestamps stay as the service sends them, seconds since the epoch (`Wire<T>`).
 *
 * Failures, as for every signed client (`SignedEndpoint.call`):
 * - throttling (the service's throttling types, 429) and a read's 5xx or timeout: asked again with
 *   capped backoff and full jitter;
 * - a write (`mutating`) that timed out, was reset, got a 5xx or an unreadable 2xx: an
 *   OutcomeUnknownError, never asked again; the caller reads the real state instead;
 * - any other error answer: an AwsApiError with the service's type (`ClientException`) and message.
 */
import { jsonErrorOf, readJson, type SignedClientOptions, SignedEndpoint } from './signed-http';

/** A shape as it travels: a `Date` of the SDK's types is a number of seconds on the wire. */
export type Wire<T> = T extends Date
  ? number
  : T extends readonly (infer E)[]
    ? Wire<E>[]
    : T extends object
      ? { [K in keyof T]: Wire<T[K]> }
      : T;

/** Operation name to [request, response], as the SDK names its shapes. */
export type JsonOperations<Ops> = { readonly [K in keyof Ops]: readonly [object, object] };

/** One service on the JSON protocol. */
export interface AwsJsonService<Ops extends JsonOperations<Ops>> {
  /** The signing name, also the regional host's first label (`ecs`, `ssm`). */
  readonly signingName: string;
  /** What `X-Amz-Target` starts with (`AmazonEC2ContainerServiceV20141113`). */
  readonly targetPrefix: string;
  readonly version: '1.0' | '1.1';
  /** The operations that change state: a lost answer to one of them is UNKNOWN. */
  readonly mutating: ReadonlySet<keyof Ops>;
  /** Error types that mean "asked too fast", besides HTTP 429. */
  readonly throttling: ReadonlySet<string>;
}

export interface CallOptions {
  /** The write is a repeat when asked again (see `AwsJsonApi.call`). @default false */
  readonly idempotent?: boolean;
}

/** An error answer: the service's type (`ClientException`, `ParameterNotFound`) and status. */
export class AwsApiError extends Error {
  public override readonly name = 'AwsApiError';

  constructor(
    public readonly operation: string,
    public readonly type: string,
    public readonly status: number,
    detail: string,
    /**
     * The error answer's JSON body, for what some errors carry besides their message (DynamoDB's
     * ConditionalCheckFailedException: the item, with ReturnValuesOnConditionCheckFailure).
     */
    public readonly body?: unknown,
  ) {
    super(`${operation} failed: ${type}: ${detail}`);
  }
}

export class AwsJsonApi<Ops extends JsonOperations<Ops>> {
  private readonly api: SignedEndpoint;

  constructor(
    private readonly service: AwsJsonService<Ops>,
    options: SignedClientOptions,
  ) {
    this.api = new SignedEndpoint(service.signingName, options);
  }

  /**
   * Calls one operation with the SDK's input shape; its answer in the SDK's output shape.
   * `idempotent` marks a write that asking again cannot change (a conditional write whose
   * condition admits its own earlier landing, by a token it writes): a lost answer to it is asked
   * again like a read's, not an UNKNOWN.
   */
  call<K extends keyof Ops & string>(
    operation: K,
    input: Wire<Ops[K][0]>,
    options: CallOptions = {},
  ): Promise<Wire<Ops[K][1]>> {
    const { targetPrefix, version, mutating, throttling } = this.service;
    return this.api.call<Wire<Ops[K][1]>>(
      {
        method: 'POST',
        path: '/',
        query: {},
        headers: {
          'content-type': `application/x-amz-json-${version}`,
          'x-amz-target': `${targetPrefix}.${operation}`,
        },
        body: JSON.stringify(input),
      },
      {
        operation,
        mutating: mutating.has(operation) && options.idempotent !== true,
        read: (answer) => {
          const body = readJson<Wire<Ops[K][1]>>(answer);
          return typeof body === 'object' && body !== null && !Array.isArray(body)
            ? body
            : undefined;
        },
        fail: (answer) => {
          const { type, message } = jsonErrorOf(answer);
          return new AwsApiError(operation, type, answer.status, message, readJson(answer));
        },
        retryable: (error, status) =>
          status === 429 || status >= 500 || throttling.has((error as AwsApiError).type),
      },
    );
  }
}
