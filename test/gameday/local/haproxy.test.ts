import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import {
  haproxyConfig,
  isRouting,
  parseShowStat,
  parseStateLine,
  startHaproxy,
} from '../../../gameday/local/haproxy';
import { planRun } from '../../../gameday/local/plan';
import { ProcessRegistry } from '../../../gameday/local/processes';
import { DEFAULT_CONFIG } from '../../../lib/config';
import { freePort } from '../../support/memcached';

/** HAProxy plays the ALB: its config comes from the same health-check settings. */

const run = promisify(execFile);
const plan = planRun('task-loss', DEFAULT_CONFIG, { quick: false, rate: 60 });
const config = haproxyConfig({
  port: 18080,
  socketPath: '/tmp/example/haproxy.sock',
  balancer: plan.balancer,
  targets: [
    { name: 'us-east-1a', port: 18081 },
    { name: 'us-east-1b', port: 18082 },
  ],
});

describe('haproxyConfig', () => {
  test('checks readiness by status code, round robin, with the ALB interval, timeout and thresholds', () => {
    const hc = DEFAULT_CONFIG.healthCheck;
    expect(config).toContain(
      '  option httpchk GET /health/ready\n  http-check expect status 200\n',
    );
    expect(config).toContain('  balance roundrobin\n');
    expect(config).toContain(
      `  default-server inter ${hc.albIntervalSeconds * 1000}ms fastinter ${hc.albIntervalSeconds * 1000}ms downinter ${hc.albIntervalSeconds * 1000}ms rise ${hc.albHealthyThreshold} fall ${hc.albUnhealthyThreshold}\n`,
    );
    expect(config).toContain(`  timeout check ${hc.albTimeoutSeconds * 1000}ms\n`);
  });

  test('binds loopback only and checks every target', () => {
    expect(config).toContain('  bind 127.0.0.1:18080\n');
    expect(config).toContain('  server us-east-1a 127.0.0.1:18081 check\n');
    expect(config).toContain('  server us-east-1b 127.0.0.1:18082 check\n');
    expect(config).not.toMatch(/bind (?!127\.0\.0\.1)/);
  });

  test('fails open like the ALB through unchecked backups of the same targets', () => {
    expect(config).toContain('  option allbackups\n');
    expect(config).toContain('  server us-east-1a-failopen 127.0.0.1:18081 backup\n');
  });

  test('is a configuration haproxy itself accepts', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'haproxy-config-'));
    try {
      const file = join(directory, 'haproxy.cfg');
      await writeFile(file, config.replace('/tmp/example', directory));
      const { stdout } = await run(process.env.HAPROXY_BIN ?? 'haproxy', ['-c', '-f', file]);
      expect(stdout).toContain('Configuration file is valid');
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});

describe('HAProxy behaves like the ALB on a refused connection', () => {
  test('config: no retry and no redispatch of a request whose connection to a target failed', () => {
    expect(config).toContain('  retries 0\n');
    expect(config).not.toMatch(/option redispatch/);
    expect(config).not.toMatch(/retry-on/);
  });

  test('a request round-robined to a dead target (connection refused) fails instead of being retried on a live one', async () => {
    // GIVEN one live target and one dead one (nothing listens), still UP: the health check needs
    // 3 failures 60 s apart before it ejects the dead one, far longer than this test sends.
    const directory = await mkdtemp(join(tmpdir(), 'haproxy-refused-'));
    const registry = new ProcessRegistry();
    let live: Server | undefined;
    try {
      live = createServer((_req, res) => res.writeHead(200).end('ok'));
      const livePort = await freePort();
      await new Promise<void>((resolve) => live?.listen(livePort, '127.0.0.1', resolve));
      const deadPort = await freePort();
      const balancer = await startHaproxy(registry, {
        binary: process.env.HAPROXY_BIN ?? 'haproxy',
        directory,
        name: 'refused',
        port: await freePort(),
        balancer: {
          intervalMs: 60_000,
          timeoutMs: 1000,
          healthyThreshold: 2,
          unhealthyThreshold: 3,
        },
        targets: [
          { name: 'us-east-1a', port: livePort },
          { name: 'us-east-1b', port: deadPort },
        ],
      });
      // WHEN four requests go through it, one after the other (round robin: two per target)
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push(await statusOf(`${balancer.url}/items/x`));
      // THEN those sent to the dead target are errors, as the ALB answers them: nothing redispatched
      expect(statuses.filter((s) => s === 200)).toHaveLength(2);
      expect(statuses.filter((s) => s === 503)).toHaveLength(2);
    } finally {
      await registry.stopAll(1000);
      await new Promise<void>((resolve) => (live ? live.close(() => resolve()) : resolve()));
      await rm(directory, { recursive: true, force: true });
    }
  });
});

