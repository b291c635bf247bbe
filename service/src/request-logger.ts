import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, Logger } from 'pino';

/** Fastify's logger; pino's (the service's) also says which levels it writes. */
type ParentLogger = FastifyBaseLogger & { isLevelEnabled?: Logger['isLevelEnabled'] };

/** What a log method takes: an object or message, then the message's format arguments. */
type LogArguments = [objOrMessage: unknown, message?: string, ...args: unknown[]];

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * A request's logger that builds its pino child (with the request id) only when a line is written
 * at an enabled level. Fastify makes one child per request, and building it cost about as much as
 * a sampled-out access log line saves; most requests now write no line at all (access-log.ts).
 */
export class RequestLogger implements FastifyBaseLogger {
  private built: ParentLogger | undefined;

  constructor(
    private readonly parent: ParentLogger,
    private readonly bindings: Bindings,
  ) {}

  get level(): string {
    return this.built?.level ?? this.parent.level;
  }

  set level(level: string) {
    this.logger().level = level;
  }

  fatal(...args: LogArguments): void {
    this.write('fatal', args);
  }
  error(...args: LogArguments): void {
    this.write('error', args);
  }
  warn(...args: LogArguments): void {
    this.write('warn', args);
  }
  info(...args: LogArguments): void {
    this.write('info', args);
  }
  debug(...args: LogArguments): void {
    this.write('debug', args);
  }
  trace(...args: LogArguments): void {
    this.write('trace', args);
  }
  silent(): void {
    return undefined;
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.logger().child(bindings, options);
  }

  isLevelEnabled(level: string): boolean {
    return (this.built ?? this.parent).isLevelEnabled?.(level) ?? true;
  }

  private write(level: Level, args: LogArguments): void {
    if (!this.isLevelEnabled(level)) return;
    this.logger()[level](...args);
  }

  private logger(): ParentLogger {
    this.built ??= this.parent.child(this.bindings);
    return this.built;
  }
}

/**
 * Fastify's `childLoggerFactory`: a lazy {@link RequestLogger}, or pino's own child when a route
 * sets its own level or serializers (then the child must exist to carry them).
 */
export function requestLoggerFactory(
  logger: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  if (options.level !== undefined || options.serializers !== undefined) {
    return logger.child(bindings, options);
  }
  return new RequestLogger(logger, bindings);
}
