/**
 * Bundles the project's functions exactly as a synth does (bundleProject: one esbuild run, one
 * shared ES module asset, see lib/constructs/lambda/bundle.ts) and measures, per function:
 * - the JavaScript it loads: its `<folder>.mjs` (and any chunk it imports), against the 200 KiB
 *   budget, with the whole shared asset beside it;
 * - its cold module initialisation: `import()` of its file in a fresh Node process, against the
 *   50 ms goal.
 * Beside each, in the same run and in turn, the alternative the SDK choice rejected: one CommonJS
 * bundle per function with the AWS SDK left to the Lambda runtime's copy (resolved from NODE_PATH
 * as Lambda resolves /var/runtime/node_modules), its init counting the SDK it loads.
 *
 *   npm run bench:lambda            # 7 runs per function, writes bench/lambda-results.json
 *   npx tsx bench/lambda.ts 15      # 15 runs per function
 * `npm run bench` calls runLambdaBench() and keeps the result in bench/results.json instead.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import * as path from 'node:path';

import { build, version as esbuildVersion } from 'esbuild';

import { bundleProject, projectEntries, PROJECT_BUNDLING } from '../lib/constructs/lambda/bundle';

import { makeTempDir, removeTempDir, stopEverythingOnSignals } from './processes';
import { summarize, type Summary } from './stats';

export const LAMBDA_BENCH_DEFAULT_RUNS = 7;
/** Cold module initialisation goal per function. */
const GOAL_MS = 50;
/** JavaScript a function loads, at most. */
const BUDGET_KIB = 200;

const ROOT = path.resolve(__dirname, '..');

/** What the Lambda runtime sets, so that Powertools initialises as it would in Lambda. */
const LAMBDA_ENV = {
  PATH: process.env.PATH ?? '',
  AWS_REGION: 'us-east-1',
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
  AWS_LAMBDA_FUNCTION_NAME: 'chaos-bench',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
  POWERTOOLS_SERVICE_NAME: 'chaos-bench',
  POWERTOOLS_METRICS_NAMESPACE: 'ChaosBench',
};

/** Prints the ms that loading the file took, measured inside the fresh process. */
const LOADER = `
import { createRequire } from 'node:module';
const t0 = process.hrtime.bigint();
const file = process.argv[1];
const mod = file.endsWith('.mjs') ? await import(file) : createRequire(file)(file);
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
if (typeof mod.handler !== 'function') throw new Error('no handler export');
process.stdout.write(String(ms));
`;

/** KiB of JavaScript by where the code comes from (esbuild's metafile). */
export interface BundleComposition {
  readonly awsSdkKiB: number;
  readonly powertoolsKiB: number;
  readonly xrayKiB: number;
  readonly ownCodeKiB: number;
  readonly otherKiB: number;
}

type Inputs = Readonly<Record<string, { readonly bytesInOutput: number }>>;

/** Groups inputs: the AWS SDK (with Smithy and aws-crypto), Powertools, X-Ray, ours, the rest. */
export function bundleComposition(inputs: Inputs): BundleComposition {
  const bytes = { awsSdkKiB: 0, powertoolsKiB: 0, xrayKiB: 0, ownCodeKiB: 0, otherKiB: 0 };
  for (const [file, { bytesInOutput }] of Object.entries(inputs)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
    const pkg = match?.[1];
    const group: keyof BundleComposition =
      pkg === undefined
        ? 'ownCodeKiB'
        : /^@(aws-sdk|smithy|aws-crypto)\//.test(pkg)
          ? 'awsSdkKiB'
          : pkg.startsWith('@aws-lambda-powertools/')
            ? 'powertoolsKiB'
            : /^(aws-xray-sdk-core|cls-hooked)$/.test(pkg)
              ? 'xrayKiB'
              : 'otherKiB';
    bytes[group] += bytesInOutput;
  }
  return {
    awsSdkKiB: kib(bytes.awsSdkKiB),
    powertoolsKiB: kib(bytes.powertoolsKiB),
    xrayKiB: kib(bytes.xrayKiB),
    ownCodeKiB: kib(bytes.ownCodeKiB),
    otherKiB: kib(bytes.otherKiB),
  };
}

const kib = (bytes: number) => Math.round((bytes / 1024) * 10) / 10;

