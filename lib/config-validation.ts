import { healthTokenProblems } from '../service/src/health-token';

import { availabilityZoneBelongsTo, AWS_REGIONS } from './aws-regions';
import { DEFAULT_CONFIG, GLOBAL_STACK_REGION } from './config';
import { joinField, quote } from './config-json';

type Json = Record<string, unknown>;

/** Fargate's valid memory sizes (MiB) for each CPU size. */
const FARGATE_MEMORY_MIB: Readonly<Record<number, { min: number; max: number; step: number }>> = {
  256: { min: 512, max: 2048, step: 512 },
  512: { min: 1024, max: 4096, step: 1024 },
  1024: { min: 2048, max: 8192, step: 1024 },
  2048: { min: 4096, max: 16384, step: 1024 },
  4096: { min: 8192, max: 30720, step: 1024 },
  8192: { min: 16384, max: 61440, step: 4096 },
  16384: { min: 32768, max: 122880, step: 8192 },
};

const KNOWN_KEYS = {
  root: [
    'projectName',
    'account',
    'homeRegion',
    'regions',
    'domain',
    'sizing',
    'healthCheck',
    'alarmEmail',
    'chaos',
    'deployment',
    'network',
    'waf',
    'data',
    'site',
    'zonalShift',
  ],
  region: ['region', 'availabilityZones', 'geoproximityBias'],
  domain: ['hostedZoneId', 'zoneName', 'apiRecordName', 'siteRecordName'],
  sizing: Object.keys(DEFAULT_CONFIG.sizing),
  healthCheck: Object.keys(DEFAULT_CONFIG.healthCheck),
  chaos: Object.keys(DEFAULT_CONFIG.chaos),
  deployment: Object.keys(DEFAULT_CONFIG.deployment),
  network: Object.keys(DEFAULT_CONFIG.network),
  waf: Object.keys(DEFAULT_CONFIG.waf),
  data: Object.keys(DEFAULT_CONFIG.data),
  site: Object.keys(DEFAULT_CONFIG.site),
  zonalShift: Object.keys(DEFAULT_CONFIG.zonalShift),
} as const;

const DNS_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
/** The zone names the geo-routing construct takes: DNS labels under a top-level domain of letters. */
const TOP_LEVEL_DOMAIN = /^[a-z]{2,63}$/;
/** ACM refuses a certificate whose domain name is longer. */
const CERTIFICATE_NAME_MAX = 64;
/** SSM refuses parameter names (`/<project>/faults`) and CloudWatch namespaces starting so. */
const RESERVED_PREFIX = /^(aws|ssm|amazon)/i;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Collects every problem, so that one synth reports them all. */
class Problems {
  public readonly lines: string[] = [];

  constructor(private readonly numbers: ReadonlyMap<string, string>) {}

  add(field: string, message: string): void {
    this.lines.push(`${field}: ${message}`);
  }

  /** A value the way the file wrote it: numbers as typed (`1e400`), the rest escaped and cut. */
  show(field: string, value: unknown): string {
    if (value === undefined) return 'nothing';
    return (typeof value === 'number' && this.numbers.get(field)) || quote(value);
  }

  /**
   * Whether `value` was given. `null` counts as a mistake: it is not how JSON leaves a field out.
   */
  present(field: string, value: unknown): boolean {
    if (value === null) {
      this.add(field, 'is null; leave the field out to take its default, or give a value');
      return false;
    }
    return value !== undefined;
  }

  /** Returns the object at `field`, or undefined (reporting a problem) when it is not one. */
  object(field: string, value: unknown, known: readonly string[]): Json | undefined {
    if (!this.present(field, value)) return undefined;
    if (!isObject(value)) {
      this.add(field, `must be an object, got ${this.show(field, value)}`);
      return undefined;
    }
    for (const key of Object.keys(value)) {
      if (!known.includes(key)) {
        this.add(joinField(field, key), `unknown key; allowed keys here are ${known.join(', ')}`);
      }
    }
    return value;
  }

