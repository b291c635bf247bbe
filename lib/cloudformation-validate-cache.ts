import { createHash } from 'node:crypto';
import {
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import * as path from 'node:path';

import {
  CloudFormationValidatePlugin,
  type IPolicyValidationContext,
  type PolicyValidationPluginReport,
} from 'aws-cdk-lib';

/**
 * Where reports are kept between synths, one file per set of templates: in the project's own
 * node_modules/.cache, not the machine's shared /tmp, where another user could plant a report
 * that hides a finding.
 */
export const VALIDATION_CACHE_DIR = path.join(
  __dirname,
  '..',
  'node_modules',
  '.cache',
  'blueprint',
  'cfn-validate',
);

/** How many reports are kept; older ones are removed when a new one is written. */
const KEPT_REPORTS = 16;

/** What one cache file holds. */
interface KeptReport {
  readonly version: string | undefined;
  /** The report, with each `templatePath` replaced by the index of its stack in the context. */
  readonly report: PolicyValidationPluginReport;
}

/** The versions the report depends on besides the templates: the CDK's rules and the engine. */
function engineVersions(): string {
  const cdkDir = path.dirname(require.resolve('aws-cdk-lib/package.json'));
  const engineDir = path.dirname(
    require.resolve('@aws/cloudformation-validate', { paths: [cdkDir] }),
  );
  const version = (dir: string) =>
    (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string })
      .version;
  return `aws-cdk-lib ${version(cdkDir)}, @aws/cloudformation-validate ${version(engineDir)}`;
}

/**
 * The CDK's own CloudFormation Validate check (the one every app runs by default), with its report
 * kept between synths: while the templates are byte-identical, the next synth uses the kept report
 * instead of starting the validation engine (a WebAssembly module that takes 2-3 s to start, then
 * about 0.5 s per regional template). Any change to a template, a stack's account, region or path,
 * or the aws-cdk-lib or engine version runs the real check again, for every stack.
 *
 * installCachedCloudFormationValidate puts it in place of the CDK's default instance, so it runs
 * when and where the default would (not with `CDK_VALIDATION=false`), under the same name, and the
 * CDK treats its report exactly as the default's. `BLUEPRINT_VALIDATION_CACHE=off` always runs the
 * check.
 */
export class CachedCloudFormationValidate extends CloudFormationValidatePlugin {
  private readonly cacheDir: string;
  /** The engine version of the report last returned, so that a kept report loads no engine. */
  private keptVersion: string | undefined;
  private fromCache = false;

  constructor(options: { readonly cacheDir?: string } = {}) {
    super();
    this.cacheDir = options.cacheDir ?? VALIDATION_CACHE_DIR;
  }

  /** Whether the last `validate` used a kept report. */
  public get usedKeptReport(): boolean {
    return this.fromCache;
  }

  public override get version(): string | undefined {
    return this.fromCache ? this.keptVersion : super.version;
  }

  public override get ruleIds(): string[] | undefined {
    return this.fromCache ? (this.keptVersion ? [this.keptVersion] : undefined) : super.ruleIds;
  }

  public override validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    this.fromCache = false;
    if (process.env.BLUEPRINT_VALIDATION_CACHE === 'off') return super.validate(context);
    const stacks = context.stackTemplates;
    let file: string;
    try {
      file = path.join(this.cacheDir, `${cacheKey(context)}.json`);
    } catch {
      return super.validate(context); // a template we cannot read: the real check says why
    }
    const kept = readKept(file);
    if (kept) {
      this.fromCache = true;
      this.keptVersion = kept.version;
      return withTemplatePaths(kept.report, (index) => stacks[index as number].templatePath);
    }
    const report = super.validate(context);
    // Kept as JSON now: the CDK edits the report it is given (suppressions, severities).
    const byIndex = new Map(stacks.map((s, i) => [path.resolve(s.templatePath), i]));
    const stored: KeptReport = {
      version: super.version,
      report: withTemplatePaths(report, (templatePath) =>
        byIndex.get(path.resolve(templatePath as string)),
      ),
    };
    keep(this.cacheDir, file, stored);
    return report;
  }
}

/** Everything the report depends on: versions, and each stack's identity and template bytes. */
function cacheKey(context: IPolicyValidationContext): string {
  const hash = createHash('sha256').update(engineVersions());
  for (const stack of context.stackTemplates) {
    hash.update(
      JSON.stringify([
        stack.stackConstructPath,
        path.basename(stack.templatePath),
        stack.accountId ?? null,
        stack.region ?? null,
      ]),
    );
    hash.update(createHash('sha256').update(readFileSync(stack.templatePath)).digest('hex'));
  }
  return hash.digest('hex');
}

/** A deep copy of `report` with every violating resource's `templatePath` mapped. */
function withTemplatePaths(
  report: PolicyValidationPluginReport,
  map: (templatePath: unknown) => unknown,
): PolicyValidationPluginReport {
  return JSON.parse(JSON.stringify(report), (key, value: unknown) =>
    key === 'templatePath' ? map(value) : value,
  ) as PolicyValidationPluginReport;
}

function readKept(file: string): KeptReport | undefined {
  try {
    const kept = JSON.parse(readFileSync(file, 'utf8')) as KeptReport;
    return Array.isArray(kept.report?.violations) && typeof kept.report.success === 'boolean'
      ? kept
      : undefined;
  } catch {
    return undefined; // none kept yet, or unreadable: run the check
  }
}

/** Writes the report atomically, then removes the oldest beyond KEPT_REPORTS; never throws. */
function keep(dir: string, file: string, kept: KeptReport): void {
  try {
    mkdirSync(dir, { recursive: true });
    const partial = `${file}.${process.pid}.tmp`;
    writeFileSync(partial, JSON.stringify(kept));
    renameSync(partial, file);
    const reports = readdirSync(dir)
      .filter((name) => name.endsWith('.json'))
      .map((name) => ({ name, mtime: statSync(path.join(dir, name)).mtimeMs }))
      .sort((a, b) => b.mtime - a.mtime);
    for (const old of reports.slice(KEPT_REPORTS)) {
      rmSync(path.join(dir, old.name), { force: true });
    }
  } catch {
    // A cache we cannot write (read-only temp dir, a concurrent synth) only costs the next synth.
  }
}

/** The CDK's hold on its default instance (`CloudFormationValidatePlugin._singletonInstance()`). */
interface DefaultInstanceHolder {
  _instance?: CloudFormationValidatePlugin;
  _singletonInstance?: () => CloudFormationValidatePlugin;
}

/**
 * Makes `plugin` the CDK's default CloudFormation Validate instance for this process, the one
 * `app.synth()` runs when the app registers none of its own. Not registered with
 * `Validations.of(app).addPlugins()` on purpose: registered plugins are listed in every template's
 * CDK metadata (its `Analytics` value), so that would change the templates; the default is not.
 * Returns false, and leaves the CDK's default alone, if this aws-cdk-lib holds it another way.
 */
export function installCachedCloudFormationValidate(
  plugin: CachedCloudFormationValidate = new CachedCloudFormationValidate(),
): boolean {
  const holder = CloudFormationValidatePlugin as unknown as DefaultInstanceHolder;
  if (typeof holder._singletonInstance !== 'function' || !('_instance' in holder)) return false;
  const previous = holder._instance;
  holder._instance = plugin;
  if (holder._singletonInstance() !== plugin) {
    holder._instance = previous;
    return false;
  }
  if (previous !== plugin) previous?._dispose();
  return true;
}
