/**
 * Where the blueprint's synth time goes, in a fresh Node process: building the construct tree
 * (which bundles every Lambda function with esbuild) and `app.synth()` (cdk-nag and the
 * CloudFormation checks, cross-region references, writing templates). CloudFormation Validate runs
 * in full here: bin/app.ts keeps its report between synths, this does not. With `no-bundling`, the tree
 * is built with bundling skipped, as unit tests do, so the difference is the bundling.
 *
 *   node --require ./bin/typescript-hook.js bench/synth-phases.ts bundling|no-bundling
 *   # prints {"constructMs":…,"synthMs":…}
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { App } from 'aws-cdk-lib';

import { createBlueprint } from '../lib/blueprint';
import { loadConfig } from '../lib/load-config';

export type PhaseMode = 'bundling' | 'no-bundling';
export const PHASE_MODES: readonly PhaseMode[] = ['bundling', 'no-bundling'];

export interface Phases {
  readonly constructMs: number;
  readonly synthMs: number;
}

function main(): void {
  const mode = process.argv[2];
  if (!PHASE_MODES.includes(mode as PhaseMode)) {
    process.stderr.write(
      `synth-phases: the mode must be ${PHASE_MODES.join(' or ')}, got ${JSON.stringify(mode)}\n`,
    );
    process.exit(2);
  }
  const outdir = mkdtempSync(path.join(tmpdir(), 'bench-phases-'));
  try {
    // The feature flags of cdk.json, as the CLI would pass them.
    const { context } = JSON.parse(
      readFileSync(path.resolve(__dirname, '..', 'cdk.json'), 'utf8'),
    ) as { context: Record<string, unknown> };
    const started = performance.now();
    const app = new App({
      outdir,
      context: mode === 'no-bundling' ? { ...context, 'aws:cdk:bundling-stacks': [] } : context,
    });
    createBlueprint(app, loadConfig());
    const built = performance.now();
    app.synth();
    const phases: Phases = {
      constructMs: Math.round(built - started),
      synthMs: Math.round(performance.now() - built),
    };
    process.stdout.write(`${JSON.stringify(phases)}\n`);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

if (require.main === module) main();