/** The part of an esbuild metafile this reads. */
export interface Metafile {
  readonly outputs: Readonly<
    Record<
      string,
      {
        readonly bytes: number;
        readonly entryPoint?: string;
        readonly imports: readonly { readonly path: string; readonly kind: string }[];
        readonly inputs: Inputs;
      }
    >
  >;
}

/**
 * The output files a function loads when it starts: its entry and every chunk it imports
 * statically. Chunks reached only by `import()` are not loaded at start and not counted. (The
 * SDK's SSO, STS and other credential providers were such chunks; the bundle no longer carries
 * them, see `PROJECT_BUNDLING.alias`.)
 */
export function loadedOutputs(metafile: Metafile, entryOutput: string): string[] {
  const seen = new Set<string>();
  const stack = [entryOutput];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file) || metafile.outputs[file] === undefined) continue;
    seen.add(file);
    for (const imported of metafile.outputs[file].imports) {
      if (imported.kind === 'import-statement') stack.push(imported.path);
    }
  }
  return [...seen].sort();
}

export interface LambdaFunctionResult {
  readonly name: string;
  /** Its entry and the chunks it imports at start, as deployed. */
  readonly loadedKiB: number;
  readonly composition: BundleComposition;
  readonly underBudget: boolean;
  /** import() of its entry in a fresh process: cold module initialisation. */
  readonly initMs: Summary;
  /** The whole spawned process, Node start-up included. */
  readonly processMs: Summary;
  readonly underGoal: boolean;
  /** The rejected alternative: its own CJS bundle, AWS SDK from the runtime (NODE_PATH). */
  readonly runtimeSdk: { readonly bundleKiB: number; readonly initMs: Summary };
}

export interface LambdaResults {
  readonly generatedAt: string;
  readonly what: string;
  readonly goalMs: number;
  readonly budgetKiB: number;
  readonly runs: number;
  /** esbuild runs per synth for all functions (before the shared bundle: one per function). */
  readonly bundles: number;
  /** Distinct code assets the functions deploy. */
  readonly assets: number;
  /** The whole shared asset: every entry and chunk. */
  readonly assetKiB: number;
  readonly node: string;
  readonly esbuild: string;
  readonly machine: string;
  readonly gitCommit: string;
  readonly functions: LambdaFunctionResult[];
}

function timeLoads(file: string, runs: number, env: NodeJS.ProcessEnv) {
  const initMs: number[] = [];
  const processMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', LOADER, file], {
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    processMs.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (run.status !== 0) throw new Error(`${file} failed to load:\n${run.stderr}`);
    initMs.push(Number(run.stdout));
  }
  return { initMs, processMs };
}

