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
 * a list (see `zonal-shift.ts`); throttling and 5xx on reads are retried with backoff
 * (`SignedEndpoint.call`).
 */
import { jsonErrorOf, readJson, type SignedClientOptions, SignedEndpoint } from './signed-http';

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

/** Reads, and writes that surely did not happen (429, no answer before sending), are retried. */
export type ZonalShiftClientOptions = SignedClientOptions;

export class ZonalShiftClient {
  private readonly api: SignedEndpoint;

  constructor(options: ZonalShiftClientOptions) {
    this.api = new SignedEndpoint('arc-zonal-shift', options);
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

  private call<T>(
    operation: string,
    method: string,
    path: string,
    query: Record<string, string>,
    body: object | undefined,
    mutating: boolean,
  ): Promise<T> {
    return this.api.call<T>(
      {
        method,
        path,
        query,
        ...(body === undefined
          ? {}
          : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      },
      {
        operation,
        mutating,
        read: readJson,
        fail: (answer) => {
          const { type, message, reason } = jsonErrorOf(answer);
          return new ZonalShiftApiError(operation, type, answer.status, message, reason);
        },
        // 429 never happened; a 5xx on a read is asked again (on a write it is UNKNOWN).
        retryable: (_error, status) => status === 429 || status >= 500,
      },
    );
  }
}
