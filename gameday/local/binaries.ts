import { spawnSync } from 'node:child_process';

import { MEMCACHED_INSTALL_HINT } from '../../test/support/memcached';

/** The system programs the local game day runs, checked before anything starts. */

export const HAPROXY_INSTALL_HINT =
  'haproxy is not installed: run `sudo apt-get install haproxy` (Debian/Ubuntu) or `bash scripts/install.sh --test`';

export class MissingBinaryError extends Error {
  override readonly name = 'MissingBinaryError';
}

export interface Binaries {
  readonly haproxy: string;
  readonly haproxyVersion: string;
  readonly memcachedVersion: string;
}

function probe(binary: string, args: string[]): string | undefined {
  const result = spawnSync(binary, args, { encoding: 'utf8' });
  if (result.error || result.status !== 0) return undefined;
  return `${result.stdout}${result.stderr}`.split('\n')[0].trim();
}

/**
 * Finds haproxy (HAPROXY_BIN, default `haproxy`) and memcached (MEMCACHED_BIN, default
 * `memcached`), and says how to install whichever is missing.
 * @throws MissingBinaryError naming every missing program and its install command
 */
export function findBinaries(env: NodeJS.ProcessEnv = process.env): Binaries {
  const haproxy = env.HAPROXY_BIN ?? 'haproxy';
  const memcached = env.MEMCACHED_BIN ?? 'memcached';
  const haproxyVersion = probe(haproxy, ['-v']);
  const memcachedVersion = probe(memcached, ['-V']);
  const problems: string[] = [];
  if (haproxyVersion === undefined) problems.push(`${HAPROXY_INSTALL_HINT} (tried '${haproxy}')`);
  if (memcachedVersion === undefined) {
    problems.push(`${MEMCACHED_INSTALL_HINT} (tried '${memcached}')`);
  }
  if (haproxyVersion === undefined || memcachedVersion === undefined) {
    throw new MissingBinaryError(problems.join('\n'));
  }
  // "HAProxy version 2.6.12-1+deb12u4 2026/10/17 - https://haproxy.org/" → "HAProxy 2.6.12-1+deb12u4"
  const short = /version (\S+)/.exec(haproxyVersion)?.[1];
  return {
    haproxy,
    haproxyVersion: short ? `HAProxy ${short}` : haproxyVersion,
    memcachedVersion,
  };
}
