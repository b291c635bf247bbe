import { spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

import { loadConfig } from '../../lib/load-config';

const ROOT = join(__dirname, '..', '..');
const GUIDE = join(ROOT, 'docs', 'fork.md');
const guide = readFileSync(GUIDE, 'utf8');
const NEEDS_AWS = /\s+# needs AWS$/;

/** The commands the guide's `sh` blocks run, one per line (`\` continuations joined). */
function shellCommands(markdown: string): string[] {
  const blocks = [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
  return blocks.flatMap((block) =>
    block
      .replace(/\\\n\s*/g, '')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#')),
  );
}

const commands = shellCommands(guide);
const offline = commands.filter((c) => !NEEDS_AWS.test(c));
const needsAws = commands.filter((c) => NEEDS_AWS.test(c));

/** Each TypeScript block of the guide with the line it says to put the block after. */
const edits = [...guide.matchAll(/after\s+`([^`]+)`[^`]*?:\n\n```ts\n([\s\S]*?)^```$/gm)].map(
  (m) => ({ anchor: m[1], code: m[2] }),
);
const REGIONAL_STACK = join('lib', 'stacks', 'regional-stack.ts');
/** The offline commands the guide runs before its TypeScript edits (the rest run after them). */
const offlineBeforeEdits = shellCommands(guide.slice(0, guide.indexOf('```ts'))).filter(
  (c) => !NEEDS_AWS.test(c),
).length;

/**
 * Makes the guide's edits to RegionalStack in `root`, as a reader would: each block goes after
 * its anchor line, at that line's indentation.
 */
function applyGuideEdits(root: string): void {
  const path = join(root, REGIONAL_STACK);
  let source = readFileSync(path, 'utf8');
  for (const { anchor, code } of edits) {
    const at = source.indexOf(anchor);
    if (at === -1) throw new Error(`${REGIONAL_STACK} has no line ${anchor}`);
    const lineStart = source.lastIndexOf('\n', at) + 1;
    const indent = /^\s*/.exec(source.slice(lineStart))?.[0] ?? '';
    const lineEnd = source.indexOf('\n', at) + 1;
    const block = code
      .split('\n')
      .map((line) => (line === '' ? line : `${indent}${line}`))
      .join('\n');
    source = source.slice(0, lineEnd) + block + source.slice(lineEnd);
  }
  writeFileSync(path, source);
}

