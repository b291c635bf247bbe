/** One HTTP check of an endpoint: status, a non-empty body, the health token, within a timeout. */
import type { CanaryTarget } from './env';

export type ProbeFailure = 'timeout' | 'network' | 'status' | 'empty-body' | 'token-missing';

export interface ProbeResult {
  readonly name: string;
  readonly url: string;
  readonly ok: boolean;
  readonly status?: number;
  /** Body length in bytes. */
  readonly bytes: number;
  /** From the request until the whole body arrived (or the failure), in ms. */
  readonly latencyMs: number;
  readonly failure?: ProbeFailure;
}

export interface ProbeOptions {
  readonly token: string;
  readonly timeoutMs: number;
  readonly fetch?: typeof fetch;
  readonly clock?: () => number;
}

export async function probe(target: CanaryTarget, options: ProbeOptions): Promise<ProbeResult> {
  const clock = options.clock ?? (() => performance.now());
  const doFetch = options.fetch ?? fetch;
  const started = clock();
  const base = { name: target.name, url: target.url };
  try {
    // One signal covers connect, headers and body: a slow body is a timeout too.
    const response = await doFetch(target.url, {
      signal: AbortSignal.timeout(options.timeoutMs),
      headers: { 'cache-control': 'no-cache', 'user-agent': 'chaos-canary' },
      redirect: 'manual',
    });
    const body = new Uint8Array(await response.arrayBuffer());
    const latencyMs = clock() - started;
    const text = new TextDecoder().decode(body);
    const failure: ProbeFailure | undefined =
      response.status < 200 || response.status > 299
        ? 'status'
        : body.byteLength === 0
          ? 'empty-body'
          : !text.includes(options.token)
            ? 'token-missing'
            : undefined;
    return {
      ...base,
      ok: failure === undefined,
      status: response.status,
      bytes: body.byteLength,
      latencyMs,
      ...(failure ? { failure } : {}),
    };
  } catch (error) {
    const name = (error as { name?: unknown } | null)?.name;
    return {
      ...base,
      ok: false,
      bytes: 0,
      latencyMs: clock() - started,
      failure: name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'network',
    };
  }
}

/** A target named after an AWS region (e.g. `eu-west-1`), as opposed to `global`. */
export const isRegionTarget = (name: string): boolean => /^[a-z]{2}(-[a-z]+)+-\d$/.test(name);
