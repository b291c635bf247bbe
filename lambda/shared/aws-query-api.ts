/**
 * A small client for an AWS service on the query protocol (awsQuery: `POST /` with a form body
 * `Action=<Operation>&Version=<date>&…`, an XML answer), signed with the SDK's SigV4 signer
 * (`signed-http.ts`). ELBv2 and ElastiCache speak it. Each client reads the few elements it needs
 * from the answer (`xml-text.ts`) instead of loading the SDK's XML parser and every shape.
 *
 * Failures follow `SignedEndpoint.call`: throttling and a read's 5xx, timeout, reset or unreadable
 * answer are asked again with capped backoff and full jitter; a write (`mutating`) whose answer
 * was lost is an OutcomeUnknownError; any other error answer is an AwsApiError with the service's
 * `<Code>` and `<Message>`.
 */
import { AwsApiError } from './aws-json-api';
import { type SignedClientOptions, SignedEndpoint } from './signed-http';
import { textOf } from './xml-text';

export { AwsApiError } from './aws-json-api';

export interface AwsQueryService {
  /** The signing name, also the regional host's first label (`elasticloadbalancing`). */
  readonly signingName: string;
  /** The API version every request names (`2015-12-01`). */
  readonly version: string;
  /** The operations that change state: a lost answer to one of them is UNKNOWN. */
  readonly mutating: ReadonlySet<string>;
  /** Error codes that mean "asked too fast", besides HTTP 429. */
  readonly throttling: ReadonlySet<string>;
}

export class AwsQueryApi {
  private readonly api: SignedEndpoint;

  constructor(
    private readonly service: AwsQueryService,
    options: SignedClientOptions,
  ) {
    this.api = new SignedEndpoint(service.signingName, options);
  }

  /**
   * Calls `operation` with its query parameters (`CacheNodeIdsToReboot.CacheNodeId.1`, as the
   * service's query serialization names list members). `read` takes the XML of a 2xx answer and
   * returns undefined when the answer is not the whole `<OperationResponse>`.
   */
  call<T>(
    operation: string,
    parameters: Readonly<Record<string, string>>,
    read: (xml: string) => T | undefined,
  ): Promise<T> {
    const { version, mutating, throttling } = this.service;
    return this.api.call<T>(
      {
        method: 'POST',
        path: '/',
        query: {},
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          Action: operation,
          Version: version,
          ...parameters,
        }).toString(),
      },
      {
        operation,
        mutating: mutating.has(operation),
        read: (answer) =>
          answer.body.includes(`</${operation}Response>`) ? read(answer.body) : undefined,
        fail: (answer) =>
          new AwsApiError(
            operation,
            textOf(answer.body, 'Code') ?? `HTTP ${answer.status}`,
            answer.status,
            textOf(answer.body, 'Message') ?? answer.body.slice(0, 200),
          ),
        retryable: (error, status) =>
          status === 429 || status >= 500 || throttling.has((error as AwsApiError).type),
      },
    );
  }
}
