/**
 * A small typed client for the ARC Zonal Shift API (REST-JSON, service `arc-zonal-shift`), which
 * the npm registry this project builds from does not carry as `@aws-sdk/client-arc-zonal-shift`.
 * It signs with the SDK's own SigV4 signer and credential chain and sends with node:http(s)
 * (`signed-http.ts`):
 *
 *   StartZonalShift   POST   /zonalshifts                     {resourceIdentifier, awayFrom, expiresIn, comment}
 *   CancelZonalShift  DELETE /zonalshifts/{zonalShiftId}
 *   ListZonalShifts   GET    /zonalshifts?resourceIdentifier=&status=&nextToken=
 *   GetManagedResource GET   /managedresources/{resourceIdentifier}
 *
 * Failures are classified for chaos work: a mutating call that timed out, was reset, got a 5xx or
 * an unreadable 2xx MAY have happened and becomes an OutcomeUnknownError, which callers follow with
 * a list (see `zonal-shift.ts`); throttling and 5xx on reads are retried here with backoff.
 */
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';

import { OutcomeUnknownError } from './errors';
import { type RawAnswer, Sha256, sendSigned } from './signed-http';

export type ZonalShiftStatus = 'ACTIVE' | 'EXPIRED' | 'CANCELED';

export interface ZonalShift {
  readonly zonalShiftId: string;
  readonly resourceIdentifier: string;
  /** The AZ ID (e.g. `euw1-az1`) traffic is shifted away from. */
  readonly awayFrom: string;
  readonly status?: ZonalShiftStatus;
  readonly comment: string;
  readonly startTime?: number | string;
  readonly expiryTime?: number | string;
  /** Only in list answers: `CUSTOMER` (ours or an operator's), `FIS_EXPERIMENT`, `PRACTICE`... */
  readonly shiftType?: string;
}

export interface ManagedResource {
  readonly arn?: string;
  readonly name?: string;
  /** Traffic weight per AZ ID: 0 for an AZ shifted away from. */
  readonly appliedWeights?: Readonly<Record<string, number>>;
  readonly zonalShifts?: readonly ZonalShift[];
  readonly zonalAutoshiftStatus?: string;
}

/** An error answer of the API: its type (`ConflictException`), HTTP status, and `reason` if any. */
export class ZonalShiftApiError extends Error {
  public override readonly name = 'ZonalShiftApiError';

  constructor(
    public readonly operation: string,
    public readonly type: string,
    public readonly status: number,
    detail: string,
    public readonly reason?: string,
  ) {
    super(`${operation} failed: ${type}${reason ? ` (${reason})` : ''}: ${detail}`);
  }
}

