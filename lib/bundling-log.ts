/** One line the CDK writes to stderr for every asset it bundles, e.g. `Bundling asset X/Code/Stage...`. */
const BUNDLING_LINE = /^Bundling asset [^\n]*\.\.\.\n$/;

/** The part of a stream this needs: `process.stderr` by default. */
export interface Writable {
  write(chunk: unknown, ...rest: unknown[]): boolean;
}

/**
 * Runs `synth` with the CDK's per-asset `Bundling asset <path>...` lines counted instead of written
 * to stderr (the CDK writes one per function per region, unconditionally), so that the summary
 * printed after synthesis is not buried. Everything else on stderr passes through, in order.
 */
export function countingBundlingLines<T>(
  synth: () => T,
  stderr: Writable = process.stderr,
): { readonly result: T; readonly bundledAssets: number } {
  let bundledAssets = 0;
  const original = Object.getOwnPropertyDescriptor(stderr, 'write');
  const write = stderr.write.bind(stderr);
  stderr.write = (chunk: unknown, ...rest: unknown[]) => {
    if (typeof chunk === 'string' && BUNDLING_LINE.test(chunk)) {
      bundledAssets += 1;
      return true;
    }
    return write(chunk, ...rest);
  };
  try {
    return { result: synth(), bundledAssets };
  } finally {
    // Back to exactly what was there: an own property, or the prototype's method.
    if (original) Object.defineProperty(stderr, 'write', original);
    else delete (stderr as Partial<Writable>).write;
  }
}
