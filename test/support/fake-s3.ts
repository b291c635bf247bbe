/**
 * A fake S3 endpoint on 127.0.0.1 for path-style PutObject (`PUT /<bucket>/<key>`), so that tests run
 * the functions' S3 client (lambda/shared/s3-objects.ts) against something that speaks S3: it
 * checks what S3 checks before it stores (a SigV4 `Authorization` for the `s3` service and an
 * `x-amz-content-sha256` that matches the body), answers errors in S3's XML, and injects the
 * failures a writer must survive: throttling, 5xx, a reply slower than the client's timeout.
 *
 *   const s3 = await FakeS3.start(['reports-bucket']);
 *   s3.inject({ kind: 'slow', delayMs: 500 });   // the next PUT is stored, and answered late
 *   ...
 *   await s3.close();
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

import { LoopbackHttpFake } from './loopback-http-fake';

export type S3Injection =
  | { readonly kind: 'slow-down' }
  | { readonly kind: 'server-error' }
  | { readonly kind: 'slow'; readonly delayMs: number };

export interface StoredObject {
  readonly body: string;
  readonly contentType: string | undefined;
}

export class FakeS3 extends LoopbackHttpFake {
  /** Stored objects by `<bucket>/<key>` (the key decoded). */
  public readonly objects = new Map<string, StoredObject>();
  /** Every PUT that reached the fake: its decoded key and what the fake answered. */
  public readonly puts: { readonly key: string; readonly answer: string }[] = [];
  private readonly injections: S3Injection[] = [];

  private constructor(private readonly buckets: ReadonlySet<string>) {
    super();
  }

  static async start(buckets: readonly string[]): Promise<FakeS3> {
    const fake = new FakeS3(new Set(buckets));
    await fake.listen();
    return fake;
  }

  /** Queues injections for the next PUTs, one per PUT, in order. */
  inject(...injections: S3Injection[]): void {
    this.injections.push(...injections);
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const [, bucket = '', ...parts] = (req.url ?? '').split('?')[0].split('/');
    const key = parts.map(decodeURIComponent).join('/');
    if (req.method !== 'PUT' || key === '') {
      this.error(res, 405, 'MethodNotAllowed', 'only PUT /<bucket>/<key> is faked');
      return;
    }
    const injection = this.injections.shift();
    this.puts.push({ key, answer: injection?.kind ?? 'ok' });
    const authorization = String(req.headers.authorization ?? '');
    if (
      !/^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/[a-z0-9-]+\/s3\/aws4_request,/.test(
        authorization,
      )
    ) {
      this.error(res, 403, 'AccessDenied', 'the request is not signed with SigV4 for s3');
      return;
    }
    if (req.headers['x-amz-content-sha256'] !== createHash('sha256').update(body).digest('hex')) {
      this.error(
        res,
        400,
        'XAmzContentSHA256Mismatch',
        'x-amz-content-sha256 does not match the body',
      );
      return;
    }
    if (!this.buckets.has(bucket)) {
      this.error(res, 404, 'NoSuchBucket', 'The specified bucket does not exist');
      return;
    }
    if (injection?.kind === 'slow-down') {
      this.error(res, 503, 'SlowDown', 'Please reduce your request rate.');
      return;
    }
    if (injection?.kind === 'server-error') {
      this.error(res, 500, 'InternalError', 'We encountered an internal error. Please try again.');
      return;
    }
    this.objects.set(`${bucket}/${key}`, {
      body: body.toString('utf8'),
      contentType: req.headers['content-type'],
    });
    const ok = () => {
      res.writeHead(200, { etag: '"fake"', 'content-length': 0 });
      res.end();
    };
    if (injection?.kind === 'slow') this.replyLater(res, injection.delayMs, ok);
    else ok();
  }

  private error(res: ServerResponse, status: number, code: string, message: string): void {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>fake</RequestId></Error>`;
    res.writeHead(status, {
      'content-type': 'application/xml',
      'content-length': Buffer.byteLength(xml),
    });
    res.end(xml);
  }
}