  integer(field: string, value: unknown, min: number, max: number, unit = ''): number | undefined {
    if (!this.present(field, value)) return undefined;
    const suffix = unit ? ` (${unit})` : '';
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.add(
        field,
        `must be an integer from ${min} to ${max}${suffix}, got ${this.show(field, value)}`,
      );
      return undefined;
    }
    return value;
  }

  string(field: string, value: unknown, pattern: RegExp, allowed: string): string | undefined {
    if (!this.present(field, value)) return undefined;
    if (typeof value !== 'string' || !pattern.test(value)) {
      this.add(field, `must be ${allowed}, got ${this.show(field, value)}`);
      return undefined;
    }
    return value;
  }

  boolean(field: string, value: unknown): boolean | undefined {
    if (!this.present(field, value)) return undefined;
    if (typeof value !== 'boolean') {
      this.add(field, `must be true or false, got ${this.show(field, value)}`);
      return undefined;
    }
    return value;
  }
}

/**
 * Checks the region list. Returns the configured region names, or undefined when the list is
 * absent or has a problem (so later rules do not pile misleading messages on top).
 */
function checkRegions(p: Problems, value: unknown): string[] | undefined {
  if (!p.present('regions', value)) return undefined;
  if (!Array.isArray(value) || value.length === 0) {
    p.add('regions', `must be a non-empty list of regions, got ${p.show('regions', value)}`);
    return undefined;
  }
  const before = p.lines.length;
  const seen = new Set<string>();
  value.forEach((entry: unknown, i) => {
    const field = `regions[${i}]`;
    const region = p.object(field, entry, KNOWN_KEYS.region);
    if (region === undefined) return;
    const name = typeof region.region === 'string' ? region.region : '';
    let regionOk = false;
    if (!AWS_REGIONS.includes(name)) {
      p.add(
        `${field}.region`,
        `unknown region ${p.show(`${field}.region`, region.region)}; allowed regions are ${AWS_REGIONS.join(', ')}`,
      );
    } else if (seen.has(name)) {
      p.add(`${field}.region`, `duplicate region ${quote(name)}; list each region once`);
    } else {
      seen.add(name);
      regionOk = true;
    }
    const azs = region.availabilityZones;
    const example = regionOk ? name : 'eu-west-1';
    if (!Array.isArray(azs) || azs.length < 2) {
      p.add(
        `${field}.availabilityZones`,
        `must list at least 2 availability zone names (e.g. ["${example}a", "${example}b"]), got ${p.show(`${field}.availabilityZones`, azs)}`,
      );
    } else {
      const seenAz = new Set<unknown>();
      azs.forEach((az: unknown, j) => {
        const azField = `${field}.availabilityZones[${j}]`;
        if (seenAz.has(az)) p.add(azField, `duplicate availability zone ${p.show(azField, az)}`);
        seenAz.add(az);
        if (regionOk && !(typeof az === 'string' && availabilityZoneBelongsTo(az, name))) {
          p.add(
            azField,
            `${p.show(azField, az)} is not an availability zone of ${name}; use ${name} followed by a letter, e.g. "${name}a"`,
          );
        }
      });
    }
    p.integer(`${field}.geoproximityBias`, region.geoproximityBias, -99, 99);
  });
  return p.lines.length === before ? [...seen] : undefined;
}