describe('the forking guide’s commands', () => {
  test('mark exactly the commands that reach AWS, which are the only ones CI skips', () => {
    // THEN the skipped set is exactly these
    expect(needsAws.map((c) => c.replace(NEEDS_AWS, ''))).toEqual([
      'aws ec2 describe-availability-zones --region eu-central-1 --query "AvailabilityZones[?State==\'available\'].ZoneName" --output text',
      'aws route53 list-hosted-zones-by-name --dns-name example.com --query "HostedZones[0].[Id,Config.PrivateZone]" --output text',
      'ACCOUNT=$(aws sts get-caller-identity --query Account --output text)',
      'npx cdk bootstrap $(npx tsx scripts/bootstrap-targets.ts --config my-config.json --account "$ACCOUNT")',
      'npx cdk deploy --all -c config=my-config.json',
      'npx cdk destroy --all -c config=my-config.json',
    ]);
    // AND no command that runs offline calls AWS (the doctor degrades to its skip list instead)
    const reachesAws = /(^|[\s$(])aws\s|cdk (bootstrap|deploy|destroy)\b/;
    expect(offline.filter((c) => reachesAws.test(c))).toEqual([]);
    expect(offline.length).toBeGreaterThanOrEqual(8);
  });

  test('name the example configs, and every example config resolves', () => {
    // GIVEN
    const examples = readdirSync(join(ROOT, 'examples')).filter(
      (f) => f.endsWith('.json') && f !== 'tsconfig.json',
    );
    expect(examples.sort()).toEqual(['fork-two-regions.json', 'production.json']);
    for (const file of examples) {
      // THEN each is in the guide and passes validation (loadConfig throws with every problem)
      expect(guide).toContain(`examples/${file}`);
      const config = loadConfig(join(ROOT, 'examples', file));
      expect(config.projectName).toBe('Shop');
    }
    // AND production keeps chaos off and its data protected
    const production = loadConfig(join(ROOT, 'examples', 'production.json'));
    expect(production.chaos.enabled).toBe(false);
    expect(production.data.deletionProtection).toBe(true);
    expect(production.domain?.zoneName).toBe('example.com');
  });

  test('link only to files that exist', () => {
    // GIVEN every relative markdown link
    const links = [...guide.matchAll(/\]\((?!https?:)([^)#]+)\)/g)].map((m) => m[1]);
    expect(links.length).toBeGreaterThan(0);
    // THEN
    for (const link of links) {
      expect([link, existsSync(resolve(dirname(GUIDE), link))]).toEqual([link, true]);
    }
  });

  test('wire the second service with names RegionalStack has', () => {
    // GIVEN the guide's three edits (import, field, construct) and the anchors they name
    const regionalStack = readFileSync(join(ROOT, REGIONAL_STACK), 'utf8');
    expect(edits.map((e) => e.anchor)).toEqual([
      "import { NatGatewayLayout, Network } from '../constructs/network/network';",
      'public readonly catalog: CatalogService;',
      'this.cache.allowFrom(this.catalog.service);',
    ]);
    for (const { anchor } of edits) expect(regionalStack).toContain(anchor);
    const snippet = edits[2].code;
    // THEN every name the snippet takes from the stack's constructor is there
    const names = [
      ...new Set(
        snippet.match(
          /\b(?:this\.catalog\.\w+|edge\.\w+|hc\.\w+|REPO_ROOT|Platform\.\w+|ContainerImage\.\w+)/g,
        ),
      ),
    ];
    expect(names).toEqual([
      'this.catalog.cluster',
      'edge.listener',
      'ContainerImage.fromAsset',
      'REPO_ROOT',
      'Platform.LINUX_ARM64',
      'hc.token',
      'hc.albIntervalSeconds',
      'hc.albTimeoutSeconds',
      'hc.albHealthyThreshold',
      'hc.albUnhealthyThreshold',
    ]);
    for (const name of names) expect([name, regionalStack.includes(name)]).toEqual([name, true]);
  });
});

/**
 * A scratch copy of the working tree (node_modules linked, not copied), so the guide's commands
 * (which write my-config.json, cdk.out/ and lib/constructs/orders/) leave the checkout alone.
 */
function scratchCopy(): string {
  const scratch = mkdtempSync(join(tmpdir(), 'blueprint-fork-guide-'));
  const skip = new Set(['node_modules', 'cdk.out', '.git', 'coverage', 'gameday-report']);
  for (const entry of readdirSync(ROOT)) {
    if (skip.has(entry)) continue;
    cpSync(join(ROOT, entry), join(scratch, entry), { recursive: true });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(scratch, 'node_modules'), 'dir');
  return scratch;
}

const COMMAND_LIMIT_MS = 600_000;
/** How long a command's leftover processes may keep its output open after it exited. */
const EXITED_GRACE_MS = 10_000;

/** Commands still running; whatever is left when the file ends is stopped with its group. */
const running = new Set<ChildProcess>();

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // The group has already exited.
  }
}

afterAll(() => {
  for (const child of running) killGroup(child);
});

function runInBash(command: string, cwd: string, env: NodeJS.ProcessEnv) {
  return new Promise<{ status: number | null; output: string }>((resolvePromise, reject) => {
    // Its own process group, so that a hung command is stopped with everything it started: a
    // SIGKILL to bash alone left `npx jest ...` running, orphaned, spinning a core for half an hour.
    const child = spawn('bash', ['-c', `set -euo pipefail\n${command}`], {
      cwd,
      env,
      detached: true,
    });
    running.add(child);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // A guard against a hung command, not a timing check: tsc and ESLint on a loaded 2-core
    // machine can take minutes.
    const timer = setTimeout(() => killGroup(child), COMMAND_LIMIT_MS);
    // The command's status is its exit, as a user's shell sees it. Its output ends when every
    // process holding the pipe has closed it: a process the command left behind can hold it open
    // long after the command exited (a CI run waited out the whole guard after `npx jest` had
    // printed its summary). So once the command has exited, whatever of its group is left gets
    // a short grace to finish writing, and is then stopped.
    let exitStatus: number | null | undefined;
    let grace: NodeJS.Timeout | undefined;
    child.on('exit', (status) => {
      exitStatus = status;
      grace = setTimeout(() => killGroup(child), EXITED_GRACE_MS);
    });
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      clearTimeout(grace);
      running.delete(child);
      resolvePromise({ status: exitStatus === undefined ? status : exitStatus, output });
    });
  });
}

