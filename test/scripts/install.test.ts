import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** The Debian packages `install.sh --test` installs. */
function testPackages(): string[] {
  const script = readFileSync(join(ROOT, 'scripts', 'install.sh'), 'utf8');
  const list = /^\s*packages=\(([^)]*)\)/m.exec(script)?.[1] ?? '';
  return list.split(/\s+/).filter(Boolean);
}

/** Every .ts file under `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/**
 * The programs the code starts by name: the first argument of spawn/execFile/run (the tests'
 * promisified execFile) and the `?? 'x'` default of a `*_BIN` override, plus absolute paths of
 * browsers.
 */
function spawnedPrograms(files: readonly string[]): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const patterns = [
      /\b(?:spawn|spawnSync|execFile|execFileSync)\(\s*'([^']+)'/g,
      /_BIN \?\? '([^']+)'/g,
      /'(\/usr\/bin\/[^']+)'/g,
      // `run` is execFile, promisified, where a file says so; runCommand is the benchmark's spawn
      ...(text.includes('promisify(execFile)') ? [/\brun\(\s*'([^']+)'/g] : []),
      /\brunCommand\(\s*'([^']+)'/g,
    ];
    for (const pattern of patterns) {
      for (const match of text.matchAll(pattern)) {
        found.set(match[1].replace(/^\/usr\/bin\//, ''), file.slice(ROOT.length + 1));
      }
    }
  }
  return found;
}

/** Programs of Debian's essential set, on every Debian install, and those Node.js brings. */
const ESSENTIAL = new Set(['sh', 'bash', 'grep', 'du', 'cp', 'mkdir', 'node', 'npm', 'npx']);
/** The package that provides each non-essential program. */
const PACKAGE_OF: Readonly<Record<string, string>> = {
  memcached: 'memcached',
  haproxy: 'haproxy',
  chromium: 'chromium',
  openssl: 'openssl',
  git: 'git',
  valgrind: 'valgrind',
};

describe('scripts/install.sh --test', () => {
  test('installs every program the tests, the local game day and the benchmark start', () => {
    // GIVEN every program named in the code that runs on a developer's machine
    const programs = spawnedPrograms(
      ['test', 'gameday', 'bench', 'scripts'].flatMap((dir) => sources(join(ROOT, dir))),
    );
    // (the scan finds what the suite is known to start, so it is not vacuous)
    expect([...programs.keys()]).toEqual(
      expect.arrayContaining(['openssl', 'memcached', 'haproxy']),
    );
    const packages = testPackages();
    // THEN each is essential or comes from a package the script installs
    const missing = [...programs]
      .filter(([program]) => !ESSENTIAL.has(program))
      .filter(
        ([program]) =>
          !packages.includes(PACKAGE_OF[program] ?? `<no package known for ${program}>`),
      )
      .map(([program, file]) => `${program} (started in ${file})`);
    expect(missing).toEqual([]);
  });

  test('leaves ca-certificates alone: reinstalling it would rebuild the CA bundle npm trusts', () => {
    // (A fresh minimal Debian whose npm reaches the registry through a proxy CA lost that CA when
    // install.sh installed ca-certificates, and `npm ci` then failed with SELF_SIGNED_CERT_IN_CHAIN.)
    expect(testPackages()).not.toContain('ca-certificates');
  });
});
