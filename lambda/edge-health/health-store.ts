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
import {
  CloudFrontKeyValueStoreClient,
  DescribeKeyValueStoreCommand,
  GetKeyCommand,
  UpdateKeysCommand,
} from '@aws-sdk/client-cloudfront-keyvaluestore';
// Registers the JavaScript SigV4A signer: the KeyValueStore API accepts SigV4A only, and the SDK
// finds no signer for it without this import (or the native CRT one).
import '@aws-sdk/signature-v4a';
import type { AwsCredentialIdentity } from '@aws-sdk/types';

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
   * (tests: a loopback fake). The KVS endpoint rules would otherwise prefix the account id to it.
   * @default - the AWS endpoint the store's ARN names
   */
  readonly endpoint?: string;
  /** @default - the default credential chain */
  readonly credentials?: AwsCredentialIdentity;
  /**
   * Time to wait for an answer before the call's outcome is unknown.
   * @default 3000
   */
  readonly requestTimeoutMs?: number;
}

/**
 * A KeyValueStore client whose only retries are the writer's own (`maxAttempts: 1`): a retried
 * conditional write would meet its own ETag change and look like a conflict.
 */
export function createKeyValueStoreClient(
  options: KeyValueStoreClientOptions = {},
): CloudFrontKeyValueStoreClient {
  const endpoint = options.endpoint;
  return new CloudFrontKeyValueStoreClient({
    region: 'us-east-1',
    maxAttempts: 1,
    credentials: options.credentials,
    requestHandler: {
      requestTimeout: options.requestTimeoutMs ?? 3000,
      // Without this the handler only logs a warning when requestTimeout passes.
      throwOnRequestTimeout: true,
      connectionTimeout: options.requestTimeoutMs ?? 3000,
    },
    ...(endpoint === undefined ? {} : { endpointProvider: () => ({ url: new URL(endpoint) }) }),
  });
}

function isNotFound(error: unknown): boolean {
  return error instanceof Error && error.name === 'ResourceNotFoundException';
}

/** The store behind `kvsArn`, through `client`. */
export function keyValueStoreHealth(
  client: CloudFrontKeyValueStoreClient,
  kvsArn: string,
): HealthStore {
  const get = async (key: string): Promise<string | undefined> => {
    try {
      return (await client.send(new GetKeyCommand({ KvsARN: kvsArn, Key: key }))).Value;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  };
  return {
    async etag() {
      const out = await client.send(new DescribeKeyValueStoreCommand({ KvsARN: kvsArn }));
      if (out.ETag === undefined)
        throw new Error(`DescribeKeyValueStore of ${kvsArn} gave no ETag`);
      return out.ETag;
    },
    async read(region) {
      const [value, changedAt] = await Promise.all([get(region), get(changedAtKey(region))]);
      return { value, changedAt };
    },
    async write(etag, observation) {
      await client.send(
        new UpdateKeysCommand({
          KvsARN: kvsArn,
          IfMatch: etag,
          Puts: [
            { Key: observation.region, Value: observation.health },
            { Key: changedAtKey(observation.region), Value: observation.observedAt },
          ],
        }),
      );
    },
  };
}
