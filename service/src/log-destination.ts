import pino from 'pino';

/** How the service's log lines reach stdout. Tests shrink the numbers; production uses the defaults. */
export interface LogDestinationOptions {
  /**
   * The file descriptor written to.
   * @default 1 (stdout)
   */
  readonly fd?: number;
  /**
   * Bytes held before they are written: one write per this many bytes instead of one per line.
   * 0 writes every line as it comes.
   * @default 4096
   */
  readonly bufferBytes?: number;
  /**
   * Longest a line waits in the buffer when traffic is light, in milliseconds.
   * @default 1000
   */
  readonly flushIntervalMs?: number;
}

/** A buffered log destination and how to stop it. */
export interface LogDestination {
  readonly stream: pino.DestinationStream & { flush(cb?: (error?: Error) => void): void };
  /** Writes what the buffer holds, synchronously. */
  close(): void;
}

export const LOG_DESTINATION_DEFAULTS = { fd: 1, bufferBytes: 4096, flushIntervalMs: 1000 };

/**
 * stdout for the service's log lines, written in batches.
 *
 * Every request writes an access-log line; a write per line is a system call per request, which
 * is as costly as the cache read itself (bench/service.ts). pino's asynchronous destination
 * (sonic-boom) holds lines until `bufferBytes` have gathered, and a timer writes what is held at
 * least every `flushIntervalMs`, so a quiet task's lines are not late by more than that.
 *
 * Nothing is lost on a normal stop: shutdown flushes (main.ts), pino registers the destination
 * to be written synchronously when the process exits (also on an uncaught exception), and close()
 * writes what is held. A SIGKILL (an out-of-memory kill) loses at most one buffer: the last
 * second of lines.
 */
export function createLogDestination(options: LogDestinationOptions = {}): LogDestination {
  const fd = options.fd ?? LOG_DESTINATION_DEFAULTS.fd;
  const bufferBytes = options.bufferBytes ?? LOG_DESTINATION_DEFAULTS.bufferBytes;
  const flushIntervalMs = options.flushIntervalMs ?? LOG_DESTINATION_DEFAULTS.flushIntervalMs;
  if (!Number.isInteger(fd) || fd < 0) {
    throw new Error(
      `log destination: fd must be a file descriptor (a whole number ≥ 0), got ${fd}`,
    );
  }
  if (!Number.isInteger(bufferBytes) || bufferBytes < 0 || bufferBytes > 65_536) {
    throw new Error(
      `log destination: bufferBytes must be a whole number from 0 to 65536, got ${bufferBytes}`,
    );
  }
  if (!Number.isInteger(flushIntervalMs) || flushIntervalMs < 1) {
    throw new Error(
      `log destination: flushIntervalMs must be a whole number of at least 1, got ${flushIntervalMs}`,
    );
  }
  // sonic-boom's own periodic flush (an unref'd timer) writes what a quiet task holds.
  const stream = pino.destination({
    dest: fd,
    sync: false,
    minLength: bufferBytes,
    periodicFlush: flushIntervalMs,
  });
  return {
    stream,
    close() {
      try {
        stream.flushSync();
      } catch {
        // A write still in flight or a closed stdout: the exit hook writes what is left.
      }
    },
  };
}