/** A target that counts the requests it serves, can hold `/slow` ones, and can fail readiness. */
async function target() {
  const held: Array<() => void> = [];
  const state = { ready: true, served: 0 };
  const server = createServer((req, res) => {
    if (req.url === '/health/ready') {
      res.writeHead(state.ready ? 200 : 503).end();
      return;
    }
    state.served++;
    if (req.url === '/slow') held.push(() => res.writeHead(200).end('slow'));
    else res.writeHead(200).end('ok');
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    state,
    held,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const until = async (what: string, condition: () => boolean | Promise<boolean>) => {
  for (let i = 0; i < 400; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`gave up waiting for ${what}`);
};

describe('HAProxy deregisters and registers targets as StopTask and ECS do with the ALB', () => {
  test('a deregistered target gets no new request while the one it serves finishes; a replacement at a new port gets none until it passes the check', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'haproxy-dereg-'));
    const registry = new ProcessRegistry();
    const a = await target();
    const b = await target();
    let replacement: Awaited<ReturnType<typeof target>> | undefined;
    try {
      // GIVEN two targets, both UP
      const balancer = await startHaproxy(registry, {
        binary: process.env.HAPROXY_BIN ?? 'haproxy',
        directory,
        name: 'dereg',
        port: await freePort(),
        balancer: { intervalMs: 100, timeoutMs: 1000, healthyThreshold: 2, unhealthyThreshold: 2 },
        targets: [
          { name: 'us-east-1a', port: a.port },
          { name: 'us-east-1b', port: b.port },
        ],
      });
      await until('both targets UP', async () =>
        (await balancer.servers()).every((server) => server.status === 'UP'),
      );
      // AND a request that target a holds in flight (round robin sends one of two to it)
      const slow = [statusOf(`${balancer.url}/slow`), statusOf(`${balancer.url}/slow`)];
      await until('target a to hold a request', () => a.held.length === 1);
      b.held.forEach((release) => release());

      // WHEN target a is deregistered
      await balancer.deregister('us-east-1a');

      // THEN HAProxy logs it DOWN (deregistered), and new requests all go to b
      await until('the maint event', () =>
        balancer.events.some((e) => e.server === 'us-east-1a' && e.state === 'DOWN'),
      );
      expect(balancer.events.at(-1)).toMatchObject({
        server: 'us-east-1a',
        state: 'DOWN',
        reason: 'deregistered (maintenance)',
      });
      const servedByA = a.state.served;
      for (let i = 0; i < 6; i++) expect(await statusOf(`${balancer.url}/items/x`)).toBe(200);
      expect(a.state.served).toBe(servedByA);
      // AND the request a held finishes: deregistration drains, it does not cut
      a.held.forEach((release) => release());
      expect(await Promise.all(slow)).toEqual([200, 200]);

      // WHEN a replacement, not yet ready, is registered at a new port
      replacement = await target();
      replacement.state.ready = false;
      await a.close();
      await balancer.register('us-east-1a', replacement.port);

      // THEN it is DOWN (registered, not yet checked) and gets no request while its check fails
      // (not UP at once, as leaving maint alone would make it)
      const registered = (await balancer.servers()).find((server) => server.name === 'us-east-1a');
      expect(isRouting(registered?.status ?? 'absent')).toBe(false);
      await until('the registration event', () => balancer.events.length >= 2);
      expect(balancer.events.at(-1)).toMatchObject({
        server: 'us-east-1a',
        state: 'DOWN',
        reason: 'registered, not yet checked',
      });
      for (let i = 0; i < 6; i++) expect(await statusOf(`${balancer.url}/items/x`)).toBe(200);
      expect(replacement.state.served).toBe(0);

      // WHEN it turns ready, THEN it comes UP through the check and serves
      replacement.state.ready = true;
      await until('the replacement UP', () =>
        balancer.events.some((e) => e.server === 'us-east-1a' && e.state === 'UP'),
      );
      for (let i = 0; i < 6; i++) expect(await statusOf(`${balancer.url}/items/x`)).toBe(200);
      expect(replacement.state.served).toBeGreaterThan(0);
    } finally {
      await registry.stopAll(1000);
      await Promise.allSettled([a.close(), b.close(), replacement?.close()]);
      await rm(directory, { recursive: true, force: true });
    }
  });
});