/** Bundles every function as a synth does and times `runs` cold loads of each, beside the alternative. */
export async function runLambdaBench(
  runs: number,
  log: (line: string) => void,
): Promise<LambdaResults> {
  if (!Number.isInteger(runs) || runs < 1) {
    throw new Error(`lambda bench: runs must be a whole number of at least 1, got ${runs}`);
  }

  const out = makeTempDir('lambda-bench-');
  const results: LambdaFunctionResult[] = [];
  try {
    const shared = path.join(out, 'shared');
    const metafileFile = path.join(out, 'meta.json');
    bundleProject(shared, { metafile: metafileFile });
    const metafile = JSON.parse(readFileSync(metafileFile, 'utf8')) as Metafile;
    const assetKiB = kib(
      readdirSync(shared, { recursive: true, withFileTypes: true })
        .filter((d) => d.isFile())
        .reduce((n, d) => n + statSync(path.join(d.parentPath, d.name)).size, 0),
    );

    const entries = projectEntries();
    for (const [name, entry] of Object.entries(entries)) {
      const entryOutput = Object.entries(metafile.outputs).find(
        ([, o]) => o.entryPoint !== undefined && path.resolve(ROOT, o.entryPoint) === entry,
      )?.[0];
      if (entryOutput === undefined) throw new Error(`${name}: not in the shared bundle`);
      const loaded = loadedOutputs(metafile, entryOutput);
      const loadedKiB = kib(loaded.reduce((n, f) => n + metafile.outputs[f].bytes, 0));
      const inputs: Record<string, { bytesInOutput: number }> = {};
      for (const file of loaded) {
        for (const [input, { bytesInOutput }] of Object.entries(metafile.outputs[file].inputs)) {
          inputs[input] = { bytesInOutput: (inputs[input]?.bytesInOutput ?? 0) + bytesInOutput };
        }
      }

      // The alternative: one CJS bundle, the SDK from the runtime's node_modules.
      const runtimeFile = path.join(out, 'runtime-sdk', `${name}.js`);
      await build({
        entryPoints: [entry],
        bundle: true,
        platform: 'node',
        target: PROJECT_BUNDLING.target,
        format: 'cjs',
        minify: true,
        mainFields: [...PROJECT_BUNDLING.mainFields],
        external: ['@aws-sdk/*', '@smithy/*'],
        outfile: runtimeFile,
        logLevel: 'warning',
      });

      // In turn, run by run: the shared bundle, then the alternative.
      const ours = { initMs: [] as number[], processMs: [] as number[] };
      const theirs: number[] = [];
      for (let i = 0; i < runs; i++) {
        const a = timeLoads(path.resolve(ROOT, entryOutput), 1, LAMBDA_ENV);
        ours.initMs.push(...a.initMs);
        ours.processMs.push(...a.processMs);
        const b = timeLoads(runtimeFile, 1, {
          ...LAMBDA_ENV,
          NODE_PATH: path.join(ROOT, 'node_modules'),
        });
        theirs.push(...b.initMs);
      }
      const init = summarize(ours.initMs, 'ms');
      const runtimeInit = summarize(theirs, 'ms');
      const runtimeKiB = kib(statSync(runtimeFile).size);
      results.push({
        name,
        loadedKiB,
        composition: bundleComposition(inputs),
        underBudget: loadedKiB <= BUDGET_KIB,
        initMs: init,
        processMs: summarize(ours.processMs, 'ms'),
        underGoal: init.median <= GOAL_MS,
        runtimeSdk: { bundleKiB: runtimeKiB, initMs: runtimeInit },
      });
      log(
        `${name.padEnd(17)} loads ${String(loadedKiB).padStart(6)} KiB (${loadedKiB <= BUDGET_KIB ? 'within' : 'OVER'} ${BUDGET_KIB})` +
          `   init min/median/max ${init.min}/${init.median}/${init.max} ms (${init.median <= GOAL_MS ? 'within' : 'OVER'} ${GOAL_MS})` +
          `   | runtime SDK: ${runtimeKiB} KiB, init ${runtimeInit.min}/${runtimeInit.median}/${runtimeInit.max} ms`,
      );
    }
    log(
      `1 esbuild run, 1 asset of ${assetKiB} KiB for ${Object.keys(entries).length} functions ` +
        `(before: ${Object.keys(entries).length} bundles, one per function)`,
    );

    return {
      generatedAt: new Date().toISOString(),
      what:
        'loadedKiB: the JavaScript a function loads at start (its <folder>.mjs and the chunks it imports) from ' +
        'the shared bundle a synth builds (bundleProject: esbuild, node22, one ES module per function, ' +
        'minified, AWS SDK bundled). initMs: import() of the function in a fresh node process (cold module ' +
        'initialisation). processMs: the whole spawned process, node startup included. runtimeSdk: the ' +
        'rejected alternative, a CJS bundle per function with @aws-sdk/* and @smithy/* left to the runtime ' +
        '(NODE_PATH), timed in turn with ours.',
      goalMs: GOAL_MS,
      budgetKiB: BUDGET_KIB,
      runs,
      bundles: 1,
      assets: 1,
      assetKiB,
      node: process.version,
      esbuild: esbuildVersion,
      machine: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown cpu'}`,
      gitCommit: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim(),
      functions: results,
    };
  } finally {
    removeTempDir(out);
  }
}

async function main(): Promise<void> {
  const arg = process.argv[2];
  const runs = arg === undefined ? LAMBDA_BENCH_DEFAULT_RUNS : Number(arg);
  if (!Number.isInteger(runs) || runs < 1) {
    console.error(
      `bench:lambda: runs must be a whole number of at least 1, got ${JSON.stringify(arg)}\n` +
        'usage: npm run bench:lambda [-- <runs>]',
    );
    process.exit(2);
  }
  stopEverythingOnSignals();
  const report = await runLambdaBench(runs, (line) => console.log(line));
  const file = path.join(__dirname, 'lambda-results.json');
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(`bench:lambda failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
