/**
 * A fake CloudFront KeyValueStore data-plane endpoint on 127.0.0.1 that speaks the KVS REST-JSON
 * protocol, so that tests drive the edge-health store's requests (signed with SigV4A) against it.
 * It keeps one store: its items and an ETag that changes on every write;
 * `UpdateKeys` and `PutKey` apply only when `If-Match` is the current ETag (else 409
 * ConflictException, as KVS answers).
 *
 * Faults, one per call, in order: the write applied and then the connection cut (the answer lost),
 * a reset before anything happens, a late answer, a 500. `beforeWrite` lets a test make another
 * writer land between a caller's read and its write (an ETag race).
 *
 *   const kvs = await FakeKvs.start(ARN, { 'eu-west-1': 'healthy' });
 *   kvs.inject({ kind: 'lose-response' });
 *   ...
 *   await kvs.close();
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import { LoopbackHttpFake } from './loopback-http-fake';

export type KvsInjection =
  /** The call is applied, then the connection is cut before any answer. */
  | { readonly kind: 'lose-response' }
  /** The connection is reset before the call is applied. */
  | { readonly kind: 'reset' }
  /** The call is applied and answered after `delayMs`. */
  | { readonly kind: 'delay'; readonly delayMs: number }
  /** 500 InternalServerException, nothing applied. */
  | { readonly kind: 'server-error' };

export interface KvsCall {
  readonly operation: 'DescribeKeyValueStore' | 'GetKey' | 'PutKey' | 'UpdateKeys' | 'other';
  /** The `If-Match` a write carried. */
  readonly ifMatch?: string;
  /** What the fake did: `ok`, `conflict`, `not-found` or the injection's kind. */
  readonly answer: string;
  /** The Authorization header's algorithm, e.g. `AWS4-ECDSA-P256-SHA256` for SigV4A. */
  readonly algorithm: string;
  readonly regionSet?: string;
}

export class FakeKvs extends LoopbackHttpFake {
  public readonly calls: KvsCall[] = [];
  /** Writes that changed the store. */
  public appliedWrites = 0;
  /** Runs before a write is checked against the ETag (e.g. another writer's write). */
  public beforeWrite?: () => void;
  private readonly items = new Map<string, string>();
  private version = 1;
  private readonly injections: KvsInjection[] = [];
  /** Which operations the injections apply to. @default - writes only */
  private injectInto: ReadonlySet<KvsCall['operation']> = new Set(['PutKey', 'UpdateKeys']);

  private constructor(private readonly arn: string) {
    super();
  }

  static async start(arn: string, items: Readonly<Record<string, string>> = {}): Promise<FakeKvs> {
    const fake = new FakeKvs(arn);
    for (const [k, v] of Object.entries(items)) fake.items.set(k, v);
    await fake.listen();
    return fake;
  }

  get etag(): string {
    return `ETAG${this.version}`;
  }

  /** The store's items now. */
  snapshot(): Record<string, string> {
    return Object.fromEntries([...this.items].sort(([a], [b]) => a.localeCompare(b)));
  }

  /** Another writer's write: changes items and the ETag. */
  externalWrite(items: Readonly<Record<string, string>>): void {
    for (const [k, v] of Object.entries(items)) this.items.set(k, v);
    this.version++;
  }

  /** Queues injections for the next calls of `operations`, one per call, in order. */
  inject(
    injections: readonly KvsInjection[],
    operations: readonly KvsCall['operation'][] = ['PutKey', 'UpdateKeys'],
  ): void {
    this.injections.push(...injections);
    this.injectInto = new Set(operations);
  }

  protected override handlerFailed(res: ServerResponse, error: unknown): void {
    this.error(res, 500, 'InternalServerException', String(error));
  }