function checkSizing(p: Problems, value: unknown): void {
  const sizing = p.object('sizing', value, KNOWN_KEYS.sizing) ?? {};
  const d = DEFAULT_CONFIG.sizing;
  const cpuSizes = Object.keys(FARGATE_MEMORY_MIB).map(Number);
  let cpu: number | undefined = d.taskCpu;
  if (p.present('sizing.taskCpu', sizing.taskCpu)) {
    if (typeof sizing.taskCpu !== 'number' || !cpuSizes.includes(sizing.taskCpu)) {
      p.add(
        'sizing.taskCpu',
        `must be one of ${cpuSizes.join(', ')}, got ${p.show('sizing.taskCpu', sizing.taskCpu)}`,
      );
      cpu = undefined;
    } else {
      cpu = sizing.taskCpu;
    }
  } else if (sizing.taskCpu === null) {
    cpu = undefined;
  }
  const memory = p.integer('sizing.taskMemoryMiB', sizing.taskMemoryMiB, 512, 122880, 'MiB');
  const effectiveMemory = sizing.taskMemoryMiB === undefined ? d.taskMemoryMiB : memory;
  if (cpu !== undefined && effectiveMemory !== undefined) {
    const range = FARGATE_MEMORY_MIB[cpu];
    const fits =
      effectiveMemory >= range.min &&
      effectiveMemory <= range.max &&
      (effectiveMemory - range.min) % range.step === 0;
    if (!fits) {
      p.add(
        'sizing.taskMemoryMiB',
        `${effectiveMemory} MiB is not offered by Fargate with taskCpu ${cpu}; allowed are ${range.min}-${range.max} MiB in steps of ${range.step}`,
      );
    }
  }
  const count = (key: 'desiredTasks' | 'minTasks' | 'maxTasks') => {
    const given = sizing[key];
    return given === undefined ? d[key] : p.integer(`sizing.${key}`, given, 1, 1000, 'tasks');
  };
  const [desired, min, max] = [count('desiredTasks'), count('minTasks'), count('maxTasks')];
  if (min !== undefined && desired !== undefined && min > desired) {
    p.add(
      'sizing.minTasks',
      `${min} is more than sizing.desiredTasks ${desired}; need min <= desired`,
    );
  }
  if (desired !== undefined && max !== undefined && desired > max) {
    p.add(
      'sizing.desiredTasks',
      `${desired} is more than sizing.maxTasks ${max}; need desired <= max`,
    );
  }
  p.string(
    'sizing.cacheNodeType',
    sizing.cacheNodeType,
    /^cache\.[a-z0-9]+\.[a-z0-9]+$/,
    'an ElastiCache node type such as "cache.t4g.micro"',
  );
}

function checkHealthCheck(p: Problems, value: unknown): void {
  const hc = p.object('healthCheck', value, KNOWN_KEYS.healthCheck) ?? {};
  const d = DEFAULT_CONFIG.healthCheck;
  const interval = p.integer(
    'healthCheck.albIntervalSeconds',
    hc.albIntervalSeconds,
    5,
    300,
    'seconds',
  );
  const timeout = p.integer(
    'healthCheck.albTimeoutSeconds',
    hc.albTimeoutSeconds,
    2,
    120,
    'seconds',
  );
  const effectiveInterval = hc.albIntervalSeconds === undefined ? d.albIntervalSeconds : interval;
  const effectiveTimeout = hc.albTimeoutSeconds === undefined ? d.albTimeoutSeconds : timeout;
  if (
    effectiveInterval !== undefined &&
    effectiveTimeout !== undefined &&
    effectiveTimeout >= effectiveInterval
  ) {
    p.add(
      'healthCheck.albTimeoutSeconds',
      `${effectiveTimeout} s must be less than healthCheck.albIntervalSeconds ${effectiveInterval} s`,
    );
  }
  p.integer('healthCheck.albHealthyThreshold', hc.albHealthyThreshold, 2, 10, 'checks');
  p.integer('healthCheck.albUnhealthyThreshold', hc.albUnhealthyThreshold, 2, 10, 'checks');
  p.integer('healthCheck.route53FailureThreshold', hc.route53FailureThreshold, 1, 10, 'checks');
  // One rule with the service (service/src/health-token.ts): what synthesizes, the service takes.
  if (p.present('healthCheck.token', hc.token)) {
    if (typeof hc.token !== 'string') {
      p.add('healthCheck.token', `must be a string, got ${p.show('healthCheck.token', hc.token)}`);
    } else {
      for (const problem of healthTokenProblems(hc.token, (token) => quote(token))) {
        p.add('healthCheck.token', problem);
      }
    }
  }
}

