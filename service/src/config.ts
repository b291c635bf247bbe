import { version as packageVersion } from '../../package.json';

import { FaultDocumentError, parseFaultDocument, type Fault } from './faults/fault-document';
import { DEFAULT_HEALTH_TOKEN, healthTokenProblems } from './health-token';

export { DEFAULT_HEALTH_TOKEN };

export interface Endpoint {
  readonly host: string;
  readonly port: number;
  /**
   * The IP address to dial, when known (auto discovery reports it); TLS is still verified
   * against `host`.
   * @default - resolve `host`
   */
  readonly address?: string;
}

/** Where the game-day fault document comes from: a file locally, an SSM parameter in AWS. */
export type FaultsSourceConfig =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'ssm-parameter'; readonly name: string };

/** The service's whole configuration, read once from the environment by {@link loadConfig}. */
export interface ServiceConfig {
  readonly port: number;
  readonly host: string;
  /** A static node list (local runs); empty when the nodes are discovered. */
  readonly memcachedEndpoints: readonly Endpoint[];
  /** The ElastiCache configuration endpoint to discover the nodes from (`config get cluster`). */
  readonly memcachedConfigEndpoint?: Endpoint;
  /** How often the node list is read again from the configuration endpoint (jittered). */
  readonly memcachedDiscoveryIntervalSeconds: number;
  readonly memcachedTls: boolean;
  readonly tableName: string;
  /** Local only (a DynamoDB-API server on loopback); in AWS the SDK finds the regional endpoint. */
  readonly dynamoDbEndpoint?: string;
  readonly faultsSource: FaultsSourceConfig;
  readonly faultsPollSeconds: number;
  /**
   * Faults this revision carries from its start (REVISION_FAULTS, a fault document), next to the
   * polled ones: the bad-deploy game day registers a task definition with one to deploy a
   * revision that answers empty 200s. Empty when unset.
   */
  readonly revisionFaults: readonly Fault[];
  readonly healthToken: string;
  readonly taskId?: string;
  readonly availabilityZone?: string;
  /** `ECS_CONTAINER_METADATA_URI_V4`: when set, the task ARN and AZ come from `<uri>/task`. */
  readonly ecsMetadataUri?: string;
  readonly region: string;
  readonly serviceVersion: string;
  readonly metricsNamespace: string;
  readonly shutdownDrainSeconds: number;
  readonly cacheTtlSeconds: number;
  readonly rateLimitPerMinute: number;
  /** Proxies in front of the service whose X-Forwarded-For entry is trusted (1 = the ALB). */
  readonly trustProxyHops: number;
  readonly logLevel: LogLevel;
  /** One access-log line per this many plain successes (1 = every request); see access-log.ts. */
  readonly accessLogSampleEvery: number;
  /** A response at least this slow always gets an access-log line. */
  readonly accessLogSlowMs: number;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Every problem found in the environment, reported together. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`);
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads and validates the environment. Collects every problem and throws one {@link ConfigError}
 * naming them all, so a misconfigured task fails at start with one clear line.
 */
export function loadConfig(env: Env = process.env): ServiceConfig {
  const problems: string[] = [];
  const read = new EnvReader(env, problems);

  const dynamoDbEndpoint = read.optionalUrl('DYNAMODB_ENDPOINT');
  const region = env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || undefined;
  if (region === undefined && dynamoDbEndpoint === undefined) {
    problems.push('AWS_REGION environment variable is not set');
  }

  const config: ServiceConfig = {
    port: read.integer('PORT', { default: 8080, min: 0, max: 65535 }),
    host: read.string('HOST', { default: '0.0.0.0' }),
    ...read.memcachedNodes(),
    memcachedDiscoveryIntervalSeconds: read.number('MEMCACHED_DISCOVERY_INTERVAL_SECONDS', {
      default: 60,
      min: 1,
      max: 3600,
    }),
    memcachedTls: read.boolean('MEMCACHED_TLS', false),
    tableName: read.tableName('TABLE_NAME'),
    dynamoDbEndpoint,
    faultsSource: read.faultsSource(),
    faultsPollSeconds: read.number('FAULTS_POLL_SECONDS', { default: 5, min: 0.1, max: 300 }),
    revisionFaults: read.faultDocument('REVISION_FAULTS'),
    healthToken: read.healthToken('HEALTH_TOKEN'),
    taskId: read.optionalString('TASK_ID'),
    availabilityZone: read.optionalString('AVAILABILITY_ZONE'),
    ecsMetadataUri: read.optionalUrl('ECS_CONTAINER_METADATA_URI_V4'),
    region: region ?? 'local',
    serviceVersion: read.string('SERVICE_VERSION', { default: packageVersion }),
    metricsNamespace: read.string('METRICS_NAMESPACE', { default: 'Blueprint/Service' }),
    shutdownDrainSeconds: read.number('SHUTDOWN_DRAIN_SECONDS', { default: 20, min: 0, max: 120 }),
    cacheTtlSeconds: read.integer('CACHE_TTL_SECONDS', { default: 60, min: 1, max: 86_400 }),
    rateLimitPerMinute: read.integer('RATE_LIMIT_PER_MINUTE', {
      default: 1200,
      min: 1,
      max: 100_000_000,
    }),
    trustProxyHops: read.integer('TRUST_PROXY_HOPS', { default: 1, min: 0, max: 10 }),
    logLevel: read.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    accessLogSampleEvery: read.integer('ACCESS_LOG_SAMPLE_EVERY', {
      default: 100,
      min: 1,
      max: 1_000_000,
    }),
    accessLogSlowMs: read.number('ACCESS_LOG_SLOW_MS', { default: 1000, min: 0, max: 600_000 }),
  };

  if (problems.length > 0) {
    throw new ConfigError(problems);
  }
  return config;
}

/** Small typed readers; each records a problem (what was given, what is allowed) and returns a placeholder. */
class EnvReader {
  constructor(
    private readonly env: Env,
    private readonly problems: string[],
  ) {}

  private raw(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  private required(name: string): string | undefined {
    const value = this.raw(name);
    if (value === undefined) {
      this.problems.push(`${name} environment variable is not set`);
    }
    return value;
  }

  optionalString(name: string): string | undefined {
    return this.raw(name);
  }

  string(name: string, options: { default: string }): string {
    return this.raw(name) ?? options.default;
  }

  number(name: string, options: { default: number; min: number; max: number }): number {
    const value = this.raw(name);
    if (value === undefined) return options.default;
    const parsed = Number(value);
    if (!/^\d+(\.\d+)?$/.test(value) || parsed < options.min || parsed > options.max) {
      this.problems.push(
        `${name} must be a number ${options.min}-${options.max}, got '${truncate(value)}'`,
      );
      return options.default;
    }
    return parsed;
  }

  integer(name: string, options: { default: number; min: number; max: number }): number {
    const value = this.raw(name);
    if (value === undefined) return options.default;
    const parsed = Number(value);
    if (!/^\d+$/.test(value) || parsed < options.min || parsed > options.max) {
      this.problems.push(
        `${name} must be an integer ${options.min}-${options.max}, got '${truncate(value)}'`,
      );
      return options.default;
    }
    return parsed;
  }

  boolean(name: string, defaultValue: boolean): boolean {
    const value = this.raw(name);
    if (value === undefined) return defaultValue;
    if (value === 'true' || value === 'false') return value === 'true';
    this.problems.push(`${name} must be 'true' or 'false', got '${truncate(value)}'`);
    return defaultValue;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], defaultValue: T): T {
    const value = this.raw(name);
    if (value === undefined) return defaultValue;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    this.problems.push(`${name} must be one of ${allowed.join(', ')}, got '${truncate(value)}'`);
    return defaultValue;
  }

  optionalUrl(name: string): string | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    if (!/^https?:\/\/[^\s/]+/.test(value) || !URL.canParse(value)) {
      this.problems.push(`${name} must be an http(s) URL, got '${truncate(value)}'`);
      return undefined;
    }
    return value.replace(/\/+$/, '');
  }

  /** Exactly one of a configuration endpoint (AWS) or a static node list (local runs). */
  memcachedNodes(): { memcachedEndpoints: Endpoint[]; memcachedConfigEndpoint?: Endpoint } {
    const configEndpoint = this.raw('MEMCACHED_CONFIG_ENDPOINT');
    const endpoints = this.raw('MEMCACHED_ENDPOINTS');
    if ((configEndpoint === undefined) === (endpoints === undefined)) {
      this.problems.push(
        `set exactly one of MEMCACHED_CONFIG_ENDPOINT (the ElastiCache configuration endpoint, host:port) or MEMCACHED_ENDPOINTS (a static host:port list), got ${configEndpoint === undefined ? 'neither' : 'both'}`,
      );
      return { memcachedEndpoints: [] };
    }
    if (configEndpoint !== undefined) {
      if (configEndpoint.includes(',')) {
        this.problems.push(
          `MEMCACHED_CONFIG_ENDPOINT must be one host:port, got '${truncate(configEndpoint)}'`,
        );
        return { memcachedEndpoints: [] };
      }
      const [endpoint] = this.endpoints('MEMCACHED_CONFIG_ENDPOINT');
      return { memcachedEndpoints: [], memcachedConfigEndpoint: endpoint };
    }
    return { memcachedEndpoints: this.endpoints('MEMCACHED_ENDPOINTS') };
  }

  endpoints(name: string): Endpoint[] {
    const value = this.required(name);
    if (value === undefined) return [];
    const endpoints: Endpoint[] = [];
    for (const entry of value.split(',').map((part) => part.trim())) {
      const match = /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(entry);
      const port = match ? Number(match[2]) : 0;
      if (!match || port < 1 || port > 65535) {
        this.problems.push(
          `${name} must be comma-separated host:port entries, got '${truncate(entry)}'`,
        );
        continue;
      }
      endpoints.push({ host: match[1], port });
    }
    const unique = new Set(endpoints.map((endpoint) => `${endpoint.host}:${endpoint.port}`));
    if (unique.size !== endpoints.length) {
      this.problems.push(`${name} lists the same endpoint twice, got '${truncate(value)}'`);
    }
    return endpoints;
  }

  tableName(name: string): string {
    const value = this.required(name);
    if (value === undefined) return '';
    if (!/^[A-Za-z0-9_.-]{3,255}$/.test(value)) {
      this.problems.push(
        `${name} must be 3-255 characters of A-Z, a-z, 0-9, '_', '-', '.', got '${truncate(value)}'`,
      );
    }
    return value;
  }

  faultsSource(): FaultsSourceConfig {
    const path = this.raw('FAULTS_FILE');
    const parameter = this.raw('FAULTS_PARAMETER');
    if ((path === undefined) === (parameter === undefined)) {
      this.problems.push(
        `set exactly one of FAULTS_FILE or FAULTS_PARAMETER, got ${path === undefined ? 'neither' : 'both'}`,
      );
      return { kind: 'file', path: '' };
    }
    if (parameter !== undefined) {
      if (!/^[A-Za-z0-9_.\-/]{1,2011}$/.test(parameter)) {
        this.problems.push(
          `FAULTS_PARAMETER must be an SSM parameter name (A-Z, a-z, 0-9, '_', '.', '-', '/'), got '${truncate(parameter)}'`,
        );
      }
      return { kind: 'ssm-parameter', name: parameter };
    }
    return { kind: 'file', path: path ?? '' };
  }

  /** A fault document (fault-document.ts), or no faults when unset. */
  faultDocument(name: string): Fault[] {
    const value = this.raw(name);
    if (value === undefined) return [];
    try {
      return parseFaultDocument(value);
    } catch (error) {
      if (!(error instanceof FaultDocumentError)) throw error;
      this.problems.push(
        `${name} must be a fault document {"faults":[...]}: ${error.problems.join('; ')}`,
      );
      return [];
    }
  }

  healthToken(name: string): string {
    const token = this.raw(name) ?? DEFAULT_HEALTH_TOKEN;
    // The rule is shared with the CDK config, so a token that synthesizes is one the service takes.
    for (const problem of healthTokenProblems(token, (value) => `'${truncate(value)}'`)) {
      this.problems.push(`${name} ${problem}`);
    }
    return token;
  }
}

function truncate(value: string): string {
  return value.length > 80 ? `${value.slice(0, 77)}...` : value;
}