export interface ZonalShiftClientOptions {
  readonly region: string;
  /** Override the endpoint (tests point this at a loopback fake). @default - the regional AWS endpoint */
  readonly endpoint?: string;
  /** @default - the SDK's default credential chain */
  readonly credentials?: AwsCredentialIdentityProvider;
  /** Whole-request timeout. @default 5000 */
  readonly requestTimeoutMs?: number;
  /** Attempts in all for reads, and for writes that surely did not happen (429, 4xx none). @default 4 */
  readonly maxAttempts?: number;
  /** Base of the exponential backoff with full jitter between attempts. @default 200 */
  readonly backoffBaseMs?: number;
  readonly random?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export class ZonalShiftClient {
  private readonly url: URL;
  private readonly signer: SignatureV4;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly backoffBaseMs: number;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: ZonalShiftClientOptions) {
    this.url = new URL(
      options.endpoint ?? `https://arc-zonal-shift.${options.region}.amazonaws.com`,
    );
    this.signer = new SignatureV4({
      service: 'arc-zonal-shift',
      region: options.region,
      credentials: options.credentials ?? defaultProvider(),
      sha256: Sha256,
    });
    this.timeoutMs = options.requestTimeoutMs ?? 5_000;
    this.maxAttempts = options.maxAttempts ?? 4;
    this.backoffBaseMs = options.backoffBaseMs ?? 200;
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** Starts a shift. OutcomeUnknownError when it may have started: list before starting again. */
  startZonalShift(input: {
    readonly resourceIdentifier: string;
    readonly awayFrom: string;
    readonly expiresIn: string;
    readonly comment: string;
  }): Promise<ZonalShift> {
    return this.call<ZonalShift>('StartZonalShift', 'POST', '/zonalshifts', {}, input, true);
  }

  /** Cancels a shift. Idempotent in effect: a shift already ended answers 409/404, which callers take as done. */
  cancelZonalShift(zonalShiftId: string): Promise<ZonalShift> {
    return this.call<ZonalShift>(
      'CancelZonalShift',
      'DELETE',
      `/zonalshifts/${encodeURIComponent(zonalShiftId)}`,
      {},
      undefined,
      true,
    );
  }

  /** Every shift (all pages) on one resource, optionally of one status. */
  async listZonalShifts(input: {
    readonly resourceIdentifier: string;
    readonly status?: ZonalShiftStatus;
  }): Promise<ZonalShift[]> {
    const items: ZonalShift[] = [];
    let nextToken: string | undefined;
    for (let page = 0; page < 50; page++) {
      const answer = await this.call<{ items?: ZonalShift[]; nextToken?: string }>(
        'ListZonalShifts',
        'GET',
        '/zonalshifts',
        {
          resourceIdentifier: input.resourceIdentifier,
          ...(input.status ? { status: input.status } : {}),
          ...(nextToken ? { nextToken } : {}),
        },
        undefined,
        false,
      );
      items.push(...(answer.items ?? []));
      nextToken = answer.nextToken;
      if (!nextToken) return items;
    }
    throw new Error('ListZonalShifts returned more than 50 pages; refusing to go on');
  }

  getManagedResource(resourceIdentifier: string): Promise<ManagedResource> {
    return this.call<ManagedResource>(
      'GetManagedResource',
      'GET',
      `/managedresources/${encodeURIComponent(resourceIdentifier)}`,
      {},
      undefined,
      false,
    );
  }

  private async call<T>(
    operation: string,
    method: string,
    path: string,
    query: Record<string, string>,
    body: object | undefined,
    mutating: boolean,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let answer: RawAnswer;
      try {
        answer = await this.send(method, path, query, body);
      } catch (error) {
        // Timed out or reset: a write may have landed.
        const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        if (mutating) throw new OutcomeUnknownError(operation, reason);
        if (attempt >= this.maxAttempts) throw error;
        await this.backoff(attempt);
        continue;
      }
      if (answer.status >= 200 && answer.status < 300) {
        try {
          return (answer.body ? JSON.parse(answer.body) : {}) as T;
        } catch {
          const reason = `unreadable ${answer.status} body`;
          if (mutating) throw new OutcomeUnknownError(operation, reason);
          if (attempt >= this.maxAttempts) throw new Error(`${operation}: ${reason}`);
          await this.backoff(attempt);
          continue;
        }
      }
      const error = parseError(operation, answer);
      // 5xx on a write: it may have happened. 429 never happened: retry it.
      if (mutating && answer.status >= 500) {
        throw new OutcomeUnknownError(operation, error.message);
      }
      const retryable = answer.status === 429 || answer.status >= 500;
      if (!retryable || attempt >= this.maxAttempts) throw error;
      await this.backoff(attempt);
    }
  }

  private backoff(attempt: number): Promise<void> {
    return this.sleep(Math.floor(this.random() * this.backoffBaseMs * 2 ** (attempt - 1)));
  }

  private send(
    method: string,
    path: string,
    query: Record<string, string>,
    body: object | undefined,
  ): Promise<RawAnswer> {
    return sendSigned(
      this.signer,
      this.url,
      {
        method,
        path,
        query,
        ...(body === undefined
          ? {}
          : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      },
      this.timeoutMs,
    );
  }
}

function parseError(operation: string, answer: RawAnswer): ZonalShiftApiError {
  const header = answer.headers['x-amzn-errortype'];
  let parsed: { message?: string; Message?: string; reason?: string; __type?: string } = {};
  try {
    parsed = JSON.parse(answer.body) as typeof parsed;
  } catch {
    // Not JSON: the type comes from the header or the status.
  }
  const type =
    (typeof header === 'string' ? header : (parsed.__type ?? '')).split(':')[0].split('#').pop() ||
    `HTTP ${answer.status}`;
  return new ZonalShiftApiError(
    operation,
    type,
    answer.status,
    parsed.message ?? parsed.Message ?? answer.body.slice(0, 200),
    parsed.reason,
  );
}
