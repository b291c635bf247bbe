import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';

/**
 * Every process the local game day starts, each in its own process group, so that one call stops
 * the process and anything it started, on a normal end, on Ctrl-C and on an uncaught error.
 */

export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Resolves with the exit code (or null when a signal ended it). */
  readonly exited: Promise<number | null>;
  /** True once the process has exited. */
  hasExited(): boolean;
  /** SIGKILL to the whole group, like a crash; resolves once it has exited. */
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** File that receives stdout and stderr. @default - both are discarded */
  readonly logFile?: string;
  /** Called with each stdout line (the log file still gets it). @default - none */
  readonly onStdoutLine?: (line: string) => void;
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    // A negative pid names the process group the child leads (it was spawned detached).
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

export class ProcessRegistry {
  private readonly running = new Set<ManagedProcess>();
  private readonly logs = new Set<WriteStream>();

  /** Spawns a process in its own group and tracks it until it exits. */
  start(options: StartOptions): ManagedProcess {
    const log = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : undefined;
    if (log) this.logs.add(log);
    const spawnOptions: SpawnOptions = {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    };
    const child = spawn(options.command, [...options.args], spawnOptions);
    let buffered = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      log?.write(chunk);
      if (!options.onStdoutLine) return;
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) if (line.trim() !== '') options.onStdoutLine(line);
    });
    child.stderr?.on('data', (chunk: Buffer) => log?.write(chunk));
    // A spawn error (such as a missing binary) is reported by the caller's readiness wait.
    child.on('error', (error) => log?.write(`spawn error: ${error.message}\n`));

    let exited = false;
    const exitedPromise = new Promise<number | null>((resolve) => {
      child.once('close', (code) => {
        exited = true;
        this.running.delete(managed);
        resolve(code);
      });
    });
    const managed: ManagedProcess = {
      name: options.name,
      child,
      exited: exitedPromise,
      hasExited: () => exited,
      kill: async () => {
        signalGroup(child, 'SIGKILL');
        await exitedPromise;
      },
      stop: async (graceMs = 3000) => {
        if (exited) return;
        signalGroup(child, 'SIGTERM');
        const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs);
        await exitedPromise;
        clearTimeout(timer);
      },
    };
    this.running.add(managed);
    return managed;
  }

  /** Stops everything still running, gracefully first. */
  async stopAll(graceMs = 3000): Promise<void> {
    await Promise.all([...this.running].map((process) => process.stop(graceMs)));
    await Promise.all(
      [...this.logs].map((log) => new Promise<void>((resolve) => log.end(() => resolve()))),
    );
    this.logs.clear();
  }

  /** Last resort on process exit: synchronous SIGKILL to every group still running. */
  killAllNow(): void {
    for (const managed of this.running) signalGroup(managed.child, 'SIGKILL');
  }
}
