import { availabilityZoneBelongsTo, AWS_REGIONS } from './aws-regions';
import { DEFAULT_CONFIG, GLOBAL_STACK_REGION } from './config';

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
    'network',
    'waf',
    'data',
    'site',
  ],
  region: ['region', 'availabilityZones', 'geoproximityBias'],
  domain: ['hostedZoneId', 'zoneName', 'apiRecordName', 'siteRecordName'],
  sizing: Object.keys(DEFAULT_CONFIG.sizing),
  healthCheck: Object.keys(DEFAULT_CONFIG.healthCheck),
  chaos: Object.keys(DEFAULT_CONFIG.chaos),
  network: Object.keys(DEFAULT_CONFIG.network),
  waf: Object.keys(DEFAULT_CONFIG.waf),
  data: Object.keys(DEFAULT_CONFIG.data),
  site: Object.keys(DEFAULT_CONFIG.site),
} as const;

const DNS_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** Shows a value the way it appeared in the JSON file. */
function show(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Collects every problem, so that one synth reports them all. */
class Problems {
  public readonly lines: string[] = [];

  add(field: string, message: string): void {
    this.lines.push(`${field}: ${message}`);
  }

  /** Returns the object at `field`, or undefined (reporting a problem) when it is not one. */
  object(field: string, value: unknown, known: readonly string[]): Json | undefined {
    if (value === undefined) return undefined;
    if (!isObject(value)) {
      this.add(field, `must be an object, got ${show(value)}`);
      return undefined;
    }
    for (const key of Object.keys(value)) {
      if (!known.includes(key)) {
        this.add(
          field === '' ? key : `${field}.${key}`,
          `unknown key; allowed keys here are ${known.join(', ')}`,
        );
      }
    }
    return value;
  }

  integer(field: string, value: unknown, min: number, max: number, unit = ''): number | undefined {
    if (value === undefined) return undefined;
    const suffix = unit ? ` (${unit})` : '';
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.add(field, `must be an integer from ${min} to ${max}${suffix}, got ${show(value)}`);
      return undefined;
    }
    return value;
  }

  string(field: string, value: unknown, pattern: RegExp, allowed: string): string | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || !pattern.test(value)) {
      this.add(field, `must be ${allowed}, got ${show(value)}`);
      return undefined;
    }
    return value;
  }
}

function checkRegions(p: Problems, value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0) {
    p.add('regions', `must be a non-empty list of regions, got ${show(value)}`);
    return undefined;
  }
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
        `unknown region ${show(region.region)}; allowed regions are ${AWS_REGIONS.join(', ')}`,
      );
    } else if (seen.has(name)) {
      p.add(`${field}.region`, `duplicate region ${show(name)}; list each region once`);
    } else {
      seen.add(name);
      regionOk = true;
    }
    const azs = region.availabilityZones;
    const example = regionOk ? name : 'eu-west-1';
    if (!Array.isArray(azs) || azs.length < 2) {
      p.add(
        `${field}.availabilityZones`,
        `must list at least 2 availability zone names (e.g. ["${example}a", "${example}b"]), got ${show(azs)}`,
      );
    } else {
      const seenAz = new Set<unknown>();
      azs.forEach((az: unknown, j) => {
        const azField = `${field}.availabilityZones[${j}]`;
        if (seenAz.has(az)) p.add(azField, `duplicate availability zone ${show(az)}`);
        seenAz.add(az);
        if (regionOk && !(typeof az === 'string' && availabilityZoneBelongsTo(az, name))) {
          p.add(
            azField,
            `${show(az)} is not an availability zone of ${name}; use ${name} followed by a letter, e.g. "${name}a"`,
          );
        }
      });
    }
    p.integer(`${field}.geoproximityBias`, region.geoproximityBias, -99, 99);
  });
  return [...seen];
}

