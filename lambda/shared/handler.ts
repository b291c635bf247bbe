/**
 * The thin handler every guarded function shares: validate the event (no AWS call before this),
 * run the logic once per experiment id (Powertools idempotency), map the result or error.
 */
import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  IdempotencyValidationError,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';

import type { ChaosEnv } from './env';
import { ChaosError, ChaosErrorCode, EventValidationError, isErrorLike } from './errors';
import { EXPERIMENT_ID_PATTERN } from './events';
import type { ChaosDeps } from './experiment';

export type HandlerResponse<R> =
  | { readonly ok: true; readonly result: R }
  | {
      readonly ok: false;
      readonly error: {
        readonly code: ChaosErrorCode;
        readonly message: string;
        readonly problems?: readonly string[];
      };
    };

/** A guarded function: how to read its event and what to do with it. */
export interface GuardedFunction<E extends { readonly dryRun: boolean }, R> {
  /** Also the idempotency key prefix: `chaos-<name>`. */
  readonly name: string;
  parse(raw: unknown, env: ChaosEnv): E;
  run(event: E, deps: ChaosDeps): Promise<R>;
  /** The experiment id to key idempotency on, or undefined to run without (restore's sweep). */
  idempotencyKey(event: E): string | undefined;
}

export interface HandlerDeps {
  readonly chaos: ChaosDeps;
  readonly persistence: BasePersistenceLayer;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/** Thrown for failures that are not the caller's to fix; carries no stack from our code. */
export class InternalError extends ChaosError {
  public override readonly name = 'InternalError';
  public readonly code = 'INTERNAL';

  constructor(requestId: string) {
    super(`the function failed unexpectedly; see its logs for request ${requestId}`);
    this.stack = `${this.name}: ${this.message}`;
  }
}

export function createGuardedHandler<E extends { readonly dryRun: boolean }, R>(
  fn: GuardedFunction<E, R>,
  getDeps: () => HandlerDeps,
) {
  let idempotent: ((event: E, deps: ChaosDeps) => Promise<R>) | undefined;
  let config: IdempotencyConfig | undefined;

  return async (raw: unknown, context: Context): Promise<HandlerResponse<R>> => {
    let deps: HandlerDeps | undefined;
    try {
      deps = getDeps();
      deps.logger.resetKeys(); // keys appended for the previous invocation
      deps.logger.addContext(context);
      const event = fn.parse(raw, deps.chaos.env);
      const key = fn.idempotencyKey(event);
      deps.logger.appendKeys({ experimentId: key, dryRun: event.dryRun });
      if (key === undefined) return { ok: true, result: await fn.run(event, deps.chaos) };

      if (!idempotent || !config) {
        config = new IdempotencyConfig({
          // A dry run and a real run of one experiment are different requests.
          eventKeyJmesPath: '[experimentId, dryRun]',
          // The same id with a different event is a mistake, not a retry.
          payloadValidationJmesPath: '@',
          // Remember results as long as any fault of the experiment can last, plus an hour.
          expiresAfterSeconds: (deps.chaos.env.maxFaultDurationMinutes + 60) * 60,
          throwOnNoIdempotencyKey: true,
        });
        idempotent = makeIdempotent((event: E, chaos: ChaosDeps) => fn.run(event, chaos), {
          persistenceStore: deps.persistence,
          config,
          keyPrefix: `chaos-${fn.name}`,
          dataIndexArgument: 0,
        });
      }
      config.registerLambdaContext(context);
      return { ok: true, result: await idempotent(event, deps.chaos) };
    } catch (error) {
      if (deps) auditFailure(deps.chaos, fn.name, raw, error);
      return mapError(error, context, deps?.logger);
    } finally {
      if (deps?.metrics.hasStoredMetrics()) deps.metrics.publishStoredMetrics();
    }
  };
}

/**
 * Failures that no experiment logic recorded get an audit record (and so a `ChaosAction` metric)
 * here: an invalid event, a replay refused by idempotency, and an internal failure. Refusals and
 * lease conflicts are recorded where they happen (`experiment.ts`).
 */
function auditFailure(chaos: ChaosDeps, action: string, raw: unknown, error: unknown): void {
  const outcome =
    error instanceof EventValidationError
      ? 'invalid-event'
      : error instanceof IdempotencyAlreadyInProgressError
        ? 'in-progress'
        : error instanceof IdempotencyValidationError
          ? 'event-mismatch'
          : error instanceof ChaosError && error.code !== 'INTERNAL'
            ? undefined
            : 'internal-error';
  if (outcome === undefined) return;
  const id =
    typeof raw === 'object' && raw !== null && Object.hasOwn(raw, 'experimentId')
      ? (raw as { experimentId: unknown }).experimentId
      : undefined;
  chaos.audit.record({
    experimentId: typeof id === 'string' && EXPERIMENT_ID_PATTERN.test(id) ? id : '(none)',
    action,
    target: chaos.env.service,
    outcome,
    // The message of our own errors is bounded (see validation.ts); of others, only the name.
    detail:
      error instanceof ChaosError
        ? error.message.slice(0, 500)
        : isErrorLike(error)
          ? error.name
          : typeof error,
  });
}

function mapError<R>(
  error: unknown,
  context: Context,
  logger: Logger | undefined,
): HandlerResponse<R> {
  if (error instanceof ChaosError && error.code !== 'INTERNAL') {
    logger?.warn(`${error.code}: ${error.message}`);
    const problems = (error as { problems?: readonly string[] }).problems;
    return {
      ok: false,
      error: { code: error.code, message: error.message, ...(problems ? { problems } : {}) },
    };
  }
  if (error instanceof IdempotencyAlreadyInProgressError) {
    return {
      ok: false,
      error: {
        code: 'IN_PROGRESS',
        message: 'an invocation with this experimentId is still running',
      },
    };
  }
  if (error instanceof IdempotencyValidationError) {
    return {
      ok: false,
      error: {
        code: 'EVENT_MISMATCH',
        message:
          'this experimentId was already used with a different event; use a new experimentId',
      },
    };
  }
  logger?.error(
    'unexpected failure',
    error instanceof Error ? { error } : { error: String(error) },
  );
  throw new InternalError(context.awsRequestId);
}
