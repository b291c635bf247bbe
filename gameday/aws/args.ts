/** The game-day CLI's flags, parsed and checked before anything else happens. */
import { parseArgs } from 'node:util';

import { SCENARIO_NAMES, ScenarioName, isScenarioName } from '../../lib/gameday/scenarios';

import { UsageError } from './errors';

export type CliCommand =
  | { readonly kind: 'help' }
  | { readonly kind: 'list'; readonly configPath?: string }
  | {
      readonly kind: 'run';
      readonly scenario: ScenarioName;
      readonly region?: string;
      readonly dryRun: boolean;
      readonly yes: boolean;
      readonly availabilityZone?: string;
      readonly configPath?: string;
    };

export const USAGE = [
  'Usage: npm run gameday -- <scenario> [--region <region>] [--act [--yes]] [--az <zone>] [--config <file>]',
  '       npm run gameday -- --list',
  '',
  `Scenarios: ${SCENARIO_NAMES.join(', ')}`,
  'Flags:',
  "  --region <region>  the region to run in (default: the config's homeRegion)",
  '  --act              inject the fault for real; without it the run is a dry run: every check',
  '                     and the plan, nothing changes',
  '  --dry-run          the default, said explicitly; cannot be combined with --act',
  '  --yes, -y          with --act: do not ask before injecting (needed without a terminal)',
  "  --az <zone>        az-outage only: the AZ to take out (default: the region's last AZ)",
  '  --config <file>    the blueprint config the stacks were deployed with (as cdk -c config=)',
  '  --list             show the scenarios, their hypotheses and budgets',
  '  --help, -h         show this help',
].join('\n');

const OPTIONS = {
  region: { type: 'string' },
  act: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  az: { type: 'string' },
  config: { type: 'string' },
  list: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const ALLOWED_FLAGS = '--region, --act, --dry-run, --yes, --az, --config, --list, --help';

/** Parses argv (without node and the script); throws UsageError naming what is wrong. */
export function parseCliArgs(argv: readonly string[]): CliCommand {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    // Not `instanceof Error`: node's own errors may come from another realm (test runners).
    const raw = (error as { message?: unknown } | null)?.message;
    const message = typeof raw === 'string' ? raw : String(error);
    throw new UsageError(`${message.split(/\.( |$)/)[0]}; allowed flags: ${ALLOWED_FLAGS}`);
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: 'help' };
  if (values.list) {
    if (positionals.length > 0) {
      throw new UsageError(`--list takes no scenario, got ${positionals.join(' ')}`);
    }
    return { kind: 'list', configPath: values.config };
  }
  if (positionals.length === 0) {
    throw new UsageError(`name a scenario: ${SCENARIO_NAMES.join(', ')} (or --list)`);
  }
  if (positionals.length > 1) {
    throw new UsageError(`name one scenario, got ${positionals.length}: ${positionals.join(' ')}`);
  }
  const scenario = positionals[0];
  if (!isScenarioName(scenario)) {
    throw new UsageError(
      `unknown scenario ${JSON.stringify(scenario)}; allowed: ${SCENARIO_NAMES.join(', ')}`,
    );
  }
  if (values.az !== undefined && scenario !== 'az-outage') {
    throw new UsageError(`--az applies to az-outage only, got it with ${scenario}`);
  }
  if (values.act && values['dry-run']) {
    throw new UsageError(
      '--act and --dry-run contradict each other; give --act to inject the fault, or neither for a dry run',
    );
  }
  for (const [flag, value] of [
    ['--region', values.region],
    ['--az', values.az],
    ['--config', values.config],
  ] as const) {
    if (value !== undefined && value.trim() === '') {
      throw new UsageError(`${flag} needs a value, got an empty one`);
    }
  }
  return {
    kind: 'run',
    scenario,
    // Acting is an explicit opt-in: without --act, nothing changes.
    dryRun: values.act !== true,
    yes: values.yes ?? false,
    ...(values.region !== undefined ? { region: values.region } : {}),
    ...(values.az !== undefined ? { availabilityZone: values.az } : {}),
    ...(values.config !== undefined ? { configPath: values.config } : {}),
  };
}
