import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** How a command ended. `spawnError` is set when it could not start (e.g. `ENOENT`). */
export interface CommandResult {
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly spawnError?: string;
  readonly timedOut: boolean;
}

/** What the local checks read from this machine; tests pass a fake. */
export interface LocalEnvironment {
  /** e.g. `22.11.0`. */
  readonly nodeVersion: string;
  /** `process.arch`, e.g. `x64` or `arm64`. */
  readonly arch: string;
  /** `process.platform`, e.g. `linux` or `darwin`. */
  readonly platform: string;
  /** The node binary running the doctor, which also runs the CDK CLI. */
  readonly nodeExecutable: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The repository root (where package.json and cdk.json are). */
  readonly rootDir: string;
  /** Runs a program without a shell, killing it after `timeoutMs`. Never throws. */
  run(
    command: string,
    args: readonly string[],
    options: {
      readonly timeoutMs: number;
      readonly cwd?: string;
      /** Set on top of this process's environment. */
      readonly env?: Readonly<Record<string, string>>;
    },
  ): Promise<CommandResult>;
  /** A file's text, or undefined when it cannot be read. */
  readFile(path: string): string | undefined;
  exists(path: string): boolean;
  /** Full paths of `name` on PATH, in PATH order. */
  findOnPath(name: string): string[];
}

/** This machine. */
export function processEnvironment(rootDir: string): LocalEnvironment {
  return {
    nodeVersion: process.versions.node,
    arch: process.arch,
    platform: process.platform,
    nodeExecutable: process.execPath,
    env: process.env,
    rootDir,
    run: (command, args, options) =>
      new Promise((resolve) => {
        execFile(
          command,
          [...args],
          {
            cwd: options.cwd,
            env: options.env ? { ...process.env, ...options.env } : process.env,
            timeout: options.timeoutMs,
            killSignal: 'SIGKILL',
            maxBuffer: 4 * 1024 * 1024,
            encoding: 'utf8',
          },
          (error, stdout, stderr) => {
            const err = error as (NodeJS.ErrnoException & { killed?: boolean }) | null;
            const spawnError = typeof err?.code === 'string' ? err.code : undefined;
            resolve({
              exitCode: err === null ? 0 : typeof err.code === 'number' ? err.code : null,
              stdout,
              stderr,
              spawnError,
              timedOut: err?.killed === true && spawnError === undefined,
            });
          },
        );
      }),
    readFile: (path) => {
      try {
        return readFileSync(path, 'utf8');
      } catch {
        return undefined;
      }
    },
    exists: (path) => existsSync(path),
    findOnPath: (name) =>
      (process.env.PATH ?? '')
        .split(delimiter)
        .filter((dir) => dir !== '')
        .map((dir) => join(dir, name))
        .filter((path) => existsSync(path)),
  };
}
