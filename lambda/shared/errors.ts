/**
 * Errors a caller of a chaos function can act on. Each has a stable `code`; the handler turns them
 * into `{ ok: false, error: { code, message } }` and never hands a stack trace to the caller.
 */
export type ChaosErrorCode =
  | 'INVALID_EVENT'
  | 'REFUSED'
  | 'LEASE_HELD'
  | 'IN_PROGRESS'
  | 'EVENT_MISMATCH'
  | 'MISCONFIGURED'
  | 'RESTORE_FAILED'
  | 'INTERNAL';

export abstract class ChaosError extends Error {
  public abstract readonly code: ChaosErrorCode;
}

/** The event does not match the function's schema. Raised before any AWS call. */
export class EventValidationError extends ChaosError {
  public override readonly name = 'EventValidationError';
  public readonly code = 'INVALID_EVENT';

  constructor(public readonly problems: readonly string[]) {
    super(`Invalid event: ${problems.join('; ')}`);
  }
}

/** Which guardrail refused an experiment. */
export type Guardrail =
  | 'region-impaired'
  | 'not-opted-in'
  | 'blast-radius'
  | 'other-region-unhealthy'
  | 'no-target'
  | 'already-restored'
  | 'pending-restore'
  | 'state-changed'
  | 'apply-in-flight'
  | 'fault-document'
  | 'target-health';

/** A guardrail refused to act. Nothing was changed. */
export class GuardrailRefusal extends ChaosError {
  public override readonly name = 'GuardrailRefusal';
  public readonly code = 'REFUSED';

  constructor(
    public readonly guardrail: Guardrail,
    message: string,
  ) {
    super(message);
  }
}

/** Another experiment holds the target's lease. Nothing was changed. */
export class LeaseHeldError extends ChaosError {
  public override readonly name = 'LeaseHeldError';
  public readonly code = 'LEASE_HELD';

  constructor(
    public readonly target: string,
    public readonly holder: string | undefined,
    public readonly expiresAt: Date | undefined,
  ) {
    super(
      `${target} is leased by experiment ${holder ?? '(unknown)'} until ` +
        `${expiresAt ? expiresAt.toISOString() : '(unknown)'}; wait for it to end or restore it first`,
    );
  }
}

/**
 * A restore could not verify that every change of the experiment is gone. The experiment keeps
 * its lease and the sweep retries every minute; the message says what is (or may be) left.
 */
export class RestoreFailedError extends ChaosError {
  public override readonly name = 'RestoreFailedError';
  public readonly code = 'RESTORE_FAILED';

  constructor(experimentId: string, detail: string) {
    super(
      `experiment ${experimentId} is not restored: ${detail}; it keeps its lease and the restore ` +
        'sweep retries every minute',
    );
  }
}

/** Another restore of the experiment is at work; its outcome is not known yet. */
export class RestoreInProgressError extends ChaosError {
  public override readonly name = 'RestoreInProgressError';
  public readonly code = 'IN_PROGRESS';

  constructor(experimentId: string, detail: string) {
    super(`experiment ${experimentId} is not restored yet: ${detail}; ask again after that`);
  }
}

/** A required environment variable is missing or malformed: the deployment is wrong, not the event. */
export class EnvironmentError extends ChaosError {
  public override readonly name = 'EnvironmentError';
  public readonly code = 'MISCONFIGURED';
}

/**
 * A mutating ECS call may or may not have taken effect: it timed out, or the service answered 2xx
 * with a body that could not be read. It is never retried blindly; the caller reads the real state.
 */
export class OutcomeUnknownError extends Error {
  public override readonly name = 'OutcomeUnknownError';

  constructor(
    public readonly operation: string,
    /** Why the outcome is unknown, e.g. `TimeoutError: ...`. Not `cause`, so retry logic ignores it. */
    public readonly reason: string,
  ) {
    super(`${operation} outcome is UNKNOWN (${reason})`);
  }
}

/** Narrows an unknown thrown value to something with a `name` and `message`. */
export function isErrorLike(value: unknown): value is { name: string; message: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { name?: unknown }).name === 'string' &&
    typeof (value as { message?: unknown }).message === 'string'
  );
}
