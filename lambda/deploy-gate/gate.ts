/**
 * The deploy gate: before a new revision gets production traffic, call it the way users and the
 * load balancer will (through the test listener in AWS, the replica's own port locally) and refuse
 * it unless every answer is right. No AWS call here: the handler (index.ts) and the local game day
 * pass a base URL in.
 *
 * Each attempt runs four checks, in order:
 * - `ready`: GET /health/ready answers 2xx with the readiness token (the canary's probe rule);
 * - `read-probe-item`: GET /api/items/<probe item> answers 200 with a non-empty JSON item of that id
 *   (the health sentinel, which every healthy deployment holds);
 * - `write-gate-item`: PUT /api/items/<gate item> answers 2xx with a non-empty JSON item carrying
 *   the name just written (with an Idempotency-Key, so a retried gate replays rather than rewrites);
 * - `read-back-gate-item`: GET of the same item answers 200 with that name.
 *
 * Several attempts, spread over a short window, so that one lucky answer does not pass a flaky
 * revision; every call has its own timeout; a timeout, reset or refused connection fails the
 * check (never passes it). The gate stops at the first failed attempt: the verdict is known.
 */
import { randomUUID } from 'node:crypto';

import {
  readyBodyFailure,
  timedFetch,
  type ProbeFailure,
  type ProbeOptions,
  type TimedRequest,
} from '../shared/probe';

/** Ids the service's item API accepts (service/src/items/items-store.ts ITEM_ID_PATTERN). */
const ITEM_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The readiness sentinel every healthy deployment holds (service SENTINEL_ID). */
export const DEFAULT_PROBE_ITEM_ID = '_health-sentinel';
/**
 * The item the gate writes and reads back. Ids starting with `_` are the service's own and refuse
 * client writes, so the gate's item is an ordinary id set aside for it by name.
 */
export const DEFAULT_GATE_ITEM_ID = 'deploy-gate-check';

export type CheckName = 'ready' | 'read-probe-item' | 'write-gate-item' | 'read-back-gate-item';

export type CheckFailure = ProbeFailure | 'not-json' | 'wrong-item';

export interface CheckResult {
  /** 1-based. */
  readonly attempt: number;
  readonly check: CheckName;
  readonly method: 'GET' | 'PUT';
  readonly path: string;
  readonly ok: boolean;
  readonly status?: number;
  readonly bytes: number;
  readonly latencyMs: number;
  readonly failure?: CheckFailure;
  /** What was wrong, in a sentence. */
  readonly detail?: string;
}

export interface GateVerdict {
  readonly passed: boolean;
  readonly baseUrl: string;
  /** Attempts run (fewer than asked when one failed). */
  readonly attempts: number;
  readonly checks: readonly CheckResult[];
  /** One line per failed check: `attempt 1 read-probe-item: GET ... answered an empty 200 body`. */
  readonly problems: readonly string[];
}

export interface GateOptions {
  /** The revision's base URL, e.g. the test listener `https://alb.example.com:9443`. */
  readonly baseUrl: string;
  /** The readiness token /health/ready must contain. */
  readonly token: string;
  /**
   * Attempts, each running every check.
   * @default 3
   */
  readonly attempts?: number;
  /**
   * Wait between two attempts.
   * @default 2000
   */
  readonly spacingMs?: number;
  /**
   * Timeout of each call, covering connect, headers and body.
   * @default 3000
   */
  readonly timeoutMs?: number;
  /** @default DEFAULT_PROBE_ITEM_ID */
  readonly probeItemId?: string;
  /** @default DEFAULT_GATE_ITEM_ID */
  readonly gateItemId?: string;
  /**
   * Names this run's writes (item name and Idempotency-Key); unique per run, so a retried gate
   * writes afresh instead of replaying a write that a later one has since overwritten. 1-80
   * printable ASCII characters.
   * @default - a random UUID
   */
  readonly runId?: string;
  /** For tests: fetch, clock. */
  readonly fetch?: ProbeOptions['fetch'];
  readonly clock?: ProbeOptions['clock'];
  /** @default - a timer */
  readonly sleep?: (ms: number) => Promise<void>;
}

export class GateOptionsError extends Error {
  override readonly name = 'GateOptionsError';

  constructor(readonly problems: readonly string[]) {
    super(`invalid deploy gate options: ${problems.join('; ')}`);
  }
}

interface Resolved {
  readonly baseUrl: string;
  readonly token: string;
  readonly attempts: number;
  readonly spacingMs: number;
  readonly timeoutMs: number;
  readonly probeItemId: string;
  readonly gateItemId: string;
  readonly runId: string;
}

