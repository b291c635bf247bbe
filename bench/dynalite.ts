/**
 * dynalite in its own process on a free loopback port, so that it does not share a CPU with the
 * load generator.
 *
 * test/support/dynalite.ts has startDynaliteProcess() for this, but it passes `--port 0`, which
 * dynalite's CLI reads as "no port" and replaces with its fixed default 4567: it fails whenever
 * anything else on the machine holds 4567. Until that is fixed there, the benchmark picks the
 * port itself.
 */
import { spawn } from 'node:child_process';

import type { DynaliteServer } from '../test/support/dynalite';
import { freePort } from '../test/support/memcached';

const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 10_000;

async function launch(port: number): Promise<DynaliteServer> {
  const cli = require.resolve('dynalite/cli.js');
  const child = spawn(
    process.execPath,
    [cli, '--host', HOST, '--port', String(port), '--createTableMs', '0', '--deleteTableMs', '0'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  try {
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`dynalite did not listen on ${HOST}:${port} within 10 s: ${output}`));
      }, START_TIMEOUT_MS);
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (/listening at/i.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`dynalite exited with ${code} on port ${port}: ${output.trim()}`));
      });
    });
  } catch (error) {
    process.removeListener('exit', killOnExit);
    throw error;
  }
  return {
    port,
    endpoint: `http://${HOST}:${port}`,
    async stop() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Starts dynalite on a free port; a port taken between the probe and the bind is retried. */
export async function startDynaliteOnFreePort(): Promise<DynaliteServer> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await launch(await freePort());
    } catch (error) {
      if (attempt >= 3) throw error;
    }
  }
}
