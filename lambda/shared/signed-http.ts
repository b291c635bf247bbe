/**
 * One SigV4-signed HTTP request over node:http(s), for the small typed clients that stand in for an
 * SDK client a function would load for one or two calls (ARC Zonal Shift, which the npm registry
 * here does not carry; EC2's DescribeAvailabilityZones, whose SDK client is over 500 KiB).
 * It signs with the SDK's own signer (@smithy/signature-v4) and ends a request that has no complete
 * answer within the timeout. `SignedEndpoint.call` asks again, with backoff, only where asking
 * again is harmless; what an answer means stays with each client.
 */
import { createHash, createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type {
  AwsCredentialIdentityProvider,
  Checksum,
  HttpRequest,
  SourceData,
} from '@smithy/types';

import { isErrorLike, OutcomeUnknownError } from './errors';

/** Node's crypto as the signer's hash (what @smithy/hash-node does, without one more package). */
export class Sha256 implements Checksum {
  private hash;

  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }

  update(data: Uint8Array | string): void {
    this.hash.update(typeof data === 'string' ? data : Buffer.from(data));
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }

  reset(): void {
    this.hash = this.fresh();
  }

  private fresh() {
    if (this.secret === undefined) return createHash('sha256');
    const key =
      typeof this.secret === 'string'
        ? this.secret
        : Buffer.from(ArrayBuffer.isView(this.secret) ? this.secret.buffer : this.secret);
    return createHmac('sha256', key);
  }
}

export interface RawAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

export interface SignedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  /** Content headers of the body (`content-type`); `host` and `content-length` are added. */
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /**
   * Send on a connection of its own, not one kept alive from an earlier request. A kept-alive
   * socket may have been closed by the service while the function was frozen; a write sent on it
   * is reset, and a reset write is UNKNOWN. A fresh connection that is reset was not stale.
   * @default false
   */
  readonly freshConnection?: boolean;
}

/**
 * Where a request failed before anything of it was sent: signing it (credentials), or connecting
 * (DNS, a refused or timed-out connect). Set as `stage` on the error.
 */
export type NotSentStage = 'sign' | 'connect';

function markStage<E>(error: E, stage: NotSentStage): E {
  return typeof error === 'object' && error !== null ? Object.assign(error, { stage }) : error;
}

/** The stage at which `error` stopped a request before anything was sent, if it did. */
export function notSentStage(error: unknown): NotSentStage | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { stage, code } = error as { stage?: unknown; code?: unknown };
  if (stage === 'sign' || stage === 'connect') return stage;
  return typeof code === 'string' && ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN'].includes(code)
    ? 'connect'
    : undefined;
}

/**
 * Signs and sends one request to `url`'s host. Rejects when the connection fails or is reset, or
 * when no complete answer came within `timeoutMs` (a `TimeoutError`); any complete answer, error
 * statuses included, resolves.
 */