function checkChaos(p: Problems, value: unknown): void {
  const chaos = p.object('chaos', value, KNOWN_KEYS.chaos) ?? {};
  p.boolean('chaos.enabled', chaos.enabled);
  const share = chaos.maxTaskShare;
  if (
    p.present('chaos.maxTaskShare', share) &&
    (typeof share !== 'number' || !(share > 0 && share <= 1))
  ) {
    p.add(
      'chaos.maxTaskShare',
      `must be a number above 0 and at most 1, got ${p.show('chaos.maxTaskShare', share)}`,
    );
  }
  p.integer('chaos.maxFaultDurationMinutes', chaos.maxFaultDurationMinutes, 1, 720, 'minutes');
  p.boolean('chaos.ecsNetworkFaults', chaos.ecsNetworkFaults);
  if (chaos.ecsNetworkFaults === true) {
    if (chaos.enabled === false) {
      p.add(
        'chaos.ecsNetworkFaults',
        'needs chaos.enabled true (the templates start only through the chaos guard); set chaos.enabled to true or ecsNetworkFaults to false',
      );
    }
    const minutes = chaos.maxFaultDurationMinutes;
    if (typeof minutes === 'number' && minutes < 2) {
      p.add(
        'chaos.ecsNetworkFaults',
        `needs chaos.maxFaultDurationMinutes of at least 2 (a fault of 1 minute plus the reservation's minute), got ${minutes}`,
      );
    }
  }
}

/** Whether `value` is a multiple of 0.1 (as ECS takes traffic percentages), within float error. */
function isTenths(value: number): boolean {
  return Math.abs(value * 10 - Math.round(value * 10)) < 1e-9;
}

function checkDeployment(p: Problems, value: unknown): void {
  const deployment = p.object('deployment', value, KNOWN_KEYS.deployment) ?? {};
  const strategies = ['canary', 'linear'];
  let strategy: string | undefined = DEFAULT_CONFIG.deployment.strategy;
  if (p.present('deployment.strategy', deployment.strategy)) {
    if (!strategies.includes(deployment.strategy as string)) {
      p.add(
        'deployment.strategy',
        `must be "canary" or "linear", got ${p.show('deployment.strategy', deployment.strategy)}`,
      );
      strategy = undefined;
    } else {
      strategy = deployment.strategy as string;
    }
  } else if (deployment.strategy === null) {
    strategy = undefined;
  }
  const percents = [
    { key: 'canaryPercent', for: 'canary', min: 0.1 },
    { key: 'linearStepPercent', for: 'linear', min: 3 },
  ] as const;
  for (const { key, for: owner, min } of percents) {
    const field = `deployment.${key}`;
    const given = deployment[key];
    if (!p.present(field, given)) continue;
    if (strategy !== undefined && strategy !== owner) {
      // Nothing silently ignored: the other strategy's share would be dropped.
      p.add(
        field,
        `applies only to deployment.strategy "${owner}", but the strategy is "${strategy}"; remove it or set deployment.strategy to "${owner}"`,
      );
      continue;
    }
    if (typeof given !== 'number' || given < min || given > 100 || !isTenths(given)) {
      p.add(
        field,
        `must be a percentage from ${min} to 100 in steps of 0.1, got ${p.show(field, given)}`,
      );
    }
  }
  p.integer('deployment.stepBakeTimeMinutes', deployment.stepBakeTimeMinutes, 0, 1440, 'minutes');
  p.integer('deployment.bakeTimeMinutes', deployment.bakeTimeMinutes, 0, 1440, 'minutes');
  const port = p.integer(
    'deployment.testListenerPort',
    deployment.testListenerPort,
    1,
    65535,
    'TCP port',
  );
  if (port === 80 || port === 443) {
    p.add(
      'deployment.testListenerPort',
      `must not be ${port}: the production listeners use 80 and 443; pick another port such as 9000`,
    );
  }
}

