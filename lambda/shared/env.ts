import { EnvironmentError } from './errors';

type Env = Readonly<Record<string, string | undefined>>;

/** Reads a required environment variable; throws `X environment variable is not set` when absent. */
export function requireEnv(name: string, env: Env = process.env): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new EnvironmentError(`${name} environment variable is not set`);
  }
  return value;
}

/** Reads an optional environment variable; `undefined` when absent or blank. */
export function optionalEnv(name: string, env: Env = process.env): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}

/** Reads a number in `[min, max]` (`min` exclusive when `minExclusive`), or the default when absent. */
export function numberEnv(
  name: string,
  options: {
    readonly defaultValue: number;
    readonly min: number;
    readonly max: number;
    readonly minExclusive?: boolean;
    readonly integer?: boolean;
  },
  env: Env = process.env,
): number {
  const raw = optionalEnv(name, env);
  if (raw === undefined) return options.defaultValue;
  const value = Number(raw);
  const belowMin = options.minExclusive ? value <= options.min : value < options.min;
  if (
    !Number.isFinite(value) ||
    belowMin ||
    value > options.max ||
    (options.integer && !Number.isInteger(value))
  ) {
    const kind = options.integer ? 'an integer' : 'a number';
    const lower = options.minExclusive ? `above ${options.min}` : `from ${options.min}`;
    throw new EnvironmentError(
      `${name} environment variable must be ${kind} ${lower} to ${options.max}, got ${JSON.stringify(raw)}`,
    );
  }
  return value;
}

/** Reads a JSON environment variable and hands it to `parse`, which validates its shape. */
export function jsonEnv<T>(name: string, parse: (value: unknown) => T, env: Env = process.env): T {
  const raw = requireEnv(name, env);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new EnvironmentError(
      `${name} environment variable must be JSON, got ${JSON.stringify(raw)}`,
    );
  }
  return parse(value);
}

/** What every guarded fault function (and `restore`) reads from its environment. */
export interface ChaosEnv {
  /** The region this function acts in (set by Lambda). */
  readonly region: string;
  readonly clusterArn: string;
  /** The service ARN (or name) — the target that leases protect. */
  readonly service: string;
  readonly faultsParameter: string;
  readonly regionImpairedAlarm: string;
  readonly stateTable: string;
  /** Largest share of the region's tasks one experiment may affect, 0 < share <= 1. */
  readonly maxTaskShare: number;
  readonly maxFaultDurationMinutes: number;
  readonly cacheClusterId?: string;
  /** Subnet id -> AZ name for the VPC's subnets, so az-outage knows which subnets to take out. */
  readonly subnetAvailabilityZones: Readonly<Record<string, string>>;
}

export function loadChaosEnv(env: Env = process.env): ChaosEnv {
  return {
    region: requireEnv('AWS_REGION', env),
    clusterArn: requireEnv('CLUSTER_ARN', env),
    service: requireEnv('SERVICE_ARN', env),
    faultsParameter: requireEnv('FAULTS_PARAMETER', env),
    regionImpairedAlarm: requireEnv('REGION_IMPAIRED_ALARM', env),
    stateTable: requireEnv('STATE_TABLE', env),
    maxTaskShare: numberEnv(
      'MAX_TASK_SHARE',
      { defaultValue: 0.5, min: 0, max: 1, minExclusive: true },
      env,
    ),
    maxFaultDurationMinutes: numberEnv(
      'MAX_FAULT_DURATION_MINUTES',
      { defaultValue: 30, min: 1, max: 720, integer: true },
      env,
    ),
    cacheClusterId: optionalEnv('CACHE_CLUSTER_ID', env),
    subnetAvailabilityZones:
      optionalEnv('SUBNET_AZS', env) === undefined
        ? {}
        : jsonEnv('SUBNET_AZS', parseStringMap('SUBNET_AZS'), env),
  };
}

/** A canary target: a name (a region code, or `global`) and the URL to call. */
export interface CanaryTarget {
  readonly name: string;
  readonly url: string;
}

export interface CanaryEnv {
  readonly region: string;
  readonly targets: readonly CanaryTarget[];
  readonly healthToken: string;
  /** Per-call timeout, covering connect, headers and body. */
  readonly timeoutMs: number;
}

export function loadCanaryEnv(env: Env = process.env): CanaryEnv {
  return {
    region: requireEnv('AWS_REGION', env),
    targets: jsonEnv('CANARY_TARGETS', parseCanaryTargets, env),
    healthToken: requireEnv('HEALTH_TOKEN', env),
    timeoutMs: numberEnv(
      'CANARY_TIMEOUT_MS',
      { defaultValue: 5_000, min: 100, max: 30_000, integer: true },
      env,
    ),
  };
}

export function parseCanaryTargets(value: unknown): CanaryTarget[] {
  const fail = (why: string): never => {
    throw new EnvironmentError(
      `CANARY_TARGETS environment variable must be a JSON list of {"name","url"} with http(s) URLs; ${why}`,
    );
  };
  if (!Array.isArray(value) || value.length === 0) return fail('got an empty or non-list value');
  return value.map((entry: unknown, i) => {
    if (typeof entry !== 'object' || entry === null) return fail(`entry ${i} is not an object`);
    const { name, url } = entry as { name?: unknown; url?: unknown };
    if (typeof name !== 'string' || name === '') return fail(`entry ${i} has no name`);
    if (typeof url !== 'string' || !/^https?:\/\/\S+$/.test(url)) {
      return fail(`entry ${i} (${name}) has URL ${JSON.stringify(url)}`);
    }
    return { name, url };
  });
}

function parseStringMap(name: string) {
  return (value: unknown): Record<string, string> => {
    if (
      typeof value !== 'object' ||
      value === null ||
      Array.isArray(value) ||
      Object.values(value).some((v) => typeof v !== 'string')
    ) {
      throw new EnvironmentError(`${name} environment variable must be a JSON object of strings`);
    }
    return value as Record<string, string>;
  };
}
