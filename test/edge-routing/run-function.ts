import { Script, createContext } from 'node:vm';

/**
 * Runs CloudFront Function code in Node the way runtime 2.0 runs it: strict mode, the `cloudfront`
 * module as the only import, and no Node globals (a fresh vm context has only the language's own
 * built-ins: no require, process, Buffer, console or timers). The fake module records what the
 * function does and serves a KeyValueStore from a plain object, failing reads on request.
 */

export interface FakeStore {
  /** Key → value. A key not here makes get() reject, as CloudFront's does. */
  readonly values: Readonly<Record<string, string>>;
  /** Keys whose read rejects as a failed read would. */
  readonly failing?: readonly string[];
  /** Milliseconds each read takes. @default 0 */
  readonly delayMs?: number;
}

export interface ViewerRequestEvent {
  readonly version: '1.0';
  readonly context: { readonly eventType: 'viewer-request' };
  readonly viewer: { readonly ip: string };
  readonly request: {
    method: string;
    uri: string;
    querystring: Record<string, unknown>;
    headers: Record<string, { value: string }>;
    cookies: Record<string, unknown>;
  };
}

export interface FunctionRun {
  readonly result: unknown;
  readonly event: ViewerRequestEvent;
  /** Every cf.selectRequestOriginById call, in order. */
  readonly selectedOrigins: readonly string[];
  /** The argument of every cf.kvs call (undefined when called without one). */
  readonly storeIds: ReadonlyArray<string | undefined>;
  /** Keys read, in order. */
  readonly reads: readonly string[];
  /** Most reads in flight at once. */
  readonly maxConcurrentReads: number;
}

export const IMPORT_LINE = "import cf from 'cloudfront';";

export function viewerRequest(headers: Record<string, string>): ViewerRequestEvent {
  return {
    version: '1.0',
    context: { eventType: 'viewer-request' },
    viewer: { ip: '198.51.100.7' },
    request: {
      method: 'GET',
      uri: '/api/items/seed-01',
      querystring: {},
      headers: Object.fromEntries(
        Object.entries(headers).map(([name, value]) => [name, { value }]),
      ),
      cookies: {},
    },
  };
}

export async function runFunction(
  code: string,
  store: FakeStore,
  event: ViewerRequestEvent,
): Promise<FunctionRun> {
  const newline = code.indexOf('\n');
  if (code.slice(0, newline) !== IMPORT_LINE) {
    throw new Error(`the function must start with ${IMPORT_LINE}, got ${code.slice(0, newline)}`);
  }
  const selectedOrigins: string[] = [];
  const storeIds: Array<string | undefined> = [];
  const reads: string[] = [];
  let inFlight = 0;
  let maxConcurrentReads = 0;
  const cf = {
    kvs: (id?: string) => {
      storeIds.push(id);
      return {
        get: async (key: string): Promise<string> => {
          reads.push(key);
          inFlight += 1;
          maxConcurrentReads = Math.max(maxConcurrentReads, inFlight);
          try {
            if (store.delayMs) await new Promise((resolve) => setTimeout(resolve, store.delayMs));
            if (store.failing?.includes(key)) throw new Error(`read of ${key} failed`);
            const value = store.values[key];
            if (value === undefined) throw new Error(`Key ${key} not found`);
            return value;
          } finally {
            inFlight -= 1;
          }
        },
      };
    },
    selectRequestOriginById: (id: string) => {
      selectedOrigins.push(id);
    },
  };
  const context = createContext({ cf });
  const script = new Script(`'use strict';\n${code.slice(newline + 1)}\n;handler`, {
    filename: 'api-router.js',
  });
  const handler = script.runInContext(context) as (event: ViewerRequestEvent) => Promise<unknown>;
  const result = await handler(event);
  return { result, event, selectedOrigins, storeIds, reads, maxConcurrentReads };
}