function statusOf(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('reading HAProxy', () => {
  test('parses a logged state change with its reason', () => {
    const line =
      'Server service/us-east-1a is DOWN, reason: Layer7 wrong status, code: 503, info: "Service Unavailable", check duration: 2ms. 2 active and 3 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.';
    expect(parseStateLine(line, 1234)).toEqual({
      at: 1234,
      server: 'us-east-1a',
      state: 'DOWN',
      reason: 'Layer7 wrong status, code: 503, info: "Service Unavailable"',
    });
    expect(
      parseStateLine(
        'Server service/us-east-1b is UP, reason: Layer7 check passed, code: 200, check duration: 3ms. 3 active and 3 backup servers online. 0 sessions requeued, 0 total in queue.',
        5,
      ),
    ).toMatchObject({
      server: 'us-east-1b',
      state: 'UP',
      reason: 'Layer7 check passed, code: 200',
    });
    expect(parseStateLine('Proxy api started.', 1)).toBeUndefined();
  });

  test('parses the runtime API state changes: deregistered (maint) is DOWN, registered again is DOWN until checked', () => {
    // GIVEN the lines HAProxy 2.6 logs for `state maint`, `state ready` and `health down`
    const maint =
      'Server service/us-east-1a is going DOWN for maintenance. 2 active and 3 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.';
    const ready = 'Server service/us-east-1a is UP/READY (leaving forced maintenance).';
    const forcedDown =
      'Server service/us-east-1a is DOWN, changed from CLI. 2 active and 3 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.';

    // THEN maint and the forced DOWN are DOWN, and the transient UP/READY is no state change
    expect(parseStateLine(maint, 1)).toEqual({
      at: 1,
      server: 'us-east-1a',
      state: 'DOWN',
      reason: 'deregistered (maintenance)',
    });
    expect(parseStateLine(ready, 2)).toBeUndefined();
    expect(parseStateLine(forcedDown, 3)).toEqual({
      at: 3,
      server: 'us-east-1a',
      state: 'DOWN',
      reason: 'registered, not yet checked',
    });
  });

  test('parses show stat into the backend servers, telling backups apart', () => {
    const csv = [
      '# pxname,svname,qcur,status,bck,check_status,check_health',
      'api,FRONTEND,,OPEN,,,',
      'service,us-east-1a,0,UP 1/3,0,L7STS,4',
      'service,us-east-1a-failopen,0,no check,1,,0',
      'service,BACKEND,0,UP,0,,',
    ].join('\n');
    expect(parseShowStat(csv)).toEqual([
      { name: 'us-east-1a', status: 'UP 1/3', checkHealth: 4, checkStatus: 'L7STS', backup: false },
      {
        name: 'us-east-1a-failopen',
        status: 'no check',
        checkHealth: 0,
        checkStatus: '',
        backup: true,
      },
    ]);
  });

  test('counts a failing but not yet ejected server as routing, and a down one as not', () => {
    expect(isRouting('UP 1/3')).toBe(true);
    expect(isRouting('DOWN 1/2')).toBe(false);
    expect(isRouting('MAINT')).toBe(false);
  });
});
