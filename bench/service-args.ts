/** The command line of `npm run bench:service` (kept apart so tests need not load the bench). */
/** Splits `--reference <dir>` and `--out <file>` from the positional arguments. */
export function parseServiceBenchArgs(argv: readonly string[]): {
  positional: string[];
  reference?: string;
  out?: string;
} {
  const positional: string[] = [];
  const named: { reference?: string; out?: string } = {};
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index];
    if (arg === '--reference' || arg === '--out') {
      const value = argv[index + 1];
      if (value === undefined || value.startsWith('--')) {
        throw new Error(`${arg} needs a path after it`);
      }
      named[arg === '--reference' ? 'reference' : 'out'] = value;
      index += 1;
    } else if (arg.startsWith('--')) {
      throw new Error(`unknown option ${arg}; allowed: --reference <dir>, --out <file>`);
    } else {
      positional.push(arg);
    }
  }
  return { positional, ...named };
}
