/**
 * S3's PutObject without `@aws-sdk/client-s3` (over 300 KiB with the SDK runtime under it): one
 * SigV4-signed PUT (`signed-http.ts`) to the bucket's virtual-hosted address,
 * `https://<bucket>.s3.<region>.amazonaws.com/<key>`, or path-style to an `endpoint` override.
 *
 * A put of the same body at the same key is a repeat, not a new question, so a lost answer is asked
 * again like a read; so are S3's throttling (`SlowDown`, 503) and 5xx. Any other error answer is an
 * AwsApiError with S3's code (`AccessDenied`, `NoSuchBucket`) and message, thrown at once.
 */
import { AwsApiError } from './aws-json-api';
import {
  encodePathSegment,
  type RawAnswer,
  type SignedClientOptions,
  SignedEndpoint,
} from './signed-http';
import { textOf } from './xml-text';

/** Bucket names a virtual-hosted address takes over TLS: no dots, which the certificate would not cover. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const THROTTLING = new Set(['SlowDown', 'RequestTimeout', 'Throttling', 'ThrottlingException']);

/** A key as a URL path: each `/`-separated part percent-encoded (RFC 3986), the slashes kept. */
export function keyPath(key: string): string {
  return key.split('/').map(encodePathSegment).join('/');
}

function s3Error(operation: string, answer: RawAnswer): AwsApiError {
  const code = textOf(answer.body, 'Code') ?? `HTTP ${answer.status}`;
  const message = textOf(answer.body, 'Message') ?? answer.body.slice(0, 200);
  return new AwsApiError(operation, code, answer.status, message);
}

export class S3Objects {
  private readonly buckets = new Map<string, SignedEndpoint>();

  constructor(private readonly options: SignedClientOptions) {}

  /** Writes `body` at `key`; throws an AwsApiError, or the last failure after every attempt. */
  async put(bucket: string, key: string, body: string, contentType: string): Promise<void> {
    if (!BUCKET_NAME.test(bucket)) {
      throw new Error(
        `S3 bucket name ${JSON.stringify(bucket)} must be 3-63 lowercase letters, digits and hyphens (no dots)`,
      );
    }
    if (key === '' || key.length > 1024) {
      throw new Error(`S3 key must be 1-1024 characters, got ${key.length}`);
    }
    const pathStyle = this.options.endpoint !== undefined;
    await this.endpoint(bucket).call(
      {
        method: 'PUT',
        path: `${pathStyle ? `/${bucket}` : ''}/${keyPath(key)}`,
        query: {},
        headers: { 'content-type': contentType },
        body,
      },
      {
        operation: 'PutObject',
        mutating: false,
        read: () => true,
        fail: (answer) => s3Error('PutObject', answer),
        retryable: (error, status) =>
          status === 429 || status >= 500 || THROTTLING.has((error as AwsApiError).type),
      },
    );
  }

  private endpoint(bucket: string): SignedEndpoint {
    let endpoint = this.buckets.get(bucket);
    if (endpoint === undefined) {
      endpoint = new SignedEndpoint('s3', this.options, {
        host: `${bucket}.s3.${this.options.region}.amazonaws.com`,
        uriEscapePath: false,
      });
      this.buckets.set(bucket, endpoint);
    }
    return endpoint;
  }
}
