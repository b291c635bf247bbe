import { ProcessRegistry } from './processes';

/**
 * Everything a run has started, stopped in reverse order by `stopAll` (normal end, Ctrl-C,
 * SIGTERM, an error) and, as a last resort, SIGKILLed synchronously on process exit.
 */
export class Cleanup {
  readonly registry = new ProcessRegistry();
  private readonly steps: Array<{ name: string; run: () => Promise<void> }> = [];
  private stopping?: Promise<void>;

  constructor() {
    process.once('exit', () => this.registry.killAllNow());
  }

  /** Registers a stop step; steps run last-in, first-out. */
  defer(name: string, run: () => Promise<void>): void {
    this.steps.push({ name, run });
  }

  /** Stops everything once; later calls wait for the first. */
  stopAll(): Promise<void> {
    this.stopping ??= (async () => {
      for (const step of this.steps.reverse()) {
        await step.run().catch(() => undefined);
      }
      await this.registry.stopAll(2000);
    })();
    return this.stopping;
  }
}
