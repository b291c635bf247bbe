/**
 * A fake ARC Zonal Shift endpoint on 127.0.0.1 speaking its REST-JSON protocol (signed requests,
 * `x-amzn-ErrorType` on errors), for the typed client in lambda/shared/zonal-shift-client.ts.
 * It keeps shifts per resource with ARC's rule of one ACTIVE customer shift per resource, and
 * injects the faults a game day must survive:
 *
 *   const arc = await FakeArcZonalShift.start();
 *   arc.inject('StartZonalShift', { kind: 'lost' });  // applies, then answers too late
 *   ...
 *   await arc.close();
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import { LoopbackHttpFake } from './loopback-http-fake';

export type ArcInjection =
  /** The change is applied, but the answer only comes after `delayMs` (past the client's timeout). */
  | { readonly kind: 'lost'; readonly delayMs: number }
  /** The connection is reset before anything is applied. */
  | { readonly kind: 'reset' }
  /** The change is applied, then the connection is reset. */
  | { readonly kind: 'reset-after-apply' }
  /** 500 InternalServerException, nothing applied. */
  | { readonly kind: 'server-error' }
  /** 429 ThrottlingException, nothing applied. */
  | { readonly kind: 'throttle' }
  /** Applied, then 200 with a body that is not JSON. */
  | { readonly kind: 'malformed' };

export interface FakeShift {
  zonalShiftId: string;
  resourceIdentifier: string;
  awayFrom: string;
  expiresIn: string;
  comment: string;
  status: 'ACTIVE' | 'EXPIRED' | 'CANCELED';
  startTime: number;
}

export interface ArcCall {
  readonly operation: string;
  readonly signedFor: string | undefined;
  readonly answer: 'ok' | ArcInjection['kind'] | number;
}

const EXPIRES_IN = /^([1-9]\d*)(m|h|d)$/;

export class FakeArcZonalShift extends LoopbackHttpFake {
  public readonly shifts: FakeShift[] = [];
  public readonly calls: ArcCall[] = [];
  private readonly injections = new Map<string, ArcInjection[]>();
  private next = 1;

  private constructor() {
    super();
  }

  static async start(): Promise<FakeArcZonalShift> {
    const fake = new FakeArcZonalShift();
    await fake.listen();
    return fake;
  }

  /** Queues injections for the next calls of one operation, one per call. */
  inject(operation: string, ...injections: ArcInjection[]): void {
    this.injections.set(operation, [...(this.injections.get(operation) ?? []), ...injections]);
  }

  /** Drops every queued injection. */
  clearInjections(): void {
    this.injections.clear();
  }

  /** Adds a shift someone else started (an operator, a practice run). */
  addShift(shift: Omit<FakeShift, 'zonalShiftId' | 'startTime'>): FakeShift {
    const full = { ...shift, zonalShiftId: `zs-${this.next++}`, startTime: Date.now() / 1000 };
    this.shifts.push(full);
    return full;
  }

  active(resourceIdentifier: string): FakeShift[] {
    return this.shifts.filter(
      (s) => s.resourceIdentifier === resourceIdentifier && s.status === 'ACTIVE',
    );
  }

  protected override handlerFailed(res: ServerResponse, error: unknown): void {
    this.error(res, 500, 'InternalServerException', String(error));
  }