/** Validates the options; every problem is reported at once. */
export function resolveGateOptions(options: GateOptions): Resolved {
  const problems: string[] = [];
  const int = (name: string, value: number, min: number, max: number) => {
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}, got ${value}`);
    }
    return value;
  };
  if (!/^https?:\/\/[^\s/]+/.test(options.baseUrl) || !URL.canParse(options.baseUrl)) {
    problems.push(`baseUrl must be an http(s) URL, got ${JSON.stringify(options.baseUrl)}`);
  }
  if (options.token.length === 0) {
    problems.push('token must not be empty: an empty token would let an empty 200 pass');
  }
  const probeItemId = options.probeItemId ?? DEFAULT_PROBE_ITEM_ID;
  const gateItemId = options.gateItemId ?? DEFAULT_GATE_ITEM_ID;
  if (!ITEM_ID.test(probeItemId)) {
    problems.push(`probeItemId must match ${ITEM_ID.source}, got ${JSON.stringify(probeItemId)}`);
  }
  if (!ITEM_ID.test(gateItemId) || gateItemId.startsWith('_')) {
    problems.push(
      `gateItemId must match ${ITEM_ID.source} and not start with '_' (reserved ids refuse writes), got ${JSON.stringify(gateItemId)}`,
    );
  }
  if (options.runId !== undefined && !/^[\x21-\x7e]{1,80}$/.test(options.runId)) {
    problems.push(
      `runId must be 1-80 printable ASCII characters without spaces, got ${JSON.stringify(options.runId)}`,
    );
  }
  const resolved: Resolved = {
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    token: options.token,
    attempts: int('attempts', options.attempts ?? 3, 1, 20),
    spacingMs: int('spacingMs', options.spacingMs ?? 2000, 0, 60_000),
    timeoutMs: int('timeoutMs', options.timeoutMs ?? 3000, 50, 30_000),
    probeItemId,
    gateItemId,
    runId: options.runId ?? randomUUID(),
  };
  if (problems.length > 0) throw new GateOptionsError(problems);
  return resolved;
}

/** Checks a revision through `baseUrl`; resolves with the verdict, never throws for its answers. */
export async function checkRevision(options: GateOptions): Promise<GateVerdict> {
  const o = resolveGateOptions(options);
  const sleep =
    options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const call = { timeoutMs: o.timeoutMs, fetch: options.fetch, clock: options.clock };
  const checks: CheckResult[] = [];
  let attempts = 0;
  for (let attempt = 1; attempt <= o.attempts; attempt += 1) {
    if (attempt > 1) await sleep(o.spacingMs);
    attempts = attempt;
    const results = await runAttempt(o, attempt, call);
    checks.push(...results);
    if (results.some((r) => !r.ok)) break;
  }
  const problems = checks
    .filter((c) => !c.ok)
    .map((c) => `attempt ${c.attempt} ${c.check}: ${c.method} ${c.path} ${c.detail ?? c.failure}`);
  return { passed: problems.length === 0, baseUrl: o.baseUrl, attempts, checks, problems };
}

type CallOptions = Pick<ProbeOptions, 'timeoutMs' | 'fetch' | 'clock'>;

async function runAttempt(o: Resolved, attempt: number, call: CallOptions) {
  const results: CheckResult[] = [];
  const run = async (
    check: CheckName,
    method: 'GET' | 'PUT',
    path: string,
    judge: (status: number, body: Uint8Array) => { failure: CheckFailure; detail: string } | void,
    request: TimedRequest = {},
  ) => {
    const response = await timedFetch(`${o.baseUrl}${path}`, { method, ...request }, call);
    const base = { attempt, check, method, path, bytes: response.body.byteLength };
    const latencyMs = Math.round(response.latencyMs);
    if (response.failure !== undefined || response.status === undefined) {
      const failure = response.failure ?? 'network';
      const detail =
        failure === 'timeout'
          ? `got no complete answer within ${o.timeoutMs} ms`
          : 'failed to connect or the connection was reset';
      results.push({ ...base, ok: false, latencyMs, failure, detail });
      return;
    }
    const verdict = judge(response.status, response.body) ?? undefined;
    results.push({
      ...base,
      ok: verdict === undefined,
      status: response.status,
      latencyMs,
      ...(verdict ?? {}),
    });
  };

  await run('ready', 'GET', '/health/ready', (status, body) => {
    const failure = readyBodyFailure(status, body, o.token);
    if (failure === undefined) return;
    return {
      failure,
      detail:
        failure === 'status'
          ? `answered ${status}`
          : failure === 'empty-body'
            ? `answered an empty ${status} body`
            : `answered ${status} without the readiness token ${o.token}`,
    };
  });

  await run('read-probe-item', 'GET', `/api/items/${o.probeItemId}`, (status, body) =>
    judgeItem(status, body, [200], { id: o.probeItemId }),
  );

  const name = `deploy gate ${o.runId} attempt ${attempt}`;
  const gatePath = `/api/items/${o.gateItemId}`;
  await run(
    'write-gate-item',
    'PUT',
    gatePath,
    (status, body) => judgeItem(status, body, [200, 201], { id: o.gateItemId, name }),
    {
      headers: {
        'content-type': 'application/json',
        'idempotency-key': `deploy-gate-${o.runId}-${attempt}`,
      },
      body: JSON.stringify({ name, price: 0, tags: ['deploy-gate'] }),
    },
  );
  await run('read-back-gate-item', 'GET', gatePath, (status, body) =>
    judgeItem(status, body, [200], { id: o.gateItemId, name }),
  );
  return results;
}

/** An item answer: an allowed status, a non-empty body, JSON, an object with the expected fields. */
function judgeItem(
  status: number,
  body: Uint8Array,
  allowed: readonly number[],
  expected: { readonly id: string; readonly name?: string },
): { failure: CheckFailure; detail: string } | undefined {
  if (!allowed.includes(status)) {
    return { failure: 'status', detail: `answered ${status}, expected ${allowed.join(' or ')}` };
  }
  if (body.byteLength === 0) {
    return { failure: 'empty-body', detail: `answered an empty ${status} body` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return {
      failure: 'not-json',
      detail: `answered ${status} with ${body.byteLength} bytes that are not JSON`,
    };
  }
  const item =
    typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  if (item.id !== expected.id) {
    return {
      failure: 'wrong-item',
      detail: `answered ${status} with JSON that is not item ${expected.id}`,
    };
  }
  if (expected.name !== undefined && item.name !== expected.name) {
    return {
      failure: 'wrong-item',
      detail: `answered ${status} with item ${expected.id} named ${JSON.stringify(item.name)}, expected ${JSON.stringify(expected.name)}`,
    };
  }
  return undefined;
}
