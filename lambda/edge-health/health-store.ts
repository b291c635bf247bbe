/**
 * The edge's health entries in a CloudFront KeyValueStore, and the one conditional write that
 * changes them.
 *
 * Each region has two keys:
 * - `<region>` = `healthy` | `unhealthy`: what the API router's CloudFront Function reads (a
 *   region whose key is missing counts as `missing`, which it routes to like a healthy one);
 * - `<region>.changed-at` = the ISO-8601 time of the alarm state that value came from, so an event
 *   that arrives late never overwrites a newer state with an older one.
 * Both change in one `UpdateKeys` call (all or nothing) conditioned on the store's ETag.
 */
import { SignatureV4a } from '@aws-sdk/signature-v4a';
import type { AwsCredentialIdentity } from '@aws-sdk/types';

import { AwsApiError } from '../shared/aws-json-api';
import {
  encodePathSegment,
  jsonErrorOf,
  readJson,
  type RawAnswer,
  SignedEndpoint,
} from '../shared/signed-http';

/** What the router acts on. */
export type EdgeHealth = 'healthy' | 'unhealthy';

/** One alarm state, turned into what the region's entry should say. */
export interface HealthObservation {
  readonly region: string;
  readonly health: EdgeHealth;
  /** When the alarm entered this state (ISO-8601); orders observations of one region. */
  readonly observedAt: string;
}

/** A region's entry as stored. */
export interface StoredEntry {
  /** The raw value of `<region>`, or undefined when the key is missing. */
  readonly value?: string;
  /** The raw value of `<region>.changed-at`, or undefined when missing (the seeded entries). */
  readonly changedAt?: string;
}

/** The three KeyValueStore calls the writer makes; the real one is `keyValueStoreHealth`. */
export interface HealthStore {
  /** The store's current ETag (`DescribeKeyValueStore`). */
  etag(): Promise<string>;
  read(region: string): Promise<StoredEntry>;
  /** Writes both keys of `observation`, if the store's ETag is still `etag`. */
  write(etag: string, observation: HealthObservation): Promise<void>;
}

export const changedAtKey = (region: string): string => `${region}.changed-at`;

export interface KeyValueStoreClientOptions {
  /**
   * Sends every call to this URL instead of `https://<account>.cloudfront-kvs.global.api.aws`
   * (tests: a loopback fake).
   * @default - the AWS endpoint the store's ARN names
   */
  readonly endpoint?: string;
  /** @default - the Lambda environment's credentials */
  readonly credentials?: AwsCredentialIdentity;
  /**
   * Time to wait for an answer before the call's outcome is unknown.
   * @default 3000
   */
  readonly requestTimeoutMs?: number;
}

/** `arn:aws:cloudfront::<account>:key-value-store/<id>`: the account names the data-plane host. */
const KVS_ARN = /^arn:aws[a-z-]*:cloudfront::(\d{12}):key-value-store\/[A-Za-z0-9-]+$/;

/**
 * The store behind `kvsArn`, through signed REST-JSON requests (SigV4A, which the KeyValueStore API
 * requires; `signed-http.ts`), not the SDK's KeyValueStore client. Each call is made once: the
 * writer (`write-health.ts`) owns the retries, since a conditional write asked again would meet its
 * own ETag change and look like a conflict. A read that finds no key answers undefined; any other
 * failure is thrown (an AwsApiError with the status, a timeout, or OutcomeUnknownError for a write
 * whose answer was lost).
 */
export function keyValueStoreHealth(
  kvsArn: string,
  options: KeyValueStoreClientOptions = {},
): HealthStore {
  const account = KVS_ARN.exec(kvsArn)?.[1];
  if (account === undefined) {
    throw new Error(
      `${JSON.stringify(kvsArn)} is not a KeyValueStore ARN (arn:aws:cloudfront::<account>:key-value-store/<id>)`,
    );
  }
  const credentials = options.credentials;
  const api = new SignedEndpoint(
    'cloudfront-keyvaluestore',
    {
      region: 'us-east-1',
      endpoint: options.endpoint,
      ...(credentials ? { credentials: () => Promise.resolve(credentials) } : {}),
      requestTimeoutMs: options.requestTimeoutMs ?? 3000,
      maxAttempts: 1,
    },
    { host: `${account}.cloudfront-kvs.global.api.aws`, Signer: SignatureV4a, region: '*' },
  );
  const store = `/key-value-stores/${encodePathSegment(kvsArn)}`;
  const fail = (operation: string) => (answer: RawAnswer) => {
    const { type, message } = jsonErrorOf(answer);
    return new AwsApiError(operation, type, answer.status, message);
  };
  const never = () => false;
  const get = async (key: string): Promise<string | undefined> => {
    try {
      const out = await api.call<{ Value?: string }>(
        { method: 'GET', path: `${store}/keys/${encodePathSegment(key)}`, query: {} },
        {
          operation: 'GetKey',
          mutating: false,
          read: readJson,
          fail: fail('GetKey'),
          retryable: never,
        },
      );
      return out.Value;
    } catch (error) {
      if (error instanceof AwsApiError && error.type === 'ResourceNotFoundException') {
        return undefined;
      }
      throw error;
    }
  };
  return {
    async etag() {
      return api.call<string>(
        { method: 'GET', path: store, query: {} },
        {
          operation: 'DescribeKeyValueStore',
          mutating: false,
          read: (answer) => {
            const etag = answer.headers.etag;
            return typeof etag === 'string' && etag !== '' ? etag : undefined;
          },
          fail: fail('DescribeKeyValueStore'),
          retryable: never,
        },
      );
    },
    async read(region) {
      const [value, changedAt] = await Promise.all([get(region), get(changedAtKey(region))]);
      return { value, changedAt };
    },
    async write(etag, observation) {
      await api.call(
        {
          method: 'POST',
          path: `${store}/keys`,
          query: {},
          headers: { 'content-type': 'application/json', 'if-match': etag },
          body: JSON.stringify({
            Puts: [
              { Key: observation.region, Value: observation.health },
              { Key: changedAtKey(observation.region), Value: observation.observedAt },
            ],
          }),
        },
        {
          operation: 'UpdateKeys',
          mutating: true,
          read: readJson,
          fail: fail('UpdateKeys'),
          retryable: never,
        },
      );
    },
  };
}
