import { readFileSync } from 'node:fs';

import {
  BlueprintConfig,
  ConfigError,
  DEFAULT_CONFIG,
  GLOBAL_STACK_REGION,
  ResolvedConfig,
} from './config';
import { validateConfig } from './config-validation';

/**
 * Fills the defaults in under `overrides` (parsed JSON of unknown shape) and validates the result.
 * Objects merge field by field; arrays (such as `regions`) replace the default whole.
 * @throws ConfigError listing every problem at once
 */
export function resolveConfig(overrides: unknown = {}, source = 'config'): ResolvedConfig {
  const problems = validateConfig(overrides);
  if (problems.length > 0) {
    throw new ConfigError(source, problems);
  }
  // validateConfig has checked every field's type, so the shape is now known.
  const input = overrides as BlueprintConfig;
  const domain = input.domain;
  const regions = (input.regions ?? DEFAULT_CONFIG.regions).map((r) => ({
    region: r.region,
    availabilityZones: [...r.availabilityZones],
    geoproximityBias: r.geoproximityBias ?? 0,
  }));
  return {
    projectName: input.projectName ?? DEFAULT_CONFIG.projectName,
    account: input.account,
    homeRegion: input.homeRegion ?? DEFAULT_CONFIG.homeRegion,
    regions,
    domain: domain && {
      hostedZoneId: domain.hostedZoneId,
      zoneName: domain.zoneName.replace(/\.$/, ''),
      apiRecordName: domain.apiRecordName ?? 'api',
      siteRecordName: domain.siteRecordName ?? 'www',
    },
    sizing: { ...DEFAULT_CONFIG.sizing, ...input.sizing },
    healthCheck: { ...DEFAULT_CONFIG.healthCheck, ...input.healthCheck },
    alarmEmail: input.alarmEmail,
    chaos: { ...DEFAULT_CONFIG.chaos, ...input.chaos },
    network: { ...DEFAULT_CONFIG.network, ...input.network },
    waf: { ...DEFAULT_CONFIG.waf, ...input.waf },
    data: { ...DEFAULT_CONFIG.data, ...input.data },
    site: resolveSite(input, regions),
  };
}

function resolveSite(input: BlueprintConfig, regions: readonly { region: string }[]) {
  const originFailover = input.site?.originFailover ?? DEFAULT_CONFIG.site.originFailover;
  if (!originFailover) return { originFailover };
  const failoverRegion =
    input.site?.failoverRegion ??
    regions.map((r) => r.region).find((r) => r !== GLOBAL_STACK_REGION);
  return { originFailover, failoverRegion };
}

/** Where a JSON parse error points, as "line L, column C", when the engine says a position. */
function locate(text: string, error: Error): string {
  const message = error.message.replace(/\s+/g, ' ');
  const match = /position (\d+)/.exec(message);
  if (!match) return message;
  const before = text.slice(0, Number(match[1])).split('\n');
  return `${message.replace(/ in JSON at position \d+.*$/, '')} at line ${before.length}, column ${before[before.length - 1].length + 1}`;
}

/**
 * Reads the config for an app: the defaults, overridden by the JSON file at `path` when given.
 * @throws ConfigError when the file cannot be read, is not JSON, or holds invalid values
 */
export function loadConfig(path?: string): ResolvedConfig {
  if (path === undefined) return resolveConfig({}, 'the default config');
  const source = `config file ${path}`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new ConfigError(source, [
      `cannot be read (${code}); pass an existing JSON file with -c config=<path>`,
    ]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(source, [`is not valid JSON: ${locate(text, error as Error)}`]);
  }
  return resolveConfig(parsed, source);
}
