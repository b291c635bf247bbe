/**
 * Each SDK client of a function is created once per function instance, on first use, in its own
 * module of this folder: a function's bundle loads the clients it imports and no other (esbuild
 * splits the shared bundle by module, so one module holding every client made every function load
 * every client). The `@__PURE__` marks let esbuild drop a client a function imports but never uses.
 */
export function once<T>(create: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= create());
}
