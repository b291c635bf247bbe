import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import * as path from 'node:path';

/** The project's function folders live here, each with an `index.ts` exporting `handler`. */
export const LAMBDA_ROOT = path.join(__dirname, '..', '..', '..', 'lambda');

const PROJECT_ROOT = path.join(LAMBDA_ROOT, '..');
const ESBUILD = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'esbuild');

/** A function folder name: lower-case words joined by dashes, as `stop-tasks`. */
const FOLDER_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/**
 * Every function of the project: each folder of `lambda/` that holds an `index.ts`, by folder name.
 * A new folder with an `index.ts` joins the shared bundle by itself.
 */
export function projectEntries(root: string = LAMBDA_ROOT): Readonly<Record<string, string>> {
  return Object.fromEntries(
    readdirSync(root, { withFileTypes: true })
      .filter((d) => d.isDirectory() && FOLDER_NAME.test(d.name))
      .map((d) => [d.name, path.join(root, d.name, 'index.ts')] as const)
      .filter(([, entry]) => existsSync(entry))
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

/**
 * How the project's functions are bundled: ONE esbuild run over every entry, into one directory
 * that every function of the app deploys (its handler is `<folder>.handler`).
 *
 * - ES modules, one self-contained file per function (no code splitting): a function loads its
 *   `<folder>.mjs` and nothing else, not the other functions' code. What functions share
 *   (the signer, Powertools, lambda/shared) is in each file that uses it. With code splitting it
 *   had been shared chunks in the same asset, and a chaos function loaded its file and 14-15 chunks;
 *   Node's ES module loader pays for each file it resolves, reads and links, so the same code
 *   loaded 5-10 ms slower. Measured 2026-12-01 (5 cold imports each, in turn, Node 20 on 2 cores;
 *   median init, split -> one file): stop-tasks 43.7 -> 36.7 ms, empty-responses 44.8 -> 35.0 ms,
 *   cache-outage 48.1 -> 37.6 ms, canary 24.2 -> 16.9 ms. The price is the asset: 266 -> 1,354
 *   KiB (107 -> 441 KiB zipped), uploaded once per change, not loaded by any one function. A
 *   function still carries only what it imports: esbuild takes whole modules, so each SDK-facing
 *   client has its own module (lambda/shared/clients/) and a function imports only those it
 *   calls (test/constructs/lambda-bundle.test.ts checks the list); so does Powertools Metrics
 *   (lambda/shared/metrics.ts).
 * - The AWS SDK v3 is bundled, not taken from the Lambda runtime: the code runs the SDK version
 *   it was tested with (package.json pins it; the runtime carries some older 3.x minor that
 *   varies by region), and a minified bundle loads several times faster than the runtime's
 *   CommonJS packages (bench/lambda.ts measures both).
 * - Credentials: `@aws-sdk/credential-provider-node` (the SDK's default chain, which every client
 *   imports) is aliased to lambda/shared/lambda-credentials.ts, which reads the credentials the
 *   Lambda runtime always sets in the environment and fails naming the missing variables. The
 *   rest of the chain (ini and SSO files, STS web identity, credential process, IMDS, the nested
 *   STS/SSO/sign-in clients: about 100 KiB of the asset) never ran in Lambda and is not bundled.
 * - `mainFields` prefers the packages' ES module builds, which esbuild can tree-shake.
 * - The banner gives the bundled CommonJS dependencies a `require` for Node's built-ins.
 * - esbuild reports warnings and errors only, so `npm run synth` ends with its summary.
 */
export const PROJECT_BUNDLING = {
  target: 'node22',
  format: 'esm',
  outExtension: '.mjs',
  mainFields: ['module', 'main'],
  minify: true,
  alias: {
    '@aws-sdk/credential-provider-node': './lambda/shared/lambda-credentials.ts',
  },
  banner:
    "import{createRequire as __projectCreateRequire}from'node:module';" +
    'const require=__projectCreateRequire(import.meta.url);',
} as const;

/** The esbuild command-line arguments for bundling `entries` into `outdir`. */
export function bundleArguments(
  entries: Readonly<Record<string, string>>,
  outdir: string,
  options: { readonly metafile?: string } = {},
): string[] {
  return [
    ...Object.entries(entries).map(([name, entry]) => `${name}=${entry}`),
    '--bundle',
    '--platform=node',
    `--target=${PROJECT_BUNDLING.target}`,
    `--format=${PROJECT_BUNDLING.format}`,
    `--out-extension:.js=${PROJECT_BUNDLING.outExtension}`,
    `--main-fields=${PROJECT_BUNDLING.mainFields.join(',')}`,
    ...(PROJECT_BUNDLING.minify ? ['--minify'] : []),
    ...Object.entries(PROJECT_BUNDLING.alias).map(([from, to]) => `--alias:${from}=${to}`),
    `--banner:js=${PROJECT_BUNDLING.banner}`,
    '--log-level=warning',
    `--outdir=${outdir}`,
    ...(options.metafile ? [`--metafile=${options.metafile}`] : []),
  ];
}

/**
 * Where built bundles are kept between synths, by the esbuild arguments they were built with: in
 * the project's own node_modules/.cache (as Babel and ESLint keep theirs), not the machine's
 * shared /tmp, where another user could plant a bundle that a deploy would ship.
 */
export const BUNDLE_CACHE_DIR = path.join(
  PROJECT_ROOT,
  'node_modules',
  '.cache',
  'blueprint',
  'lambda-bundle',
);

/**
 * Bundles `entries` into `outdir` with the repository's esbuild; throws with esbuild's output.
 *
 * Synths in a row (`cdk diff`, `cdk deploy`, the tests that synthesize) mostly bundle the same
 * code, so the result is kept in BUNDLE_CACHE_DIR with the content hash of every file esbuild read
 * (its metafile's inputs) and of package-lock.json. While none of them changed, the next synth
 * copies the kept bundle instead of running esbuild: the same bytes, so the same asset hash.
 * `BLUEPRINT_BUNDLE_CACHE=off` always runs esbuild.
 */
export function bundleProject(
  outdir: string,
  options: {
    readonly entries?: Readonly<Record<string, string>>;
    readonly metafile?: string;
    readonly cacheDir?: string;
  } = {},
): { readonly cached: boolean } {
  const entries = options.entries ?? projectEntries();
  if (Object.keys(entries).length === 0) {
    throw new Error(
      `bundling the Lambda functions: no lambda/<folder>/index.ts under ${LAMBDA_ROOT}`,
    );
  }
  const useCache = options.metafile === undefined && process.env.BLUEPRINT_BUNDLE_CACHE !== 'off';
  if (!useCache) {
    runEsbuild(entries, outdir, options.metafile);
    return { cached: false };
  }
  const slot = path.join(
    options.cacheDir ?? BUNDLE_CACHE_DIR,
    sha256(JSON.stringify(bundleArguments(entries, '<out>'))),
  );
  if (inputsUnchanged(slot)) {
    cpSync(path.join(slot, 'out'), outdir, { recursive: true });
    return { cached: true };
  }
  const metafile = path.join(outdir, '..', `${path.basename(outdir)}.meta.json`);
  try {
    runEsbuild(entries, outdir, metafile);
    keep(slot, outdir, metafile);
  } finally {
    rmSync(metafile, { force: true });
  }
  return { cached: false };
}

function runEsbuild(
  entries: Readonly<Record<string, string>>,
  outdir: string,
  metafile: string | undefined,
): void {
  const result = spawnSync(ESBUILD, bundleArguments(entries, outdir, { metafile }), {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
  });
  // Warnings reach the user as esbuild printed them; the CDK's summary follows.
  if (result.stderr) process.stderr.write(result.stderr);
  if (result.error || result.status !== 0) {
    throw new Error(
      `bundling the Lambda functions with ${ESBUILD} failed` +
        (result.error ? `: ${result.error.message}` : ` (exit ${result.status})`),
    );
  }
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** Every file the bundle was built from, with its content hash. */
type Inputs = Record<string, string>;

function currentHash(file: string): string | undefined {
  try {
    return sha256(readFileSync(file));
  } catch {
    return undefined; // gone: the kept bundle no longer matches
  }
}

function inputsUnchanged(slot: string): boolean {
  let inputs: Inputs;
  try {
    inputs = JSON.parse(readFileSync(path.join(slot, 'inputs.json'), 'utf8')) as Inputs;
  } catch {
    return false; // nothing kept yet, or a slot written by another version
  }
  return Object.entries(inputs).every(([file, hash]) => currentHash(file) === hash);
}

/** Keeps the bundle and its inputs' hashes; a concurrent synth's slot is replaced whole. */
function keep(slot: string, outdir: string, metafile: string): void {
  const { inputs } = JSON.parse(readFileSync(metafile, 'utf8')) as {
    inputs: Record<string, unknown>;
  };
  const hashes: Inputs = {};
  for (const file of [...Object.keys(inputs), 'package-lock.json']) {
    const absolute = path.resolve(PROJECT_ROOT, file);
    hashes[absolute] = currentHash(absolute) ?? '';
  }
  const building = `${slot}.${process.pid}.tmp`;
  rmSync(building, { recursive: true, force: true });
  mkdirSync(building, { recursive: true });
  cpSync(outdir, path.join(building, 'out'), { recursive: true });
  writeFileSync(path.join(building, 'inputs.json'), JSON.stringify(hashes));
  rmSync(slot, { recursive: true, force: true });
  try {
    renameSync(building, slot);
  } catch (error) {
    // Another synth kept the same slot between our rm and rename: its bundle serves as well.
    rmSync(building, { recursive: true, force: true });
    const code = (error as { code?: unknown }).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
  }
}
