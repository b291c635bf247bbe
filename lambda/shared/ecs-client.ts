import { ECSClient } from '@aws-sdk/client-ecs';

import {
  type AwsClientOptions,
  addOutcomeClassifier,
  classifyFailure,
  clientConfig,
} from './aws-client-config';

// The shared configuration, also reachable from here as before.
export {
  AWS_CLIENT_DEFAULTS,
  type AwsClientOptions,
  addOutcomeClassifier,
  classifyFailure,
  clientConfig,
} from './aws-client-config';

/** ECS calls that change state. A timeout on one of them is never retried blindly. */
export const MUTATING_ECS_COMMANDS: ReadonlySet<string> = new Set([
  'StopTaskCommand',
  'UpdateServiceCommand',
]);

/**
 * An ECS client whose failures are classified for chaos work:
 * - throttling and 5xx: retried by the standard strategy (unchanged);
 * - a mutating call that timed out, or that got a 2xx whose body could not be read: it may have
 *   happened. It becomes an OutcomeUnknownError, which the standard strategy does not retry, and the
 *   caller follows it with a read (see `ecs.ts`);
 * - a read that got an unreadable 2xx: marked retryable, since reading again is harmless.
 */
export function createEcsClient(options: AwsClientOptions = {}): ECSClient {
  const client = new ECSClient(clientConfig(options));
  addOutcomeClassifier(client, MUTATING_ECS_COMMANDS);
  return client;
}

/** Exposed for unit tests; the client applies it to every failed attempt. */
export function classifyEcsFailure(error: unknown, commandName: string): unknown {
  return classifyFailure(error, commandName, MUTATING_ECS_COMMANDS);
}
