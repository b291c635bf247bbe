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