  protected override async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://fake');
    const auth = String(req.headers.authorization ?? '');
    const signedFor =
      /^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(auth);
    const route = this.route(req.method ?? '', url.pathname);
    if (!route) return this.error(res, 404, 'UnknownOperationException', 'no such route');
    const record = (answer: ArcCall['answer']) =>
      this.calls.push({
        operation: route.operation,
        signedFor: signedFor ? `${signedFor[1]}/${signedFor[2]}` : undefined,
        answer,
      });
    if (!signedFor || signedFor[2] !== 'arc-zonal-shift' || !req.headers['x-amz-date']) {
      record(403);
      return this.error(
        res,
        403,
        'AccessDeniedException',
        'request not signed for arc-zonal-shift',
      );
    }
    const injection = this.injections.get(route.operation)?.shift();
    if (injection?.kind === 'reset') {
      record('reset');
      req.socket.destroy();
      return;
    }
    if (injection?.kind === 'server-error' || injection?.kind === 'throttle') {
      record(injection.kind);
      return injection.kind === 'throttle'
        ? this.error(res, 429, 'ThrottlingException', 'Rate exceeded')
        : this.error(res, 500, 'InternalServerException', 'internal error');
    }
    const [status, body] = this.apply(route, url, raw);
    record(injection ? injection.kind : status);
    if (injection?.kind === 'reset-after-apply') {
      req.socket.destroy();
      return;
    }
    const send = () => {
      if (injection?.kind === 'malformed') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"zonalShiftId":');
        return;
      }
      if (status >= 400) {
        const b = body as { type: string; message: string; reason?: string };
        return this.error(res, status, b.type, b.message, b.reason);
      }
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (injection?.kind === 'lost') this.replyLater(res, injection.delayMs, send);
    else send();
  }

  private route(method: string, path: string): { operation: string; id?: string } | undefined {
    if (path === '/zonalshifts' && method === 'POST') return { operation: 'StartZonalShift' };
    if (path === '/zonalshifts' && method === 'GET') return { operation: 'ListZonalShifts' };
    const one = /^\/zonalshifts\/([^/]+)$/.exec(path);
    if (one && method === 'DELETE') {
      return { operation: 'CancelZonalShift', id: decodeURIComponent(one[1]) };
    }
    const managed = /^\/managedresources\/(.+)$/.exec(path);
    if (managed && method === 'GET') {
      return { operation: 'GetManagedResource', id: decodeURIComponent(managed[1]) };
    }
    return undefined;
  }

  private apply(
    route: { operation: string; id?: string },
    url: URL,
    raw: string,
  ): [number, unknown] {
    const fail = (status: number, type: string, message: string, reason?: string) =>
      [status, { type, message, reason }] as [number, unknown];
    switch (route.operation) {
      case 'StartZonalShift': {
        const input = JSON.parse(raw) as Partial<FakeShift>;
        if (
          typeof input.resourceIdentifier !== 'string' ||
          typeof input.awayFrom !== 'string' ||
          typeof input.comment !== 'string' ||
          input.comment.length > 128 ||
          !EXPIRES_IN.test(input.expiresIn ?? '')
        ) {
          return fail(400, 'ValidationException', 'invalid StartZonalShift input');
        }
        if (this.active(input.resourceIdentifier).length > 0) {
          return fail(
            409,
            'ConflictException',
            'a zonal shift is active',
            'ZonalShiftAlreadyExists',
          );
        }
        const shift = this.addShift({
          resourceIdentifier: input.resourceIdentifier,
          awayFrom: input.awayFrom,
          expiresIn: input.expiresIn ?? '',
          comment: input.comment,
          status: 'ACTIVE',
        });
        return [201, shift];
      }
      case 'CancelZonalShift': {
        const shift = this.shifts.find((s) => s.zonalShiftId === route.id);
        if (!shift) return fail(404, 'ResourceNotFoundException', `no zonal shift ${route.id}`);
        if (shift.status !== 'ACTIVE') {
          return fail(409, 'ConflictException', 'not active', 'ZonalShiftStatusNotActive');
        }
        shift.status = 'CANCELED';
        return [200, shift];
      }
      case 'ListZonalShifts': {
        const resource = url.searchParams.get('resourceIdentifier');
        const status = url.searchParams.get('status');
        const all = this.shifts.filter(
          (s) =>
            (!resource || s.resourceIdentifier === resource) && (!status || s.status === status),
        );
        // Pages of one, so that paging is always exercised.
        const from = Number(url.searchParams.get('nextToken') ?? '0');
        const items = all.slice(from, from + 1).map((s) => ({ ...s, shiftType: 'ZONAL_SHIFT' }));
        return [200, { items, ...(from + 1 < all.length ? { nextToken: String(from + 1) } : {}) }];
      }
      default: {
        const id = route.id ?? '';
        const shifts = this.active(id);
        return [
          200,
          {
            arn: id,
            appliedWeights: Object.fromEntries(shifts.map((s) => [s.awayFrom, 0])),
            zonalShifts: shifts,
          },
        ];
      }
    }
  }

  private error(
    res: ServerResponse,
    status: number,
    type: string,
    message: string,
    reason?: string,
  ): void {
    res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type });
    res.end(JSON.stringify({ message, ...(reason ? { reason } : {}) }));
  }
}
