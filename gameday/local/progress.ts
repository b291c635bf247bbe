/**
 * The live progress line: rewritten in place on a terminal, and on anything else (a CI log, a
 * pipe) plain lines at events and every few seconds instead.
 */
export class Progress {
  private lastPlain = 0;
  private lineShown = false;

  constructor(
    private readonly out: NodeJS.WriteStream = process.stdout,
    private readonly plainEveryMs = 5000,
  ) {}

  get interactive(): boolean {
    return this.out.isTTY === true;
  }

  /** The current state; shown in place on a TTY, now and then otherwise. */
  status(text: string): void {
    if (this.interactive) {
      // A terminal that reports no width (0) gets 120 columns.
      const width = Math.max(20, (this.out.columns || 120) - 1);
      this.out.write(`\r\x1b[2K${text.slice(0, width)}`);
      this.lineShown = true;
      return;
    }
    const now = Date.now();
    if (now - this.lastPlain >= this.plainEveryMs) {
      this.lastPlain = now;
      this.out.write(`${text}\n`);
    }
  }

  /** A line that stays (an event). */
  event(text: string): void {
    this.clear();
    this.out.write(`${text}\n`);
  }

  /** Removes the in-place line, if any. */
  clear(): void {
    if (this.interactive && this.lineShown) {
      this.out.write('\r\x1b[2K');
      this.lineShown = false;
    }
  }
}
