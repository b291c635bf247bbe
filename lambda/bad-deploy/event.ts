/**
 * The bad-deploy function's event and environment. One function, three steps the game day's
 * state machine calls in turn: `stage`, `observe` (polled), `restore` (on every exit).
 */
import { requireEnv } from '../shared/env';
import { EnvironmentError } from '../shared/errors';
import { oneOf, optional, parseObject, string } from '../shared/validation';

const TASK_DEFINITION_ARN = string({
  pattern: /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition\/[A-Za-z0-9_-]{1,255}:\d{1,10}$/,
  expects: 'a task definition ARN (arn:aws:ecs:<region>:<account>:task-definition/<family>:<n>)',
});

/** Parses the step's event; throws EventValidationError naming every problem. */
export function parseBadDeployEvent(raw: unknown) {
  return parseObject(
    {
      action: oneOf(['stage', 'observe', 'restore'] as const),
      previousTaskDefinition: optional(TASK_DEFINITION_ARN),
      badTaskDefinition: optional(TASK_DEFINITION_ARN),
    },
    raw,
    {
      refine(event, problems) {
        // restore may run with no state (an execution that ended abnormally): it then finds the
        // bad revision by its tags.
        if (event.action === 'observe' && event.previousTaskDefinition === undefined) {
          problems.push('previousTaskDefinition is required for observe: the ARN stage answered');
        }
        if (event.action === 'observe' && event.badTaskDefinition === undefined) {
          problems.push('badTaskDefinition is required for observe: the ARN stage answered');
        }
      },
    },
  );
}
export type BadDeployEvent = ReturnType<typeof parseBadDeployEvent>;

export interface BadDeployEnv {
  readonly cluster: string;
  readonly service: string;
  /** The container serving the API, whose environment gets REVISION_FAULTS. */
  readonly containerName: string;
  /** How long the bad revision's fault lasts at most, even if nothing restores it. */
  readonly faultMinutes: number;
}

type Env = Readonly<Record<string, string | undefined>>;

export function loadBadDeployEnv(env: Env = process.env): BadDeployEnv {
  const containerName = requireEnv('CONTAINER_NAME', env);
  if (!/^[A-Za-z0-9_-]{1,255}$/.test(containerName)) {
    throw new EnvironmentError(
      `CONTAINER_NAME environment variable must be a container name (A-Z, a-z, 0-9, _ -), got ${JSON.stringify(containerName)}`,
    );
  }
  return {
    cluster: requireEnv('CLUSTER_ARN', env),
    service: requireEnv('SERVICE_ARN', env),
    containerName,
    faultMinutes: 30,
  };
}
