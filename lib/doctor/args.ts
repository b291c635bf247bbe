/** What `npm run doctor -- <flags>` asked for. */
export interface DoctorArgs {
  /** The config file, as `cdk synth -c config=<file>` takes it. */
  readonly configPath?: string;
  readonly help: boolean;
}

/** A flag the doctor does not know, or one without its value. */
export class UsageError extends Error {
  public override readonly name = 'UsageError';
}

export const USAGE = [
  'usage: npm run doctor [-- --config <file>]',
  '',
  '  --config <file>      the config file cdk synth/deploy use (same as -c config=<file>)',
  '  -c config=<file>     the same, spelled as for the CDK CLI',
  '  -h, --help           this text',
  '',
  'Checks this machine, and with AWS credentials the account, for what would make a deploy fail.',
  'Exit code: 0 when nothing failed (warnings and skipped checks included), 1 when a check failed,',
  '2 for a bad flag or config file.',
].join('\n');

const ALLOWED = 'allowed are --config <file>, -c config=<file> and --help';

function contextValue(pair: string | undefined, flag: string): string {
  if (pair === undefined || pair.startsWith('-')) {
    throw new UsageError(`${flag} needs config=<file>; ${ALLOWED}`);
  }
  const match = /^config=(.+)$/.exec(pair);
  if (!match) {
    throw new UsageError(`${flag} ${pair}: the doctor reads only config=<file>; ${ALLOWED}`);
  }
  return match[1];
}

/** Reads the doctor's flags. @throws UsageError naming the flag and what is allowed */
export function parseDoctorArgs(argv: readonly string[]): DoctorArgs {
  let configPath: string | undefined;
  let help = false;
  const setConfig = (path: string) => {
    if (configPath !== undefined && configPath !== path) {
      throw new UsageError(`two config files given (${configPath} and ${path}); give one`);
    }
    configPath = path;
  };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') {
      help = true;
    } else if (arg === '--config') {
      const value = argv[i + 1];
      if (value === undefined || value.startsWith('-')) {
        throw new UsageError(`--config needs a file name; ${ALLOWED}`);
      }
      setConfig(value);
      i += 1;
    } else if (arg.startsWith('--config=')) {
      const value = arg.slice('--config='.length);
      if (value === '') throw new UsageError(`--config= needs a file name; ${ALLOWED}`);
      setConfig(value);
    } else if (arg === '-c' || arg === '--context') {
      setConfig(contextValue(argv[i + 1], arg));
      i += 1;
    } else if (arg.startsWith('--context=')) {
      setConfig(contextValue(arg.slice('--context='.length), '--context'));
    } else {
      throw new UsageError(`unknown argument ${JSON.stringify(arg)}; ${ALLOWED}`);
    }
  }
  return { configPath, help };
}
