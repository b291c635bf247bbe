/**
 * npm run gameday -- <scenario> [--region r] [--act [--yes]] [--az zone] [--config file]
 * npm run gameday -- --list
 *
 * Runs one game-day scenario in AWS with your credentials (see docs/gameday/). The logic lives in
 * gameday/aws/; this file only wires the real clients, the terminal and Ctrl-C.
 */
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline/promises';
import { setTimeout as delay } from 'node:timers/promises';

import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { STSClient } from '@aws-sdk/client-sts';

import { loadConfig } from '../lib/load-config';

import { runCli } from './aws/main';

const detach = new AbortController();
let interrupts = 0;
process.on('SIGINT', () => {
  interrupts += 1;
  // The first Ctrl-C detaches (the execution goes on and restores); a second one leaves at once.
  if (interrupts > 1) process.exit(130);
  detach.abort();
});

async function ask(question: string): Promise<string | undefined> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return await rl.question(question, { signal: detach.signal });
  } catch {
    return undefined;
  } finally {
    rl.close();
  }
}

const stamp = (date: Date) =>
  date.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);

/** Every client made, so that their sockets close when the CLI is done. */
const made: { destroy(): void }[] = [];
function clients(region: string) {
  const all = {
    sts: new STSClient({ region }),
    cloudFormation: new CloudFormationClient({ region }),
    sfn: new SFNClient({ region }),
    s3: new S3Client({ region }),
  };
  made.push(...Object.values(all));
  return all;
}

void runCli(process.argv.slice(2), {
  clients,
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  interactive: process.stdin.isTTY === true,
  ask,
  loadConfig,
  now: () => Date.now(),
  sleep: (ms, signal) => delay(ms, undefined, { signal }),
  experimentId: (scenario, now) => `gd-${scenario}-${stamp(now)}-${randomBytes(2).toString('hex')}`,
  signal: detach.signal,
}).then((code) => {
  process.exitCode = code;
  for (const client of made) client.destroy();
  process.removeAllListeners('SIGINT');
});
