import { countingBundlingLines, Writable } from '../lib/bundling-log';

/** A stand-in stderr that records what reaches it. */
function fakeStderr(): Writable & { readonly written: string[] } {
  const written: string[] = [];
  return {
    written,
    write: (chunk: unknown) => {
      written.push(String(chunk));
      return true;
    },
  };
}

describe('countingBundlingLines', () => {
  test("counts the CDK's Bundling asset lines instead of printing them, and passes the rest through", () => {
    // GIVEN a synthesis that bundles two assets and warns once
    const stderr = fakeStderr();
    // WHEN
    const { result, bundledAssets } = countingBundlingLines(() => {
      stderr.write('Bundling asset Blueprint-us-east-1/Chaos/StopTasks/Code/Stage...\n');
      stderr.write('▲ [WARNING] something esbuild wants seen\n');
      stderr.write('Bundling asset Blueprint-eu-west-1/Chaos/Canary/Code/Stage...\n');
      return 'assembly';
    }, stderr);
    // THEN
    expect(result).toBe('assembly');
    expect(bundledAssets).toBe(2);
    expect(stderr.written).toEqual(['▲ [WARNING] something esbuild wants seen\n']);
  });

  test('puts stderr back even when synthesis throws', () => {
    // GIVEN
    const stderr = fakeStderr();
    // WHEN
    expect(() =>
      countingBundlingLines(() => {
        throw new Error('config error');
      }, stderr),
    ).toThrow('config error');
    // THEN a bundling line written afterwards is printed again
    stderr.write('Bundling asset X...\n');
    expect(stderr.written).toEqual(['Bundling asset X...\n']);
  });

  test("leaves process.stderr's own write method in place afterwards", () => {
    // GIVEN
    const before = Object.getOwnPropertyDescriptor(process.stderr, 'write');
    // WHEN
    countingBundlingLines(() => undefined);
    // THEN
    expect(Object.getOwnPropertyDescriptor(process.stderr, 'write')).toEqual(before);
  });
});
