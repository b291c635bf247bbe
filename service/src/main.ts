import { ConfigError, loadConfig } from './config';
import { resolveIdentity } from './identity';
import { createService } from './service';

/** Before the Fastify logger exists: the same JSON-lines shape on stdout. */
const bootLog = {
  warn(fields: object, msg: string): void {
    process.stdout.write(`${JSON.stringify({ level: 40, time: Date.now(), msg, ...fields })}\n`);
  },
};

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    fail(error instanceof ConfigError ? error.message : `Cannot start: ${String(error)}`);
  }
  const identity = await resolveIdentity(config, bootLog);
  const service = await createService(config, { identity });
  const log = service.app.log;

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.info({ signal }, 'already shutting down');
      return;
    }
    stopping = true;
    log.info({ signal, drainSeconds: config.shutdownDrainSeconds }, 'shutting down');
    service.stop().then(
      ({ drained }) => {
        log.info({ drained }, 'shutdown complete');
        process.exit(drained ? 0 : 1);
      },
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);

  try {
    await service.start();
  } catch (error) {
    log.error({ err: error }, 'cannot start');
    fail(`Cannot start: ${error instanceof Error ? error.message : String(error)}`);
  }
}

void main();
