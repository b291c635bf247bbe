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

/** What one HTTP call returned, read to the end within its timeout; `failure` when it did not. */
export interface TimedResponse {
  readonly status?: number;
  readonly body: Uint8Array;
  /** From the request until the whole body arrived (or the failure), in ms. */
  readonly latencyMs: number;
  readonly failure?: 'timeout' | 'network';
}

export interface TimedRequest {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

/**
 * One HTTP call whose single timeout covers connect, headers and body (a slow body is a timeout
 * too). Never throws: a timeout, reset or refused connection comes back as `failure`.
 */
export async function timedFetch(
  url: string,
  request: TimedRequest,
  options: Pick<ProbeOptions, 'timeoutMs' | 'fetch' | 'clock'>,
): Promise<TimedResponse> {
  const clock = options.clock ?? (() => performance.now());
  const doFetch = options.fetch ?? fetch;
  const started = clock();
  try {
    const response = await doFetch(url, {
      method: request.method ?? 'GET',
      signal: AbortSignal.timeout(options.timeoutMs),
      headers: { 'cache-control': 'no-cache', 'user-agent': 'chaos-canary', ...request.headers },
      redirect: 'manual',
      ...(request.body === undefined ? {} : { body: request.body }),
    });
    const body = new Uint8Array(await response.arrayBuffer());
    return { status: response.status, body, latencyMs: clock() - started };
  } catch (error) {
    const name = (error as { name?: unknown } | null)?.name;
    return {
      body: new Uint8Array(0),
      latencyMs: clock() - started,
      failure: name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'network',
    };
  }
}

export async function probe(target: CanaryTarget, options: ProbeOptions): Promise<ProbeResult> {
  const base = { name: target.name, url: target.url };
  const response = await timedFetch(target.url, {}, options);
  if (response.failure !== undefined || response.status === undefined) {
    return {
      ...base,
      ok: false,
      bytes: 0,
      latencyMs: response.latencyMs,
      failure: response.failure ?? 'network',
    };
  }
  const { body, status } = response;
  const failure = readyBodyFailure(status, body, options.token);
  return {
    ...base,
    ok: failure === undefined,
    status,
    bytes: body.byteLength,
    latencyMs: response.latencyMs,
    ...(failure ? { failure } : {}),
  };
}

/** What is wrong with a readiness answer: a non-2xx status, an empty body, or no token in it. */
export function readyBodyFailure(
  status: number,
  body: Uint8Array,
  token: string,
): Exclude<ProbeFailure, 'timeout' | 'network'> | undefined {
  if (status < 200 || status > 299) return 'status';
  if (body.byteLength === 0) return 'empty-body';
  if (!new TextDecoder().decode(body).includes(token)) return 'token-missing';
  return undefined;
}

/** A target named after an AWS region (e.g. `eu-west-1`), as opposed to `global`. */
export const isRegionTarget = (name: string): boolean => /^[a-z]{2}(-[a-z]+)+-\d$/.test(name);
