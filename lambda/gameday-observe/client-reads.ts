/**
 * The game day's client: reads that users would make, through the endpoint users reach. Each read
 * opens a new connection (no keep-alive), so that it resolves the name again and lands wherever
 * DNS and the load balancer send a new user now.
 */
import * as http from 'node:http';
import * as https from 'node:https';

import { PROBE_ITEM_ID } from '../gameday-shared/run';

/** Bodies are small JSON documents; anything longer is cut off here. */
const MAX_BODY_BYTES = 64 * 1024;

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
}

/** One GET; rejects on a network failure or when `timeoutMs` passes before the whole body. */
export type HttpGet = (url: string, timeoutMs: number) => Promise<HttpAnswer>;

export const httpGet: HttpGet = (url, timeoutMs) =>
  new Promise<HttpAnswer>((resolve, reject) => {
    const client = url.startsWith('https:') ? https : http;
    const request = client.get(
      url,
      {
        agent: false,
        headers: { 'user-agent': 'gameday-observe', 'cache-control': 'no-cache' },
        signal: AbortSignal.timeout(timeoutMs),
      },
      (response) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        response.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes <= MAX_BODY_BYTES) chunks.push(chunk);
        });
        response.on('error', reject);
        // A cut connection (or the timeout's abort) after the headers ends without 'end'.
        response.on('close', () => {
          if (!response.complete) reject(new Error('the connection closed before the body ended'));
        });
        response.on('end', () => {
          const headers: Record<string, string | undefined> = {};
          for (const [k, v] of Object.entries(response.headers)) {
            headers[k] = Array.isArray(v) ? v.join(', ') : v;
          }
          resolve({
            status: response.statusCode ?? 0,
            headers,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
      },
    );
    request.on('error', reject);
  });

/** What one read saw. */
export interface ReadResult {
  readonly ok: boolean;
  readonly latencyMs: number;
  /** The response carried `x-fault-injected` (a game-day fault shaped it). */
  readonly faulted: boolean;
  readonly cache?: 'HIT' | 'MISS';
  /** For whoami reads: the region that answered. */
  readonly region?: string;
}

function parseJsonObject(body: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

async function read(
  get: HttpGet,
  url: string,
  timeoutMs: number,
  clock: () => number,
  accept: (body: Record<string, unknown>) => boolean,
): Promise<{ readonly result: ReadResult; readonly body?: Record<string, unknown> }> {
  const started = clock();
  try {
    const answer = await get(url, timeoutMs);
    const body = parseJsonObject(answer.body);
    const cache = answer.headers['x-cache'];
    const result: ReadResult = {
      // What users need: a 200 with a well-formed body about what they asked for.
      ok: answer.status === 200 && body !== undefined && accept(body),
      latencyMs: Math.round(clock() - started),
      faulted: answer.headers['x-fault-injected'] !== undefined,
      ...(cache === 'HIT' || cache === 'MISS' ? { cache } : {}),
    };
    return { result, body };
  } catch {
    return { result: { ok: false, latencyMs: Math.round(clock() - started), faulted: false } };
  }
}

export interface ClientReadOptions {
  readonly get: HttpGet;
  readonly timeoutMs: number;
  /** How many reads run at once. */
  readonly concurrency: number;
  readonly clock: () => number;
}

async function inBatches<T>(count: number, concurrency: number, one: () => Promise<T>) {
  const out: T[] = [];
  for (let done = 0; done < count; done += concurrency) {
    const batch = Math.min(concurrency, count - done);
    out.push(...(await Promise.all(Array.from({ length: batch }, one))));
  }
  return out;
}

/** `count` reads of the item every deployment has, through `endpoint`. */
export function readItems(
  endpoint: string,
  count: number,
  options: ClientReadOptions,
): Promise<ReadResult[]> {
  const url = `${endpoint}/api/items/${PROBE_ITEM_ID}`;
  return inBatches(count, options.concurrency, async () => {
    const { result } = await read(
      options.get,
      url,
      options.timeoutMs,
      options.clock,
      (b) => b.id === PROBE_ITEM_ID,
    );
    return result;
  });
}

/** `count` whoami reads through `endpoint`: which region answers a new user of that name. */
export function readWhoami(
  endpoint: string,
  count: number,
  options: ClientReadOptions,
): Promise<ReadResult[]> {
  return inBatches(count, options.concurrency, async () => {
    const { result, body } = await read(
      options.get,
      `${endpoint}/api/whoami`,
      options.timeoutMs,
      options.clock,
      (b) => typeof b.region === 'string',
    );
    return result.ok && typeof body?.region === 'string'
      ? { ...result, region: body.region }
      : result;
  });
}
