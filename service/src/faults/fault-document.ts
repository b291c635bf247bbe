/**
 * The game-day fault document, written by the chaos functions (SSM Parameter Store) and by the
 * local game day (a file):
 *
 *   {"faults":[{"type":"latency","targets":["<task id>"|"*"],"expiresAt":"<ISO-8601>",
 *               "params":{"ratio":0.5,"latencyMs":800,"status":503,"bypassGuard":true}}]}
 */
export const FAULT_TYPES = [
  'empty-response',
  'latency',
  'error-status',
  'health-fail',
  'cache-blackhole',
] as const;
export type FaultType = (typeof FAULT_TYPES)[number];

export interface FaultParams {
  /** Share of eligible requests (or cache calls, or readiness checks) the fault hits, 0-1. */
  readonly ratio: number;
  /** Added delay for `latency`. */
  readonly latencyMs: number;
  /** Status answered by `error-status`. */
  readonly status: number;
  /**
   * For `empty-response`: the empty body gets past the response guard and reaches clients, as in
   * the incident the fault replays (the health checks must catch it). `false` shows the guard
   * turning it into a 500 with a JSON body instead.
   */
  readonly bypassGuard: boolean;
}

export interface Fault {
  readonly type: FaultType;
  /**
   * Task ids (the last segment of the ECS task ARN, or the whole ARN; TASK_ID locally) or `*` for
   * every task. An empty list targets no task.
   */
  readonly targets: readonly string[];
  readonly expiresAt: Date;
  readonly params: FaultParams;
}

export const DEFAULT_FAULT_PARAMS: FaultParams = {
  ratio: 1,
  latencyMs: 1000,
  status: 503,
  bypassGuard: true,
};

/** Limits every writer of the document (the chaos functions, the local game day) must keep. */
export const MAX_FAULTS = 50;
export const MAX_TARGETS_PER_FAULT = 100;
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

export class FaultDocumentError extends Error {
  override readonly name = 'FaultDocumentError';

  constructor(readonly problems: readonly string[]) {
    super(`invalid fault document: ${problems.join('; ')}`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * Parses and validates a fault document. Throws {@link FaultDocumentError} listing every problem;
 * the caller logs it and applies no faults. Unknown fields are ignored; unknown types are not.
 */
export function parseFaultDocument(text: string): Fault[] {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new FaultDocumentError(['not JSON']);
  }
  if (!isRecord(document) || !Array.isArray(document.faults)) {
    throw new FaultDocumentError(['must be an object with a "faults" array']);
  }
  if (document.faults.length > MAX_FAULTS) {
    throw new FaultDocumentError([
      `"faults" must hold at most ${MAX_FAULTS} entries, got ${document.faults.length}`,
    ]);
  }
  const problems: string[] = [];
  const faults = document.faults.map((entry, index) =>
    parseFault(entry, `faults[${index}]`, problems),
  );
  if (problems.length > 0) {
    throw new FaultDocumentError(problems);
  }
  return faults;
}

function parseFault(entry: unknown, at: string, problems: string[]): Fault {
  if (!isRecord(entry)) {
    problems.push(`${at} must be an object, got ${describe(entry)}`);
    return { type: 'latency', targets: [], expiresAt: new Date(0), params: DEFAULT_FAULT_PARAMS };
  }
  const type = entry.type;
  if (typeof type !== 'string' || !(FAULT_TYPES as readonly string[]).includes(type)) {
    problems.push(`${at}.type must be one of ${FAULT_TYPES.join(', ')}, got ${describe(type)}`);
  }
  const targets = entry.targets;
  const targetsValid =
    Array.isArray(targets) &&
    targets.length <= MAX_TARGETS_PER_FAULT &&
    targets.every((target) => typeof target === 'string' && target.length > 0);
  if (!targetsValid) {
    problems.push(
      `${at}.targets must be a list of up to ${MAX_TARGETS_PER_FAULT} non-empty strings (task ids or "*"), got ${describe(targets)}`,
    );
  }
  const expiresAt = entry.expiresAt;
  const expiresAtMs =
    typeof expiresAt === 'string' && ISO_8601.test(expiresAt) ? Date.parse(expiresAt) : NaN;
  if (!Number.isFinite(expiresAtMs)) {
    problems.push(
      `${at}.expiresAt must be an ISO-8601 date-time with a zone, got ${describe(expiresAt)}`,
    );
  }
  return {
    type: type as FaultType,
    targets: targetsValid ? (targets as string[]) : [],
    expiresAt: new Date(expiresAtMs),
    params: parseParams(entry.params, `${at}.params`, problems),
  };
}

function parseParams(params: unknown, at: string, problems: string[]): FaultParams {
  if (params === undefined) return DEFAULT_FAULT_PARAMS;
  if (!isRecord(params)) {
    problems.push(`${at} must be an object, got ${describe(params)}`);
    return DEFAULT_FAULT_PARAMS;
  }
  const number = (
    name: 'ratio' | 'latencyMs' | 'status',
    min: number,
    max: number,
    integer: boolean,
  ): number => {
    const value = params[name];
    if (value === undefined) return DEFAULT_FAULT_PARAMS[name];
    if (
      typeof value !== 'number' ||
      !Number.isFinite(value) ||
      value < min ||
      value > max ||
      (integer && !Number.isInteger(value))
    ) {
      problems.push(
        `${at}.${name} must be ${integer ? 'an integer' : 'a number'} ${min}-${max}, got ${describe(value)}`,
      );
      return DEFAULT_FAULT_PARAMS[name];
    }
    return value;
  };
  const boolean = (name: 'bypassGuard'): boolean => {
    const value = params[name];
    if (value === undefined) return DEFAULT_FAULT_PARAMS[name];
    if (typeof value !== 'boolean') {
      problems.push(`${at}.${name} must be true or false, got ${describe(value)}`);
      return DEFAULT_FAULT_PARAMS[name];
    }
    return value;
  };
  return {
    ratio: number('ratio', 0, 1, false),
    latencyMs: number('latencyMs', 0, 60_000, true),
    status: number('status', 400, 599, true),
    bypassGuard: boolean('bypassGuard'),
  };
}
