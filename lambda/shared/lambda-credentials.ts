/**
 * The credentials of a deployed function: the function role's session, which the Lambda runtime
 * always puts in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN; see
 * "Defined runtime environment variables" in the Lambda developer guide).
 *
 * The shared bundle (lib/constructs/lambda/bundle.ts) aliases `@aws-sdk/credential-provider-node`
 * to this module, so every bundled SDK client's default credential provider is this one. The SDK's
 * default chain (ini and SSO files, STS web identity, credential process, container and instance
 * metadata, each with its nested STS/SSO client) is then not in the bundle at all: in Lambda its
 * first link, the environment, always answers, so the rest was code that never ran.
 *
 * Same API as the package it stands in for: `defaultProvider(init?)` returns a provider.
 * Tests run the TypeScript sources, not the bundle, and keep the SDK's own chain.
 */
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

import { EnvironmentError } from './errors';

export const ACCESS_KEY_ID = 'AWS_ACCESS_KEY_ID';
export const SECRET_ACCESS_KEY = 'AWS_SECRET_ACCESS_KEY';
export const SESSION_TOKEN = 'AWS_SESSION_TOKEN';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The environment's credentials; throws EnvironmentError naming every missing variable.
 * AWS_SESSION_TOKEN is optional (Lambda always sets it; a local run with long-term keys has none).
 */
export function environmentCredentials(env: Env = process.env): AwsCredentialIdentity {
  const accessKeyId = env[ACCESS_KEY_ID]?.trim();
  const secretAccessKey = env[SECRET_ACCESS_KEY]?.trim();
  const missing = [
    ...(accessKeyId ? [] : [ACCESS_KEY_ID]),
    ...(secretAccessKey ? [] : [SECRET_ACCESS_KEY]),
  ];
  if (!accessKeyId || !secretAccessKey) {
    throw new EnvironmentError(
      `no AWS credentials: ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set. ` +
        `The Lambda runtime sets ${ACCESS_KEY_ID}, ${SECRET_ACCESS_KEY} and ${SESSION_TOKEN} from the ` +
        "function's role; this bundle reads credentials from nowhere else (no profile, SSO or " +
        'instance metadata). Outside Lambda, set them in the environment.',
    );
  }
  const sessionToken = env[SESSION_TOKEN]?.trim();
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}

/**
 * Stands in for `@aws-sdk/credential-provider-node`'s `defaultProvider` in the bundle: a provider
 * that reads the environment each time the SDK asks (the SDK keeps what it got). `init` (the
 * client's configuration) is accepted for the same signature and not needed.
 */
export function defaultProvider(init?: unknown): AwsCredentialIdentityProvider {
  void init;
  // A throw inside the executor rejects: a missing variable fails the call, not the client.
  return () => new Promise((resolve) => resolve(environmentCredentials()));
}