function checkSizing(p: Problems, value: unknown): void {
  const sizing = p.object('sizing', value, KNOWN_KEYS.sizing) ?? {};
  const d = DEFAULT_CONFIG.sizing;
  const cpuSizes = Object.keys(FARGATE_MEMORY_MIB).map(Number);
  let cpu: number | undefined = d.taskCpu;
  if (sizing.taskCpu !== undefined) {
    if (typeof sizing.taskCpu !== 'number' || !cpuSizes.includes(sizing.taskCpu)) {
      p.add('sizing.taskCpu', `must be one of ${cpuSizes.join(', ')}, got ${show(sizing.taskCpu)}`);
      cpu = undefined;
    } else {
      cpu = sizing.taskCpu;
    }
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
  // Route 53 string matching takes at most 255 characters.
  p.string(
    'healthCheck.token',
    hc.token,
    /^[\x20-\x7e]{1,255}$/,
    'printable ASCII text of 1-255 characters (Route 53 searches the body for it)',
  );
}

function checkChaos(p: Problems, value: unknown): void {
  const chaos = p.object('chaos', value, KNOWN_KEYS.chaos) ?? {};
  checkBoolean(p, 'chaos.enabled', chaos.enabled);
  const share = chaos.maxTaskShare;
  if (share !== undefined && (typeof share !== 'number' || !(share > 0 && share <= 1))) {
    p.add('chaos.maxTaskShare', `must be a number above 0 and at most 1, got ${show(share)}`);
  }
  p.integer('chaos.maxFaultDurationMinutes', chaos.maxFaultDurationMinutes, 1, 720, 'minutes');
}

function checkBoolean(p: Problems, field: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'boolean') {
    p.add(field, `must be true or false, got ${show(value)}`);
  }
}

function checkFeatures(p: Problems, raw: Json, regions: readonly string[]): void {
  const network = p.object('network', raw.network, KNOWN_KEYS.network) ?? {};
  const layouts = ['one-per-az', 'single'];
  if (network.natGateways !== undefined && !layouts.includes(network.natGateways as string)) {
    p.add(
      'network.natGateways',
      `must be "one-per-az" or "single", got ${show(network.natGateways)}`,
    );
  }
  const waf = p.object('waf', raw.waf, KNOWN_KEYS.waf) ?? {};
  checkBoolean(p, 'waf.enabled', waf.enabled);
  p.integer(
    'waf.requestsPerFiveMinutesPerIp',
    waf.requestsPerFiveMinutesPerIp,
    10,
    2e9,
    'requests',
  );
  const data = p.object('data', raw.data, KNOWN_KEYS.data) ?? {};
  checkBoolean(p, 'data.deletionProtection', data.deletionProtection);
  const site = p.object('site', raw.site, KNOWN_KEYS.site) ?? {};
  checkBoolean(p, 'site.originFailover', site.originFailover);
  if (site.originFailover === false) return;
  const candidates = regions.filter((r) => r !== GLOBAL_STACK_REGION);
  if (site.failoverRegion !== undefined) {
    if (typeof site.failoverRegion !== 'string' || !candidates.includes(site.failoverRegion)) {
      p.add(
        'site.failoverRegion',
        `must be a configured region other than ${GLOBAL_STACK_REGION} (${candidates.join(', ') || 'none configured'}), got ${show(site.failoverRegion)}`,
      );
    }
  } else if (candidates.length === 0) {
    p.add(
      'site.originFailover',
      `needs a configured region other than ${GLOBAL_STACK_REGION} for the replica bucket; add one to regions or set site.originFailover to false`,
    );
  }
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
  const zoneName = domain.zoneName;
  if (
    zoneName !== undefined &&
    (typeof zoneName !== 'string' ||
      zoneName.replace(/\.$/, '').split('.').length < 2 ||
      !zoneName
        .replace(/\.$/, '')
        .split('.')
        .every((label) => DNS_LABEL.test(label)))
  ) {
    p.add(
      'domain.zoneName',
      `must be a lower-case DNS name such as "example.com", got ${show(zoneName)}`,
    );
  }
  for (const key of ['apiRecordName', 'siteRecordName'] as const) {
    p.string(`domain.${key}`, domain[key], DNS_LABEL, 'one lower-case DNS label such as "api"');
  }
}

/**
 * Checks a parsed override object and returns one line per problem (empty when valid). Types and
 * ranges are checked on what the file says; cross-field rules on the values that will be used,
 * defaults included.
 */
export function validateConfig(raw: unknown): string[] {
  const p = new Problems();
  if (!isObject(raw)) {
    p.add('config', `must be a JSON object, got ${show(raw)}`);
    return p.lines;
  }
  p.object('', raw, KNOWN_KEYS.root);
  p.string(
    'projectName',
    raw.projectName,
    /^[A-Za-z][A-Za-z0-9-]{0,29}$/,
    'a letter followed by up to 29 letters, digits or hyphens (it prefixes stack names)',
  );
  p.string('account', raw.account, /^\d{12}$/, 'a 12-digit AWS account id');
  const regions = checkRegions(p, raw.regions) ?? DEFAULT_CONFIG.regions.map((r) => r.region);
  const home = raw.homeRegion ?? DEFAULT_CONFIG.homeRegion;
  if (typeof home !== 'string' || !regions.includes(home)) {
    p.add(
      'homeRegion',
      `must be one of the configured regions (${regions.join(', ')}), got ${show(home)}`,
    );
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
  checkFeatures(p, raw, regions);
  return p.lines;
}
