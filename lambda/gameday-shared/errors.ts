import { ChaosError } from '../shared/errors';
import { logger } from '../shared/powertools';

/**
 * Logs a failure and rethrows it for the state machine, which catches any failure and restores.
 * A known ChaosError reaches it as `<code>: <message>` with its name and no stack; anything else is
 * logged as unexpected and rethrown unchanged.
 */
export function rethrowForStateMachine(error: unknown): never {
  if (error instanceof ChaosError) {
    logger.warn(`${error.code}: ${error.message}`);
    throw Object.assign(new Error(`${error.code}: ${error.message}`), {
      name: error.name,
      stack: '',
    });
  }
  logger.error('unexpected failure', error instanceof Error ? { error } : { error: String(error) });
  throw error;
}