describe('the forking guide, run in order offline', () => {
  let scratch: string;
  let env: NodeJS.ProcessEnv;
  const outputs = new Map<string, string>();

  beforeAll(() => {
    scratch = scratchCopy();
    // A stand-in container runtime, through CDK_DOCKER as finch or podman would be set: the
    // doctor needs one that answers, and this machine's Docker daemon may not run.
    const runtime = join(scratch, '.fake-container-runtime');
    writeFileSync(runtime, '#!/bin/sh\n[ "$1" = info ] && exit 0\nexit 1\n');
    chmodSync(runtime, 0o755);
    env = {
      ...Object.fromEntries(
        Object.entries(process.env).filter(
          ([key]) => !key.startsWith('AWS_') && key !== 'CDK_DOCKER',
        ),
      ),
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: join(scratch, '.no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(scratch, '.no-aws-credentials'),
      CDK_DOCKER: runtime,
    };
  });

  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  test.each(offline.map((command, i) => [command, i] as const))(
    'runs: %s',
    async (command, i) => {
      // GIVEN the guide's edits to RegionalStack, made where the guide makes them
      if (i === offlineBeforeEdits) applyGuideEdits(scratch);
      // WHEN
      const { status, output } = await runInBash(command, scratch, env);
      outputs.set(command, output);
      // THEN
      expect({ command, status, output: status === 0 ? '' : output }).toEqual({
        command,
        status: 0,
        output: '',
      });
    },
    COMMAND_LIMIT_MS + 10_000,
  );

  test('showed what the guide says it shows', () => {
    // THEN synth printed the renamed stacks in their regions, and the cost estimate
    const synth = outputs.get('npx cdk synth -c config=my-config.json --quiet') ?? '';
    for (const [stack, region] of [
      ['Shop-Data', 'eu-west-1'],
      ['Shop-eu-central-1', 'eu-central-1'],
      ['Shop-eu-west-1', 'eu-west-1'],
      ['Shop-Global', 'us-east-1'],
    ]) {
      expect(synth).toMatch(new RegExp(`^${stack} +${region} +\\d+ `, 'm'));
    }
    expect(synth).toMatch(
      /^Rough monthly cost: \$\d+ \(eu-west-1 \$\d+, eu-central-1 \$\d+, global \$\d+\)$/m,
    );
    // AND the doctor ran the local checks and listed what it skipped
    const doctor = outputs.get('npm run doctor -- --config my-config.json') ?? '';
    expect(doctor).toContain('project Shop: Shop-Data (eu-west-1)');
    expect(doctor).toMatch(/^ {2}skip +AWS credentials/m);
    // AND the bootstrap targets are the config's regions plus us-east-1, as the guide says
    expect(outputs.get('npx tsx scripts/bootstrap-targets.ts --config my-config.json')).toBe(
      'eu-west-1 eu-central-1 us-east-1\n',
    );
    expect(guide).toContain('the first command prints `eu-west-1 eu-central-1 us-east-1`');
    // AND the chaos check can fail: the chaos-on fork's templates do carry the tag
    const template = readFileSync(join(scratch, 'cdk.out', 'Shop-eu-west-1.template.json'), 'utf8');
    expect(template).toContain('chaos-enabled');
    // AND the orders service is in the fork: its rule, a second readiness-checked target group,
    // a task whose container health check runs the starter app's script, and its image folder
    type Resource = { Type: string; Properties: Record<string, unknown> };
    const resources = Object.values(
      (JSON.parse(template) as { Resources: Record<string, Resource> }).Resources,
    );
    const ofType = (type: string) => resources.filter((r) => r.Type === type);
    const rules = ofType('AWS::ElasticLoadBalancingV2::ListenerRule');
    // (the catalog's two catch-all `/*` rules, production and test listener, come last: 50000)
    const byPriority = rules
      .map((r) => [r.Properties.Priority, JSON.stringify(r.Properties.Conditions)] as const)
      .sort(([a], [b]) => Number(a) - Number(b));
    expect(byPriority).toEqual([
      [10, expect.stringContaining('"/orders/*"')],
      [50000, expect.stringContaining('"/*"')],
      [50000, expect.stringContaining('"/*"')],
    ]);
    const groups = ofType('AWS::ElasticLoadBalancingV2::TargetGroup');
    expect(groups.map((g) => g.Properties.HealthCheckPath)).toEqual([
      '/health/ready',
      '/health/ready',
      '/health/ready',
    ]);
    const commands = ofType('AWS::ECS::TaskDefinition').map((t) =>
      JSON.stringify(t.Properties.ContainerDefinitions),
    );
    expect(commands.filter((c) => c.includes('"/app/healthcheck.js"'))).toHaveLength(2);
    expect(existsSync(join(scratch, 'orders', 'Dockerfile'))).toBe(true);
  });
});