function checkFeatures(p: Problems, raw: Json, regions: readonly string[] | undefined): void {
  const network = p.object('network', raw.network, KNOWN_KEYS.network) ?? {};
  const layouts = ['one-per-az', 'single'];
  if (
    p.present('network.natGateways', network.natGateways) &&
    !layouts.includes(network.natGateways as string)
  ) {
    p.add(
      'network.natGateways',
      `must be "one-per-az" or "single", got ${p.show('network.natGateways', network.natGateways)}`,
    );
  }
  const waf = p.object('waf', raw.waf, KNOWN_KEYS.waf) ?? {};
  p.boolean('waf.enabled', waf.enabled);
  p.integer(
    'waf.requestsPerFiveMinutesPerIp',
    waf.requestsPerFiveMinutesPerIp,
    10,
    2e9,
    'requests',
  );
  const data = p.object('data', raw.data, KNOWN_KEYS.data) ?? {};
  p.boolean('data.deletionProtection', data.deletionProtection);
  checkSite(p, raw.site, regions);
  checkZonalShift(p, raw.zonalShift);
}

function checkZonalShift(p: Problems, value: unknown): void {
  const zonalShift = p.object('zonalShift', value, KNOWN_KEYS.zonalShift) ?? {};
  p.boolean('zonalShift.autoshift', zonalShift.autoshift);
}

function checkSite(p: Problems, value: unknown, regions: readonly string[] | undefined): void {
  const site = p.object('site', value, KNOWN_KEYS.site) ?? {};
  const failover = p.boolean('site.originFailover', site.originFailover);
  const regionGiven = p.present('site.failoverRegion', site.failoverRegion);
  if (failover === false) {
    // Nothing silently ignored: a failover region without failover would be dropped.
    if (regionGiven) {
      p.add(
        'site.failoverRegion',
        'is set but site.originFailover is false, so nothing would use it; remove it or set site.originFailover to true',
      );
    }
    return;
  }
  if (regions === undefined) return; // the region list has its own problem
  const candidates = regions.filter((r) => r !== GLOBAL_STACK_REGION);
  if (regionGiven) {
    if (typeof site.failoverRegion !== 'string' || !candidates.includes(site.failoverRegion)) {
      p.add(
        'site.failoverRegion',
        `must be a configured region other than ${GLOBAL_STACK_REGION} (${candidates.join(', ') || 'none configured'}), got ${p.show('site.failoverRegion', site.failoverRegion)}`,
      );
    }
  } else if (candidates.length === 0 && site.failoverRegion === undefined) {
    p.add(
      'site.originFailover',
      `needs a configured region other than ${GLOBAL_STACK_REGION} for the replica bucket; add one to regions or set site.originFailover to false`,
    );
  }
}

/** The problem with a zone name, in the terms the geo-routing construct accepts, if any. */
function zoneNameProblem(zoneName: string): string | undefined {
  const labels = zoneName.replace(/\.$/, '').split('.');
  if (labels.length < 2 || !labels.every((label) => DNS_LABEL.test(label))) {
    return 'must be a lower-case DNS name such as "example.com" (labels of a-z, 0-9 and inner hyphens)';
  }
  if (!TOP_LEVEL_DOMAIN.test(labels[labels.length - 1])) {
    return 'must end in a top-level domain of 2-63 letters, such as "com" (IDN top-level domains in xn-- form are not supported)';
  }
  return undefined;
}

