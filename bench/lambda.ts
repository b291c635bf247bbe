/**
 * Bundles each chaos function as NodejsFunction does (esbuild, node22, CJS, minified, nothing
 * external) and measures, in a fresh Node process per run, how long the bundle takes to load: the
 * cold module initialisation a Lambda init pays for our code. Writes bench/lambda-results.json.
 *
 *   npm run bench:lambda            # 7 runs per function
 *   npx tsx bench/lambda.ts 15      # 15 runs per function
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import * as path from 'node:path';

import { build, version as esbuildVersion } from 'esbuild';

import { CHAOS_BUNDLING, CHAOS_FUNCTION_NAMES, chaosEntry } from '../lib/constructs/chaos/bundling';

const RUNS = Number(process.argv[2] ?? 7);
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

interface Stats {
  readonly min: number;
  readonly median: number;
  readonly max: number;
}

const stats = (values: number[]): Stats => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  const round = (n: number) => Math.round(n * 10) / 10;
  return { min: round(sorted[0]), median: round(median), max: round(sorted.at(-1)!) };
};

async function main(): Promise<void> {
  const out = mkdtempSync(path.join(tmpdir(), 'chaos-bench-'));
  const results = [];
  try {
    for (const name of CHAOS_FUNCTION_NAMES) {
      const outfile = path.join(out, name, 'index.js');
      // The options NodejsFunction passes to esbuild for CHAOS_BUNDLING.
      await build({
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
        logLevel: 'warning',
      });
      const bundleKiB = Math.round((statSync(outfile).size / 1024) * 10) / 10;

      const initMs: number[] = [];
      const processMs: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const started = process.hrtime.bigint();
        const run = spawnSync(process.execPath, ['-e', LOADER, outfile], {
          env: LAMBDA_ENV,
          encoding: 'utf8',
        });
        processMs.push(Number(process.hrtime.bigint() - started) / 1e6);
        if (run.status !== 0) throw new Error(`${name} failed to load:\n${run.stderr}`);
        initMs.push(Number(run.stdout));
      }
      const init = stats(initMs);
      results.push({
        name,
        bundleKiB,
        initMs: init,
        processMs: stats(processMs),
        underGoal: init.median < GOAL_MS,
      });
      console.log(
        `${name.padEnd(16)} ${String(bundleKiB).padStart(8)} KiB   init min/median/max ` +
          `${init.min}/${init.median}/${init.max} ms   (${init.median < GOAL_MS ? 'under' : 'OVER'} ${GOAL_MS} ms)`,
      );
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }

  const report = {
    generatedAt: new Date().toISOString(),
    what:
      'bundleKiB: esbuild bundle as NodejsFunction builds it with CHAOS_BUNDLING (node22, cjs, ES module ' +
      'sources preferred for tree-shaking, minified, nothing external). ' +
      'initMs: time to require() the bundle in a fresh node process (cold module initialisation). ' +
      'processMs: the whole spawned process, node startup included.',
    goalMs: GOAL_MS,
    runs: RUNS,
    node: process.version,
    esbuild: esbuildVersion,
    machine: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown cpu'}`,
    gitCommit: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim(),
    functions: results,
  };
  const file = path.join(__dirname, 'lambda-results.json');
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
