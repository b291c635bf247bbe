/**
 * What the tests of the small signed clients (lambda/shared/signed-http.ts) configure them with:
 * a loopback endpoint, fixed credentials, a short timeout, and a sleep that records each backoff
 * instead of waiting.
 */
import type { SignedClientOptions } from '../../lambda/shared/signed-http';

export const TEST_CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };

export function signedClientOptions(
  endpoint: string,
  backoffs: number[],
  overrides: Partial<SignedClientOptions> = {},
): SignedClientOptions {
  return {
    region: 'us-east-1',
    endpoint,
    credentials: () => Promise.resolve(TEST_CREDENTIALS),
    requestTimeoutMs: 300,
    sleep: (ms) => {
      backoffs.push(ms);
      return Promise.resolve();
    },
    ...overrides,
  };
}
