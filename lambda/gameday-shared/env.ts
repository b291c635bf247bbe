/** What the game-day functions read from their environment (set by GameDayOrchestrator). */
import type { DeployedSettings } from '../../lib/gameday/scenarios';
import { jsonEnv, numberEnv, optionalEnv, requireEnv } from '../shared/env';
import { EnvironmentError } from '../shared/errors';

type Env = Readonly<Record<string, string | undefined>>;

const SETTING_KEYS = [
  'albIntervalSeconds',
  'albHealthyThreshold',
  'albUnhealthyThreshold',
  'route53IntervalSeconds',
  'route53FailureThreshold',
  'taskStartSeconds',
  'faultPollSeconds',
  'selfEjectionSeconds',
] as const satisfies readonly (keyof DeployedSettings)[];

export function parseDeployedSettings(value: unknown): DeployedSettings {
  const record = (typeof value === 'object' && value !== null ? value : {}) as Record<
    string,
    unknown
  >;
  const bad = SETTING_KEYS.filter(
    (k) => typeof record[k] !== 'number' || !Number.isFinite(record[k]) || record[k] <= 0,
  );
  if (bad.length > 0) {
    throw new EnvironmentError(
      `DEPLOYED_SETTINGS environment variable must be a JSON object with positive numbers ` +
        `${SETTING_KEYS.join(', ')}; missing or invalid: ${bad.join(', ')}`,
    );
  }
  return Object.fromEntries(SETTING_KEYS.map((k) => [k, record[k]])) as unknown as DeployedSettings;
}

function parseStringList(name: string, min: number) {
  return (value: unknown): string[] => {
    if (
      !Array.isArray(value) ||
      value.length < min ||
      value.some((v) => typeof v !== 'string' || v === '')
    ) {
      throw new EnvironmentError(
        `${name} environment variable must be a JSON list of at least ${min} non-empty string(s)`,
      );
    }
    return value as string[];
  };
}

function baseUrl(name: string, env: Env, required: true): string;
function baseUrl(name: string, env: Env, required: false): string | undefined;
function baseUrl(name: string, env: Env, required: boolean): string | undefined {
  const raw = required ? requireEnv(name, env) : optionalEnv(name, env);
  if (raw === undefined) return undefined;
  if (!/^https?:\/\/[^/\s]+$/.test(raw)) {
    throw new EnvironmentError(
      `${name} environment variable must be a base URL such as https://api.example.com (no path), got ${JSON.stringify(raw)}`,
    );
  }
  return raw;
}

/** What the observe function (preflight, observe, verify) needs. */
export interface ObserveEnv {
  readonly region: string;
  readonly settings: DeployedSettings;
  readonly regionImpairedAlarm: string;
  /** Alarms whose first ALARM the report records (the region-impaired alarm among them). */
  readonly watchedAlarms: readonly string[];
  readonly stateTable: string;
  /** The service ARN: the chaos functions' lease key. */
  readonly service: string;
  /** This region's own endpoint, e.g. `https://eu-west-1.api.example.com`. */
  readonly regionEndpoint: string;
  /** The global (geoproximity) name, when there is a domain. */
  readonly globalEndpoint?: string;
  readonly availabilityZones: readonly string[];
  readonly maxFaultDurationMinutes: number;
  readonly holdSeconds: number;
  readonly requestsPerPoll: number;
  /** Per client read: connect, headers and body. */
  readonly requestTimeoutMs: number;
}

export function loadObserveEnv(env: Env = process.env): ObserveEnv {
  const regionImpairedAlarm = requireEnv('REGION_IMPAIRED_ALARM', env);
  const watched = jsonEnv('WATCHED_ALARMS', parseStringList('WATCHED_ALARMS', 0), env);
  return {
    region: requireEnv('AWS_REGION', env),
    settings: jsonEnv('DEPLOYED_SETTINGS', parseDeployedSettings, env),
    regionImpairedAlarm,
    watchedAlarms: [regionImpairedAlarm, ...watched.filter((n) => n !== regionImpairedAlarm)],
    stateTable: requireEnv('STATE_TABLE', env),
    service: requireEnv('SERVICE_ARN', env),
    regionEndpoint: baseUrl('REGION_ENDPOINT', env, true),
    globalEndpoint: baseUrl('GLOBAL_ENDPOINT', env, false),
    availabilityZones: jsonEnv('AVAILABILITY_ZONES', parseStringList('AVAILABILITY_ZONES', 1), env),
    maxFaultDurationMinutes: numberEnv(
      'MAX_FAULT_DURATION_MINUTES',
      { defaultValue: 30, min: 1, max: 720, integer: true },
      env,
    ),
    holdSeconds: numberEnv('HOLD_SECONDS', { defaultValue: 30, min: 0, max: 600 }, env),
    requestsPerPoll: numberEnv(
      'REQUESTS_PER_POLL',
      { defaultValue: 15, min: 1, max: 100, integer: true },
      env,
    ),
    requestTimeoutMs: numberEnv(
      'REQUEST_TIMEOUT_MS',
      { defaultValue: 3_000, min: 100, max: 10_000, integer: true },
      env,
    ),
  };
}

/** What the report function needs. */
export interface ReportEnv {
  readonly region: string;
  readonly settings: DeployedSettings;
  readonly bucket: string;
}

export function loadReportEnv(env: Env = process.env): ReportEnv {
  return {
    region: requireEnv('AWS_REGION', env),
    settings: jsonEnv('DEPLOYED_SETTINGS', parseDeployedSettings, env),
    bucket: requireEnv('REPORT_BUCKET', env),
  };
}
