import { parseArgs } from 'node:util';

/** The command line of `npm run bench`, checked with messages that say what is allowed. */

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface BenchArgs {
  readonly help: boolean;
  /** Fewer runs and the slow parts skipped: under 3 minutes on a 2-core machine. */
  readonly quick: boolean;
  /** Only re-draw BENCHMARKS.md from bench/results.json; measure nothing. */
  readonly renderOnly: boolean;
  /** A sentence about the machine, kept with the results (e.g. that it was shared). */
  readonly note?: string;
}

export const USAGE = `Usage: npm run bench [-- options]

Measures failure-detection budgets, synth time, the service, the Lambda bundles, the local game
day and the developer loop, side by side with a stock-CDK baseline; writes bench/results.json and
BENCHMARKS.md.

Options:
  --quick          fewer runs; skips the synth growth sweep, npm ci and most of the test suite
                   (under 3 minutes on 2 cores)
  --note <text>    a sentence about the machine to print with the results
  --render         only re-draw BENCHMARKS.md from bench/results.json
  --help           show this and exit`;

const ALLOWED = '--quick, --note <text>, --render, --help';

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        help: { type: 'boolean', short: 'h' },
        quick: { type: 'boolean' },
        render: { type: 'boolean' },
        note: { type: 'string' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    const message = (error as Error).message.split('\n')[0].replace(/\.?\s*To specify.*$/, '');
    throw new UsageError(`${message}; allowed options are ${ALLOWED}`);
  }
  if (parsed.positionals.length > 0) {
    throw new UsageError(
      `unexpected argument ${JSON.stringify(parsed.positionals[0])}; allowed options are ${ALLOWED}`,
    );
  }
  const { help = false, quick = false, render = false, note } = parsed.values;
  if (note !== undefined && note.trim() === '') {
    throw new UsageError('--note needs some text, got an empty string');
  }
  if (render && quick) {
    throw new UsageError(
      '--render only re-draws BENCHMARKS.md; it cannot be combined with --quick',
    );
  }
  return { help, quick, renderOnly: render, note: note?.trim() };
}