export async function sendSigned(
  signer: RequestSigner,
  url: URL,
  request: SignedRequest,
  timeoutMs: number,
): Promise<RawAnswer> {
  const { method, path, query, body } = request;
  const headers: Record<string, string> = { ...request.headers, host: url.host };
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
  let signed: Awaited<ReturnType<RequestSigner['sign']>>;
  try {
    signed = await signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path,
      query,
      headers,
      body,
    });
  } catch (error) {
    throw markStage(error, 'sign');
  }
  const search = new URLSearchParams(query).toString();
  const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
  return new Promise<RawAnswer>((resolve, reject) => {
    const req = send(
      {
        method,
        hostname: url.hostname,
        port: url.port || undefined,
        path: search ? `${path}?${search}` : path,
        headers: signed.headers,
        timeout: timeoutMs,
        ...(request.freshConnection ? { agent: false } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    // Until the connection is up, nothing of the request can have reached the service.
    let connected = false;
    req.on('socket', (socket) => {
      if (!socket.connecting) connected = true;
      else socket.once('connect', () => (connected = true));
    });
    const timer = setTimeout(() => {
      const e = new Error(`no complete answer within ${timeoutMs} ms`);
      e.name = 'TimeoutError';
      req.destroy(e);
    }, timeoutMs);
    req.on('close', () => clearTimeout(timer));
    req.on('error', (error) => reject(connected ? error : markStage(error, 'connect')));
    req.end(body);
  });
}

/** A path segment percent-encoded as AWS takes it (RFC 3986: `!'()*` too, which encodeURIComponent keeps). */
export function encodePathSegment(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** What signs a request: the SDK's SignatureV4, or its SignatureV4a. */
export interface RequestSigner {
  /** `options` as the SDK's signers take them (a signing date, a region); none are passed here. */
  sign(request: HttpRequest, options?: Record<string, unknown>): Promise<HttpRequest>;
}

/** A signer's constructor, as SignatureV4's and SignatureV4a's take their options. */
export type SignerClass = new (options: {
  readonly service: string;
  readonly region: string;
  readonly credentials: AwsCredentialIdentityProvider;
  readonly sha256: new (secret?: SourceData) => Checksum;
  readonly uriEscapePath: boolean;
}) => RequestSigner;

/** How `SignedEndpoint.call` reads the answers of one operation. */
export interface CallRules<T> {
  /** The operation's name, for errors. */
  readonly operation: string;
  /** Whether the call changes state: then a lost answer is UNKNOWN, never asked again. */
  readonly mutating: boolean;
  /** The result of a 2xx answer, or undefined when its body cannot be read. */
  readonly read: (answer: RawAnswer) => T | undefined;
  /** The error an error status (not 2xx) becomes. */
  readonly fail: (answer: RawAnswer) => Error;
  /** Whether that error may be asked again (throttling, a 5xx on a read). */
  readonly retryable: (error: Error, status: number) => boolean;
}

/** A JSON body, or undefined when there is none or it is not JSON (cut short, an HTML page). */
export function readJson<T>(answer: RawAnswer): T | undefined {
  if (answer.body === '') return {} as T;
  try {
    return JSON.parse(answer.body) as T;
  } catch {
    return undefined;
  }
}

/**
 * The type and message of a JSON error answer: the type from `x-amzn-errortype` or `__type`,
 * without its namespace (`aws.ecs#ClientException` and `ClientException:http://...` are both
 * `ClientException`), else `HTTP <status>`.
 */
export function jsonErrorOf(answer: RawAnswer): {
  readonly type: string;
  readonly message: string;
  readonly reason?: string;
} {
  const header = answer.headers['x-amzn-errortype'];
  const parsed =
    readJson<{ message?: string; Message?: string; reason?: string; __type?: string }>(answer) ??
    {};
  const type =
    (typeof header === 'string' ? header : (parsed.__type ?? '')).split(':')[0].split('#').pop() ||
    `HTTP ${answer.status}`;
  return {
    type,
    message: parsed.message ?? parsed.Message ?? answer.body.slice(0, 200),
    ...(parsed.reason === undefined ? {} : { reason: parsed.reason }),
  };
}

/** The longest wait between two attempts. */
export const MAX_BACKOFF_MS = 20_000;

/** What every small signed client is configured with. */
export interface SignedClientOptions {
  readonly region: string;
  /** Override the endpoint (tests point this at a loopback fake). @default - the regional AWS endpoint */
  readonly endpoint?: string;
  /** @default - the SDK's default credential provider (in the bundle: the Lambda environment) */
  readonly credentials?: AwsCredentialIdentityProvider;
  /** Whole-request timeout. @default 5000 */
  readonly requestTimeoutMs?: number;
  /** Attempts in all, for what the client may retry. @default 4 */
  readonly maxAttempts?: number;
  /** Base of the exponential backoff with full jitter between attempts. @default 200 */
  readonly backoffBaseMs?: number;
  readonly random?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * One AWS service endpoint of a small signed client: its URL and signer, the request timeout, and
 * the attempts and backoff (exponential, full jitter) the client's own retry rules use.
 */
export class SignedEndpoint {
  readonly maxAttempts: number;
  private readonly url: URL;
  private readonly signer: RequestSigner;
  private readonly timeoutMs: number;
  private readonly backoffBaseMs: number;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  /**
   * `service` is the signing name (`ec2`, `arc-zonal-shift`), also the regional host's first label.
   * `signing.host` is another host (S3's `<bucket>.s3.<region>.amazonaws.com`); with
   * `uriEscapePath: false` the path is signed as sent (S3), not escaped once more. `Signer` and
   * `region` sign with another algorithm (SigV4A for CloudFront KeyValueStore, region `*`), which
   * only the client that needs it imports.
   */
  constructor(
    service: string,
    options: SignedClientOptions,
    signing: {
      readonly host?: string;
      readonly uriEscapePath?: boolean;
      readonly Signer?: SignerClass;
      readonly region?: string;
    } = {},
  ) {
    this.url = new URL(
      options.endpoint ?? `https://${signing.host ?? `${service}.${options.region}.amazonaws.com`}`,
    );
    this.signer = new (signing.Signer ?? SignatureV4)({
      service,
      region: signing.region ?? options.region,
      credentials: options.credentials ?? defaultProvider(),
      sha256: Sha256,
      uriEscapePath: signing.uriEscapePath ?? true,
    });
    this.timeoutMs = options.requestTimeoutMs ?? 5_000;
    this.maxAttempts = options.maxAttempts ?? 4;
    this.backoffBaseMs = options.backoffBaseMs ?? 200;
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** Signs and sends one request (sendSigned, with this endpoint's timeout). */
  send(request: SignedRequest): Promise<RawAnswer> {
    return sendSigned(this.signer, this.url, request, this.timeoutMs);
  }

  /**
   * Sends `request` until an answer settles it, asking again (with backoff) only where that is
   * harmless:
   * - not signed (no credentials): thrown at once;
   * - not sent (DNS, a refused or timed-out connect): asked again, a write too;
   * - a write goes on a fresh connection (`freshConnection`), so that a reset is never a stale
   *   kept-alive socket's;
   * - timeout or reset: a read is asked again; a write may have landed: OutcomeUnknownError;
   * - 2xx: `rules.read` gives the result; a body it cannot read is asked again on a read, and is
   *   an OutcomeUnknownError on a write;
   * - error status: `rules.fail` makes the error. A write's 5xx may have landed:
   *   OutcomeUnknownError. Otherwise it is asked again when `rules.retryable` says so (throttling
   *   never landed), else thrown.
   * After `maxAttempts`, the last failure is thrown.
   */
  async call<T>(request: SignedRequest, rules: CallRules<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.attempt(request, rules);
      if ('result' in outcome) return outcome.result;
      if (attempt >= this.maxAttempts) throw outcome.failure;
      await this.backoff(attempt);
    }
  }

  /** One attempt of `call`: its result, a failure that may be asked again, or a throw. */
  private async attempt<T>(
    request: SignedRequest,
    rules: CallRules<T>,
  ): Promise<{ readonly result: T } | { readonly failure: Error }> {
    const { operation, mutating } = rules;
    let answer: RawAnswer;
    try {
      answer = await this.send(mutating ? { ...request, freshConnection: true } : request);
    } catch (error) {
      // Not `instanceof Error`: an error of node's own realm is not one in a test's sandbox.
      const failure = isErrorLike(error) ? (error as Error) : new Error(String(error));
      const notSent = notSentStage(failure);
      // Signing failed (no credentials): nothing was sent, and asking again will not help.
      if (notSent === 'sign') throw failure;
      if (mutating && notSent === undefined) {
        throw new OutcomeUnknownError(operation, `${failure.name}: ${failure.message}`);
      }
      return { failure };
    }
    if (answer.status >= 200 && answer.status < 300) {
      const result = rules.read(answer);
      if (result !== undefined) return { result };
      const reason = `unreadable ${answer.status} answer: ${answer.body.slice(0, 200)}`;
      if (mutating) throw new OutcomeUnknownError(operation, reason);
      return { failure: new Error(`${operation}: ${reason}`) };
    }
    const error = rules.fail(answer);
    if (mutating && answer.status >= 500) throw new OutcomeUnknownError(operation, error.message);
    if (!rules.retryable(error, answer.status)) throw error;
    return { failure: error };
  }

  /**
   * Waits before the attempt after `attempt` (1-based): full jitter over base × 2^(attempt-1),
   * capped at MAX_BACKOFF_MS as the SDK's standard strategy caps it.
   */
  backoff(attempt: number): Promise<void> {
    const ceiling = Math.min(MAX_BACKOFF_MS, this.backoffBaseMs * 2 ** (attempt - 1));
    return this.sleep(Math.floor(this.random() * ceiling));
  }
}
