import { readFileSync } from 'node:fs';

import {
  BlueprintConfig,
  ConfigError,
  DEFAULT_CONFIG,
  GLOBAL_STACK_REGION,
  ResolvedConfig,
} from './config';
import { firstInvalidUtf8Byte, JsonSyntaxError, parseStrictJson, quote } from './config-json';
import { validateConfig } from './config-validation';

/**
 * Fills the defaults in under `overrides` (parsed JSON of unknown shape) and validates the result.
 * Objects merge field by field; arrays (such as `regions`) replace the default whole.
 * @throws ConfigError listing every problem at once
 */
export function resolveConfig(
  overrides: unknown = {},
  source = 'config',
  numbers: ReadonlyMap<string, string> = new Map(),
): ResolvedConfig {
  const problems = validateConfig(overrides, numbers);
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
    deployment: { ...DEFAULT_CONFIG.deployment, ...input.deployment },
    network: { ...DEFAULT_CONFIG.network, ...input.network },
    waf: { ...DEFAULT_CONFIG.waf, ...input.waf },
    data: { ...DEFAULT_CONFIG.data, ...input.data },
    zonalShift: { ...DEFAULT_CONFIG.zonalShift, ...input.zonalShift },
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

/**
 * Reads the config for an app: the defaults, overridden by the JSON file at `path` when given.
 * @throws ConfigError when the file cannot be read, is not UTF-8 or strict JSON (duplicate keys
 * included), or holds invalid values
 */
export function loadConfig(path?: string): ResolvedConfig {
  if (path === undefined) return resolveConfig({}, 'the default config');
  const source = `config file ${path}`;
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new ConfigError(source, [
      `cannot be read (${code}); pass an existing JSON file with -c config=<path>`,
    ]);
  }
  const text = decodeUtf8(bytes, source);
  let parsed;
  try {
    parsed = parseStrictJson(text);
  } catch (error) {
    if (error instanceof JsonSyntaxError) {
      throw new ConfigError(source, [`is not valid JSON: ${error.message}`]);
    }
    throw error;
  }
  return resolveConfig(parsed.value, source, parsed.numbers);
}

/** The file's text; refuses bytes that are not UTF-8, naming where the first one is. */
function decodeUtf8(bytes: Buffer, source: string): string {
  const bad = firstInvalidUtf8Byte(bytes);
  if (bad === -1) return bytes.toString('utf8');
  const before = bytes.subarray(0, bad);
  const line = before.filter((b) => b === 0x0a).length + 1;
  const column = bad - (before.lastIndexOf(0x0a) + 1) + 1;
  const utf16 =
    (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)
      ? ' (it starts with a UTF-16 byte order mark)'
      : '';
  throw new ConfigError(source, [
    `is not valid UTF-8${utf16}: byte 0x${bytes[bad].toString(16).padStart(2, '0')} at line ${line}, column ${column} (counting bytes); save the file as UTF-8`,
  ]);
}

/**
 * The config path from the `config` context value (`-c config=<path>`), or undefined for the
 * defaults.
 * @throws ConfigError when the value is set but is not a file name, e.g. a number or an object
 * from cdk.json or cdk.context.json
 */
export function configPathFromContext(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ConfigError('the config context value', [
      `must be the path of a JSON file (-c config=path/to/file.json), got ${quote(value)}`,
    ]);
  }
  return value;
}
