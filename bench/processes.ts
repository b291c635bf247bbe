/**
 * Runs the commands the benchmark times (cdk synth, jest, npm ci, the local game day) in their
 * own process groups, so that a timeout or Ctrl-C stops each command with everything it started.
 * Cleanups registered here run on Ctrl-C/SIGTERM before the benchmark exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export interface CommandResult {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Wall time from spawn to exit, in milliseconds. */
  readonly wallMs: number;
  /** The last 64 KiB of stdout and stderr, interleaved as they came. */
  readonly output: string;
  readonly timedOut: boolean;
}

export interface CommandOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Stop the command (SIGTERM, then SIGKILL 10 s later) after this long. */
  readonly timeoutMs: number;
}

const OUTPUT_LIMIT = 64 * 1024;
/** How long a stopped command may take to stop its own children before it is killed. */
const STOP_GRACE_MS = 10_000;

const running = new Set<ChildProcess>();
const cleanups = new Set<() => Promise<void>>();
const tempDirs = new Set<string>();

/** A fresh directory under the system temp dir, removed on Ctrl-C if still there. */
export function makeTempDir(prefix: string): string {
  const directory = mkdtempSync(path.join(tmpdir(), prefix));
  tempDirs.add(directory);
  return directory;
}

/** Removes a directory made by makeTempDir (or any other); safe to call twice. */
export function removeTempDir(directory: string): void {
  rmSync(directory, { recursive: true, force: true });
  tempDirs.delete(directory);
}

/** Signals the command's whole process group (its pid), whether or not the leader still runs. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is already gone
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** SIGTERM to the command's group, SIGKILL if it has not exited after the grace period. */
async function stopGroup(child: ChildProcess): Promise<void> {
  signalGroup(child, 'SIGTERM');
  const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), STOP_GRACE_MS);
  await exited(child);
  clearTimeout(timer);
  // Whatever the command left behind in its group goes too.
  signalGroup(child, 'SIGKILL');
}

/** Runs `command args` to completion in its own process group, capturing its output. */
export function runCommand(
  command: string,
  args: readonly string[],
  options: CommandOptions,
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, [...args], {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    let output = '';
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-OUTPUT_LIMIT);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void stopGroup(child);
    }, options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      running.delete(child);
      reject(new Error(`could not start ${command}: ${error.message}`));
    });
    child.once('close', (exitCode, signal) => {
      const wallMs = performance.now() - started;
      clearTimeout(timer);
      running.delete(child);
      // A command's own children may outlive it; they were part of its work, not ours to keep.
      signalGroup(child, 'SIGKILL');
      resolve({ exitCode, signal, wallMs, output, timedOut });
    });
  });
}

/** Registers work to undo on Ctrl-C (stop servers, remove temp dirs); returns its remover. */
export function onInterrupt(cleanup: () => Promise<void>): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

let installed = false;

/** On SIGINT/SIGTERM: stop every running command and run every cleanup, then exit 130. */
export function stopEverythingOnSignals(): void {
  if (installed) return;
  installed = true;
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\n${signal}: stopping what the benchmark started...\n`);
    const work = [...[...running].map(stopGroup), ...[...cleanups].map((cleanup) => cleanup())];
    void Promise.allSettled(work).then(() => {
      tempDirs.forEach(removeTempDir);
      process.exit(130);
    });
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  // Last resort on any exit: nothing this process started keeps running.
  process.on('exit', () => running.forEach((child) => signalGroup(child, 'SIGKILL')));
}