  protected override async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const parts = url.pathname.split('/').map((p) => decodeURIComponent(p));
    // '', 'key-value-stores', <arn>, ['keys', [<key>]]
    const operation = this.operationOf(req.method ?? '', parts);
    const auth = String(req.headers.authorization ?? '');
    const ifMatch = req.headers['if-match'];
    const record = (answer: string) =>
      this.calls.push({
        operation,
        ifMatch,
        answer,
        algorithm: auth.split(' ')[0] ?? '',
        regionSet: req.headers['x-amz-region-set'] as string | undefined,
      });
    if (parts[1] !== 'key-value-stores' || parts[2] !== this.arn || operation === 'other') {
      record('not-found');
      this.error(res, 404, 'ResourceNotFoundException', `no such store or path ${url.pathname}`);
      return;
    }
    const injection = this.injectInto.has(operation) ? this.injections.shift() : undefined;
    if (injection?.kind === 'reset') {
      record('reset');
      req.socket.destroy();
      return;
    }
    if (injection?.kind === 'server-error') {
      record('server-error');
      this.error(res, 500, 'InternalServerException', 'injected');
      return;
    }
    const answer = this.apply(operation, parts[4], ifMatch, body);
    record(injection?.kind ?? answer.kind);
    if (injection?.kind === 'lose-response') {
      req.socket.destroy();
      return;
    }
    const send = () => {
      if (answer.kind === 'ok') {
        res.writeHead(200, { 'content-type': 'application/json', ...answer.headers });
        res.end(JSON.stringify(answer.body));
      } else {
        this.error(res, answer.status, answer.code, answer.message);
      }
    };
    if (injection?.kind === 'delay') this.replyLater(res, injection.delayMs, send);
    else send();
  }

  private operationOf(method: string, parts: string[]): KvsCall['operation'] {
    if (method === 'GET' && parts.length === 3) return 'DescribeKeyValueStore';
    if (method === 'GET' && parts.length === 5 && parts[3] === 'keys') return 'GetKey';
    if (method === 'PUT' && parts.length === 5 && parts[3] === 'keys') return 'PutKey';
    if (method === 'POST' && parts.length === 4 && parts[3] === 'keys') return 'UpdateKeys';
    return 'other';
  }

  private stats() {
    let size = 0;
    for (const [k, v] of this.items) size += Buffer.byteLength(k) + Buffer.byteLength(v);
    return { ItemCount: this.items.size, TotalSizeInBytes: size };
  }

  private apply(
    operation: KvsCall['operation'],
    key: string | undefined,
    ifMatch: string | undefined,
    body: string,
  ):
    | { kind: 'ok'; body: unknown; headers: Record<string, string> }
    | {
        kind: 'conflict' | 'not-found' | 'invalid';
        status: number;
        code: string;
        message: string;
      } {
    if (operation === 'DescribeKeyValueStore') {
      return {
        kind: 'ok',
        headers: { etag: this.etag },
        body: { ...this.stats(), KvsARN: this.arn, Created: 1_700_000_000, Status: 'READY' },
      };
    }
    if (operation === 'GetKey') {
      const value = key === undefined ? undefined : this.items.get(key);
      if (value === undefined) {
        return {
          kind: 'not-found',
          status: 404,
          code: 'ResourceNotFoundException',
          message: `no key ${key}`,
        };
      }
      return { kind: 'ok', headers: {}, body: { Key: key, Value: value, ...this.stats() } };
    }
    this.beforeWrite?.();
    if (ifMatch !== this.etag) {
      return {
        kind: 'conflict',
        status: 409,
        code: 'ConflictException',
        message: `Pre-condition failed: If-Match ${ifMatch} is not the current ETag`,
      };
    }
    const parsed = JSON.parse(body || '{}') as {
      Value?: string;
      Puts?: { Key: string; Value: string }[];
      Deletes?: { Key: string }[];
    };
    if (operation === 'PutKey') {
      if (key === undefined || parsed.Value === undefined) {
        return {
          kind: 'invalid',
          status: 400,
          code: 'ValidationException',
          message: 'Key and Value are required',
        };
      }
      this.items.set(key, parsed.Value);
    } else {
      for (const put of parsed.Puts ?? []) this.items.set(put.Key, put.Value);
      for (const del of parsed.Deletes ?? []) this.items.delete(del.Key);
    }
    this.version++;
    this.appliedWrites++;
    return { kind: 'ok', headers: { etag: this.etag }, body: this.stats() };
  }

  private error(res: ServerResponse, status: number, code: string, message: string): void {
    res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': code });
    res.end(JSON.stringify({ Message: message }));
  }
}
