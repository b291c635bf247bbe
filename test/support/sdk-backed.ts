/**
 * A small signed client's `call` (lambda/shared/aws-json-api.ts) answered by an SDK client's `send`,
 * so that the chaos logic's tests keep their aws-sdk-client-mock set-ups (`ecs.on(StopTaskCommand)`)
 * while the functions call AWS without SDK clients. The signed clients' own wire, retry and UNKNOWN
 * rules are tested against loopback fakes (ecs-api, cloudwatch-api, ssm-api and ecs-resilience).
 *
 * An error a mock throws the way the SDK names a service's error (`name: 'ParameterNotFound'`, or
 * an SDK ServiceException) comes out as the AwsApiError the signed client would throw; any other
 * error (a plain `Error`, an OutcomeUnknownError) comes out as thrown.
 */
import {
  AwsApiError,
  type AwsJsonApi,
  type JsonOperations,
} from '../../lambda/shared/aws-json-api';

type Sender = { send(command: object): Promise<unknown> };
type CommandClasses<Ops> = { readonly [K in keyof Ops]: new (input: never) => object };

export function sdkBacked<Ops extends JsonOperations<Ops>>(
  client: Sender,
  commands: CommandClasses<Ops>,
): Pick<AwsJsonApi<Ops>, 'call'> {
  return {
    call: async (operation, input) => {
      const Command = commands[operation] as new (input: unknown) => object;
      try {
        return (await client.send(new Command(input))) as never;
      } catch (error) {
        throw asServiceError(operation, error);
      }
    },
  };
}

function asServiceError(operation: string, error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const sdkException = '$fault' in error;
  const renamedError = error.constructor === Error && error.name !== 'Error';
  if (!sdkException && !renamedError) return error;
  const status =
    (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 400;
  return new AwsApiError(operation, error.name, status, error.message);
}
