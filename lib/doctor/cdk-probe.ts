import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { App, CfnWaitConditionHandle, Stack } from 'aws-cdk-lib';
import { DockerImageAsset } from 'aws-cdk-lib/aws-ecr-assets';
import { Asset } from 'aws-cdk-lib/aws-s3-assets';
import { Manifest } from 'aws-cdk-lib/cloud-assembly-schema';

/** The stack id of the probe assembly, which `cdk ls` prints when it can read it. */
export const PROBE_STACK = 'DoctorProbe';

/** What this aws-cdk-lib writes, read from a tiny assembly it synthesized. */
export interface ProbeAssembly {
  /** Where the assembly is, for the CLI to read. */
  readonly directory: string;
  /** The cloud-assembly schema version this library writes, e.g. `55.0.0`. */
  readonly schemaVersion: string;
  /** The CLI version released with that schema, e.g. `2.1148.2`. */
  readonly matchingCliVersion: string;
  /**
   * The lowest bootstrap version that deploying needs: the highest `requiresBootstrapStackVersion`
   * of a stack or an asset manifest (the lookup role is left out: synth never looks anything up).
   */
  readonly requiredBootstrapVersion: number;
}

interface ManifestJson {
  readonly version: string;
  readonly artifacts?: Record<
    string,
    { readonly type: string; readonly properties?: { requiresBootstrapStackVersion?: number } }
  >;
}

/**
 * Synthesizes a stack with a file asset and a container image asset (as the blueprint has) into
 * `workDir`, with the default synthesizer, and reads back what it requires. Needs no Docker and
 * no AWS: assets are only staged.
 */
export function synthesizeProbe(workDir: string): ProbeAssembly {
  const source = join(workDir, 'source');
  mkdirSync(source, { recursive: true });
  writeFileSync(join(source, 'Dockerfile'), 'FROM scratch\n');
  const app = new App({ outdir: join(workDir, 'assembly') });
  const stack = new Stack(app, PROBE_STACK, {
    env: { account: '111111111111', region: 'us-east-1' },
  });
  new CfnWaitConditionHandle(stack, 'Placeholder');
  new Asset(stack, 'File', { path: join(source, 'Dockerfile') });
  new DockerImageAsset(stack, 'Image', { directory: source });
  const assembly = app.synth();

  const manifest = JSON.parse(
    readFileSync(join(assembly.directory, 'manifest.json'), 'utf8'),
  ) as ManifestJson;
  const required = Object.values(manifest.artifacts ?? {})
    .map((artifact) => artifact.properties?.requiresBootstrapStackVersion)
    .filter((v): v is number => typeof v === 'number');
  return {
    directory: assembly.directory,
    schemaVersion: manifest.version,
    matchingCliVersion: Manifest.cliVersion() ?? 'unknown',
    requiredBootstrapVersion: Math.max(0, ...required),
  };
}
