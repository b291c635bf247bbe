/**
 * Bundles each chaos function as NodejsFunction does (esbuild, node22, CJS, minified, nothing
 * external) and measures, in a fresh Node process per run, how long the bundle takes to load: the
 * cold module initialisation a Lambda init pays for our code. Writes bench/lambda-results.json.
 *
 *   npm run bench:lambda            # 7 runs per function
 *   npx tsx bench/lambda.ts 15      # 15 runs per function
 * `npm run bench` calls runLambdaBench() and keeps the result in bench/results.json instead.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import * as path from 'node:path';

import { build, version as esbuildVersion } from 'esbuild';

import { CHAOS_BUNDLING, CHAOS_FUNCTION_NAMES, chaosEntry } from '../lib/constructs/chaos/bundling';

import { makeTempDir, removeTempDir, stopEverythingOnSignals } from './processes';
import { summarize, type Summary } from './stats';

export const LAMBDA_BENCH_DEFAULT_RUNS = 7;
const GOAL_MS = 100;

/** What the Lambda runtime sets, so that Powertools initialises as it would in Lambda. */
const LAMBDA_ENV = {
  PATH: process.env.PATH ?? '',
  AWS_REGION: 'us-east-1',
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
  AWS_LAMBDA_FUNCTION_NAME: 'chaos-bench',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
  POWERTOOLS_SERVICE_NAME: 'chaos-bench',
  POWERTOOLS_METRICS_NAMESPACE: 'ChaosBench',
  // The tracer needs the X-Ray daemon in Lambda; off here, it still loads its modules.
  POWERTOOLS_TRACE_ENABLED: 'false',
};

/** Prints the ms that `require(bundle)` took, measured inside the fresh process. */
const LOADER = `
const t0 = process.hrtime.bigint();
const mod = require(process.argv[1]);
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
if (typeof mod.handler !== 'function') throw new Error('no handler export');
process.stdout.write(String(ms));
`;

/** KiB of the minified bundle by where the code comes from (esbuild's metafile). */
export interface BundleComposition {
  readonly awsSdkKiB: number;
  readonly powertoolsKiB: number;
  readonly xrayKiB: number;
  readonly ownCodeKiB: number;
  readonly otherKiB: number;
}

/** Groups a bundle's inputs: the AWS SDK (with Smithy and aws-crypto), Powertools, X-Ray, ours. */
export function bundleComposition(
  inputs: Readonly<Record<string, { readonly bytesInOutput: number }>>,
): BundleComposition {
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
  const kib = (n: number) => Math.round((n / 1024) * 10) / 10;
  return {
    awsSdkKiB: kib(bytes.awsSdkKiB),
    powertoolsKiB: kib(bytes.powertoolsKiB),
    xrayKiB: kib(bytes.xrayKiB),
    ownCodeKiB: kib(bytes.ownCodeKiB),
    otherKiB: kib(bytes.otherKiB),
  };
}

export interface LambdaFunctionResult {
  readonly name: string;
  readonly bundleKiB: number;
  readonly composition: BundleComposition;
  /** require() of the bundle inside a fresh process: cold module initialisation. */
  readonly initMs: Summary;
  /** The whole spawned process, Node start-up included. */
  readonly processMs: Summary;
  readonly underGoal: boolean;
}

export interface LambdaResults {
  readonly generatedAt: string;
  readonly what: string;
  readonly goalMs: number;
  readonly runs: number;
  readonly node: string;
  readonly esbuild: string;
  readonly machine: string;
  readonly gitCommit: string;
  readonly functions: LambdaFunctionResult[];
}

/** Bundles every chaos function and times `runs` cold loads of each. */
export async function runLambdaBench(
  runs: number,
  log: (line: string) => void,
): Promise<LambdaResults> {
  if (!Number.isInteger(runs) || runs < 1) {
    throw new Error(`lambda bench: runs must be a whole number of at least 1, got ${runs}`);
  }

  const out = makeTempDir('chaos-bench-');
  const results: LambdaFunctionResult[] = [];
  try {
    for (const name of CHAOS_FUNCTION_NAMES) {
      const outfile = path.join(out, name, 'index.js');
      // The options NodejsFunction passes to esbuild for CHAOS_BUNDLING.
      const built = await build({
        entryPoints: [chaosEntry(name)],
        bundle: true,
        platform: 'node',
        target: CHAOS_BUNDLING.target,
        format: CHAOS_BUNDLING.format,
        minify: CHAOS_BUNDLING.minify,
        sourcemap: CHAOS_BUNDLING.sourceMap,
        external: [...CHAOS_BUNDLING.externalModules],
        mainFields: [...CHAOS_BUNDLING.mainFields],
        outfile,
        metafile: true,
        logLevel: 'warning',
      });
      const bundleKiB = Math.round((statSync(outfile).size / 1024) * 10) / 10;

      const initMs: number[] = [];
      const processMs: number[] = [];
      for (let i = 0; i < runs; i++) {
        const started = process.hrtime.bigint();
        const run = spawnSync(process.execPath, ['-e', LOADER, outfile], {
          env: LAMBDA_ENV,
          encoding: 'utf8',
          timeout: 30_000,
        });
        processMs.push(Number(process.hrtime.bigint() - started) / 1e6);
        if (run.status !== 0) throw new Error(`${name} failed to load:\n${run.stderr}`);
        initMs.push(Number(run.stdout));
      }
      const init = summarize(initMs, 'ms');
      results.push({
        name,
        bundleKiB,
        composition: bundleComposition(
          Object.entries(built.metafile.outputs).find(([file]) => file.endsWith('.js'))?.[1]
            .inputs ?? {},
        ),
        initMs: init,
        processMs: summarize(processMs, 'ms'),
        underGoal: init.median < GOAL_MS,
      });
      log(
        `${name.padEnd(16)} ${String(bundleKiB).padStart(8)} KiB   init min/median/max ` +
          `${init.min}/${init.median}/${init.max} ms   (${init.median < GOAL_MS ? 'under' : 'OVER'} ${GOAL_MS} ms)`,
      );
    }
  } finally {
    removeTempDir(out);
  }

  return {
    generatedAt: new Date().toISOString(),
    what:
      'bundleKiB: esbuild bundle as NodejsFunction builds it with CHAOS_BUNDLING (node22, cjs, ES module ' +
      'sources preferred for tree-shaking, minified, nothing external). ' +
      'initMs: time to require() the bundle in a fresh node process (cold module initialisation). ' +
      'processMs: the whole spawned process, node startup included.',
    goalMs: GOAL_MS,
    runs,
    node: process.version,
    esbuild: esbuildVersion,
    machine: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown cpu'}`,
    gitCommit: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim(),
    functions: results,
  };
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
