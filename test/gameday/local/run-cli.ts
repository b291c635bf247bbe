import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** Runs `npm run gameday:local -- <args>` as a user would (tsx, from the repository root). */

export const REPOSITORY_ROOT = join(__dirname, '..', '..', '..');

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 110_000,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      join(REPOSITORY_ROOT, 'node_modules', '.bin', 'tsx'),
      [join(REPOSITORY_ROOT, 'gameday', 'local', 'cli.ts'), ...args],
      {
        cwd: REPOSITORY_ROOT,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    // The run stops every process it started on SIGTERM, so this leaves nothing behind.
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