function checkDomain(p: Problems, value: unknown): void {
  const domain = p.object('domain', value, KNOWN_KEYS.domain);
  if (domain === undefined) return;
  if (domain.hostedZoneId === undefined) p.add('domain.hostedZoneId', 'is required with a domain');
  p.string(
    'domain.hostedZoneId',
    domain.hostedZoneId,
    /^Z[A-Z0-9]{1,31}$/,
    'a Route 53 hosted zone id such as "Z0123456789ABCDEFGHIJ"',
  );
  if (domain.zoneName === undefined) p.add('domain.zoneName', 'is required with a domain');
  let zone: string | undefined;
  if (p.present('domain.zoneName', domain.zoneName)) {
    const problem =
      typeof domain.zoneName === 'string'
        ? zoneNameProblem(domain.zoneName)
        : 'must be a lower-case DNS name such as "example.com"';
    if (problem) {
      p.add('domain.zoneName', `${problem}, got ${p.show('domain.zoneName', domain.zoneName)}`);
    } else {
      zone = (domain.zoneName as string).replace(/\.$/, '');
    }
  }
  const records: Record<'apiRecordName' | 'siteRecordName', string | undefined> = {
    apiRecordName: 'api',
    siteRecordName: 'www',
  };
  for (const key of ['apiRecordName', 'siteRecordName'] as const) {
    const given = domain[key];
    if (given === undefined) continue;
    records[key] = p.string(
      `domain.${key}`,
      given,
      DNS_LABEL,
      'one lower-case DNS label such as "api"',
    );
  }
  const { apiRecordName: api, siteRecordName: site } = records;
  if (api !== undefined && api === site) {
    p.add(
      'domain.siteRecordName',
      `${quote(site)} is also domain.apiRecordName; the site and the API need different records`,
    );
  }
  for (const [key, record] of Object.entries(records)) {
    if (record === undefined || zone === undefined) continue;
    const name = `${record}.${zone}`;
    if (name.length > CERTIFICATE_NAME_MAX) {
      p.add(
        `domain.${key}`,
        `${quote(name, 100)} is ${name.length} characters; its certificate allows at most ${CERTIFICATE_NAME_MAX}, so shorten the record or the zone name`,
      );
    }
  }
}

function checkIdentity(p: Problems, raw: Json): void {
  const project = p.string(
    'projectName',
    raw.projectName,
    /^[A-Za-z][A-Za-z0-9-]{0,29}$/,
    'a letter followed by up to 29 letters, digits or hyphens (it prefixes stack names)',
  );
  if (project !== undefined && RESERVED_PREFIX.test(project)) {
    p.add(
      'projectName',
      `must not start with "aws", "amazon" or "ssm" in any case: it prefixes the SSM parameter /${project}/faults and the metrics namespace ${project}/Service, where AWS reserves them; got ${quote(project)}`,
    );
  }
  if (typeof raw.account === 'number') {
    p.add(
      'account',
      `must be a string of 12 digits in quotes, such as "012345678901" (a number loses leading zeros), got ${p.show('account', raw.account)}`,
    );
  } else {
    p.string('account', raw.account, /^\d{12}$/, 'a 12-digit AWS account id');
  }
}

/**
 * Checks a parsed override object and returns one line per problem (empty when valid). Types and
 * ranges are checked on what the file says; cross-field rules on the values that will be used,
 * defaults included. `numbers` holds each number's text as the file wrote it, by field path, so
 * that messages quote it (`1e400`, not `Infinity`).
 */
export function validateConfig(
  raw: unknown,
  numbers: ReadonlyMap<string, string> = new Map(),
): string[] {
  const p = new Problems(numbers);
  if (!isObject(raw)) {
    p.add('config', `must be a JSON object, got ${p.show('', raw)}`);
    return p.lines;
  }
  p.object('', raw, KNOWN_KEYS.root);
  checkIdentity(p, raw);
  const given = checkRegions(p, raw.regions);
  const regionsOk = raw.regions === undefined || given !== undefined;
  const regions = raw.regions === undefined ? DEFAULT_CONFIG.regions.map((r) => r.region) : given;
  const home = raw.homeRegion;
  if (p.present('homeRegion', home) || home === undefined) {
    const effective = home ?? DEFAULT_CONFIG.homeRegion;
    if (typeof effective !== 'string') {
      p.add('homeRegion', `must be a region name, got ${p.show('homeRegion', home)}`);
    } else if (regionsOk && regions && !regions.includes(effective)) {
      p.add(
        'homeRegion',
        `must be one of the configured regions (${regions.join(', ')}), got ${quote(effective)}`,
      );
    }
  }
  checkDomain(p, raw.domain);
  checkSizing(p, raw.sizing);
  checkHealthCheck(p, raw.healthCheck);
  p.string(
    'alarmEmail',
    raw.alarmEmail,
    /^[^\s@]+@[^\s@]+\.[^\s@]+$/,
    'an e-mail address such as "oncall@example.com"',
  );
  checkChaos(p, raw.chaos);
  checkDeployment(p, raw.deployment);
  checkFeatures(p, raw, regions);
  return p.lines;
}
