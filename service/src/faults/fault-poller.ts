import type { FastifyBaseLogger } from 'fastify';

import { FaultDocumentError, parseFaultDocument } from './fault-document';
import type { FaultSource } from './fault-sources';
import type { FaultState } from './fault-state';

type PollerLog = Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>;

/**
 * Reads the fault document every interval, with ±25% jitter so a fleet of tasks does not poll the
 * parameter in lockstep. An invalid document is logged (once per distinct content) and applies no
 * faults; a failed read keeps the faults in force (they expire on their own). Nothing here throws.
 */
export class FaultPoller {
  private timer: NodeJS.Timeout | undefined;
  /** The last document read (`undefined`: none exists; `null`: not read yet). */
  private lastText: string | undefined | null = null;
  private lastReadError: string | undefined;
  private stopped = false;

  constructor(
    private readonly source: FaultSource,
    private readonly state: FaultState,
    private readonly intervalMs: number,
    private readonly log: PollerLog,
    private readonly random: () => number = Math.random,
  ) {}

  /** Reads once now (so faults apply from the first request), then keeps polling. */
  async start(): Promise<void> {
    await this.pollOnce();
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  async pollOnce(): Promise<void> {
    let text: string | undefined;
    try {
      text = await this.source.read();
      this.lastReadError = undefined;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (message !== this.lastReadError) {
        this.log.warn(
          { source: this.source.description, err: message },
          'cannot read the fault document; keeping the faults in force',
        );
      }
      this.lastReadError = message;
      return;
    }
    if (text === this.lastText) return;
    this.lastText = text;
    if (text === undefined) {
      this.state.replace([]);
      this.log.info({ source: this.source.description }, 'no fault document; no faults');
      return;
    }
    try {
      const faults = parseFaultDocument(text);
      this.state.replace(faults);
      this.log.info(
        {
          source: this.source.description,
          faults: faults.map((fault) => ({
            type: fault.type,
            targets: fault.targets,
            expiresAt: fault.expiresAt.toISOString(),
          })),
        },
        'fault document loaded',
      );
    } catch (error) {
      this.state.replace([]);
      this.log.error(
        {
          source: this.source.description,
          problems: error instanceof FaultDocumentError ? error.problems : [String(error)],
        },
        'invalid fault document ignored; no faults apply',
      );
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    const delay = this.intervalMs * (0.75 + 0.5 * this.random());
    this.timer = setTimeout(() => {
      void this.pollOnce().finally(() => this.schedule());
    }, delay);
    this.timer.unref();
  }
}
