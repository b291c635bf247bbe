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

/** A logger that buffers (pino's stdout writer is asynchronous) and can say when it is written. */
interface Flushable {
  flush(callback: (error?: Error) => void): void;
}

function isFlushable(log: object): log is Flushable {
  return typeof (log as Partial<Flushable>).flush === 'function';
}

/**
 * Exits once the logger has written what it holds, so the last lines (`shutdown complete`) reach
 * stdout, in order, before the process ends. A stdout that never drains does not keep a stopped
 * task alive: the exit happens after 2 s regardless.
 */
function exitWhenLogged(log: object, code: number): void {
  const exit = () => process.exit(code);
  if (!isFlushable(log)) {
    exit();
    return;
  }
  setTimeout(exit, 2000);
  try {
    log.flush(exit);
  } catch {
    exit();
  }
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
        exitWhenLogged(log, drained ? 0 : 1);
      },
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        exitWhenLogged(log, 1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);

  try {
    await service.start();
  } catch (error) {
    log.error({ err: error }, 'cannot start');
    process.stderr.write(
      `Cannot start: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    exitWhenLogged(log, 1);
  }
}

void main();
