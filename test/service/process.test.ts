import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

import { createServiceTable, startDynalite, type DynaliteServer } from '../support/dynalite';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy';
import { freePort, startMemcached, type MemcachedServer } from '../support/memcached';

/**
 * The service as the container runs it: the bundle service/Dockerfile builds (with the same
 * service/bundle.sh), started as its own process, stopped with SIGTERM. Nothing here depends on
 * the order of stdout lines or on a quiet CPU, and every process and server a test starts is
 * stopped after it, pass or fail.
 */

const run = promisify(execFile);
const repositoryRoot = resolve(__dirname, '../..');

let directory: string;
let memcached: MemcachedServer;
let dynalite: DynaliteServer;
const tableName = 'process-items';
/** Every bundle process started, killed after each test if still running. */
const started = new Set<Running>();
/** Other things a test started, closed after it. */
const cleanups: Array<() => Promise<unknown>> = [];
/** Longest a test waits for a log line before failing (never a timed assertion). */
const LOG_WAIT_MS = 30_000;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'service-bundle-'));
  await run('sh', ['service/bundle.sh', join(directory, 'dist')], { cwd: repositoryRoot });
  memcached = await startMemcached();
  dynalite = await startDynalite();
  await createServiceTable(dynalite.endpoint, tableName);
});

afterEach(async () => {
  for (const running of started) {
    if (running.child.exitCode === null && running.child.signalCode === null) {
      running.child.kill('SIGKILL');
    }
    await running.exited;
  }
  started.clear();
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await writeFaults([]);
});

afterAll(async () => {
  await memcached?.stop();
  await dynalite?.stop();
  await rm(directory, { recursive: true, force: true });
});

interface Running {
  readonly child: ChildProcess;
  readonly port: number;
  readonly baseUrl: string;
  readonly lines: Array<Record<string, unknown>>;
  readonly exited: Promise<number | null>;
  /** Resolves when `count` log lines match; rejects if the process exits or the wait is too long. */
  waitForLog(predicate: (line: Record<string, unknown>) => boolean, count?: number): Promise<void>;
}

async function startBundle(
  env: Record<string, string>,
  options: { dynamoDbEndpoint?: string } = {},
): Promise<Running> {
  const port = await freePort();
  const faultsFile = join(directory, 'faults.json');
  const child = spawn(process.execPath, [join(directory, 'dist', 'main.js')], {
    env: {
      ...process.env,
      AWS_EC2_METADATA_DISABLED: 'true',
      PORT: String(port),
      HOST: '127.0.0.1',
      MEMCACHED_ENDPOINTS: memcached.endpoint,
      TABLE_NAME: tableName,
      DYNAMODB_ENDPOINT: options.dynamoDbEndpoint ?? dynalite.endpoint,
      AWS_REGION: 'us-east-1',
      FAULTS_FILE: faultsFile,
      FAULTS_POLL_SECONDS: '0.1',
      TASK_ID: 'bundle-task',
      LOG_LEVEL: 'debug',
      // Every request's access line: tests count them against the metrics.
      ACCESS_LOG_SAMPLE_EVERY: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const complete = buffered.split('\n');
    buffered = complete.pop() ?? '';
    for (const line of complete.filter((text) => text.trim() !== '')) {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    }
    for (const waiter of [...waiters]) waiter();
  });
  child.stderr.resume();
  const exited = new Promise<number | null>((resolveExit) =>
    child.once('exit', (code) => resolveExit(code)),
  );
  const running: Running = {
    child,
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    lines,
    exited,
    waitForLog: (predicate, count = 1) =>
      new Promise<void>((resolveWait, rejectWait) => {
        const giveUp = setTimeout(() => {
          waiters.splice(waiters.indexOf(check), 1);
          rejectWait(new Error(`no matching log line within ${LOG_WAIT_MS}ms`));
        }, LOG_WAIT_MS);
        function check() {
          if (lines.filter(predicate).length >= count) {
            clearTimeout(giveUp);
            waiters.splice(waiters.indexOf(check), 1);
            resolveWait();
          }
        }
        waiters.push(check);
        void exited.then((code) => {
          clearTimeout(giveUp);
          rejectWait(new Error(`the service exited (${code}) first`));
        });
        check();
      }),
  };
  started.add(running);
  await running.waitForLog((line) => line.msg === 'service listening');
  return running;
}

type GetResult = { status: number; body: string } | { error: string };

/** A GET on its own connection (no keep-alive), resolving to status and body or the error. */
function getOnce(url: string): Promise<GetResult> {
  return new Promise((resolveGet) => {
    const req = request(url, { agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      res.on('end', () => resolveGet({ status: res.statusCode ?? 0, body }));
      res.on('error', (error) => resolveGet({ error: error.message }));
    });
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolveGet({ error: error.code ?? error.message }),
    );
    req.end();
  });
}

async function writeFaults(faults: unknown[]): Promise<void> {
  await writeFile(join(directory, 'faults.json'), JSON.stringify({ faults }));
}

/**
 * What a client does: a 503 `overloaded` (a cold process may shed) is retried after a moment, a
 * few times; anything else is the answer.
 */
async function fetchRetryingShed(url: string, init: RequestInit = {}): Promise<Response> {
  let response = await fetch(url, init);
  for (let attempt = 0; attempt < 10 && response.status === 503; attempt += 1) {
    await new Promise((resolveDelay) => setTimeout(resolveDelay, 200));
    response = await fetch(url, init);
  }
  return response;
}

function runHealthcheck(port: number): Promise<{ code: number; output: string }> {
  return run(process.execPath, [join(directory, 'dist', 'healthcheck.js')], {
    env: { ...process.env, PORT: String(port) },
  }).then(
    ({ stdout }) => ({ code: 0, output: stdout }),
    (error: { code: number; stdout: string }) => ({ code: error.code, output: error.stdout }),
  );
}

test('the bundle starts, serves the API and answers ready; the container (liveness) check is healthy', async () => {
  await writeFaults([]);
  const service = await startBundle({});

  const put = await fetchRetryingShed(`${service.baseUrl}/api/items/bundled`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Bundled', price: 1 }),
  });
  expect(put.status).toBe(201);
  const ready = await getOnce(`${service.baseUrl}/health/ready`);
  expect(ready).toMatchObject({ status: 200 });
  expect('body' in ready && ready.body).toContain('"status":"ready"');
  expect(await runHealthcheck(service.port)).toEqual({ code: 0, output: 'healthy: live\n' });
});

test('fault: health-fail: readiness fails but the container check is liveness and stays healthy', async () => {
  const service = await startBundle({});

  // WHEN readiness fails
  await writeFaults([
    {
      type: 'health-fail',
      targets: ['bundle-task'],
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    },
  ]);
  await service.waitForLog(
    (line) =>
      line.msg === 'fault document loaded' &&
      Array.isArray(line.faults) &&
      line.faults.length === 1,
  );
  const ready = await getOnce(`${service.baseUrl}/health/ready`);
  expect(ready).toMatchObject({ status: 503 });

  // THEN the container check still passes: ECS must not replace a task the ALB already avoids
  expect(await runHealthcheck(service.port)).toEqual({ code: 0, output: 'healthy: live\n' });
});

test('fault: DynamoDB black-holed: readiness fails, the container (liveness) check stays healthy', async () => {
  // GIVEN the bundle reaching DynamoDB through a fault proxy, ready
  const proxy: FaultProxy = await startFaultProxy({ targetPort: dynalite.port });
  cleanups.push(() => proxy.stop());
  const service = await startBundle({}, { dynamoDbEndpoint: proxy.endpoint });
  expect(await getOnce(`${service.baseUrl}/health/ready`)).toMatchObject({ status: 200 });

  // WHEN DynamoDB stops answering
  proxy.setMode('black-hole');

  // THEN readiness fails, naming DynamoDB, and the container check does not
  const ready = await getOnce(`${service.baseUrl}/health/ready`);
  expect(ready).toMatchObject({ status: 503 });
  expect('body' in ready && ready.body).toContain('DynamoDB sentinel read failed');
  expect(await runHealthcheck(service.port)).toEqual({ code: 0, output: 'healthy: live\n' });
});

test('the container health check fails on a fast empty 200', async () => {
  // GIVEN a server that answers everything with an empty 200, like the full-disk server
  const empty: Server = createServer((_request, response) => response.writeHead(200).end());
  await new Promise<void>((resolveListen) => empty.listen(0, '127.0.0.1', resolveListen));
  cleanups.push(() => new Promise((resolveClose) => empty.close(resolveClose)));
  const address = empty.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  const result = await runHealthcheck(port);

  expect(result).toEqual({
    code: 1,
    output: 'unhealthy: 200 without {"status":"live"} (0 bytes)\n',
  });
});

test('SIGTERM drains: in-flight requests complete, new connections are refused, the process exits 0 and logs it', async () => {
  // GIVEN a warm process (a cold one may shed), then requests in flight (held 1.5 s by a fault)
  const service = await startBundle({ SHUTDOWN_DRAIN_SECONDS: '10' });
  expect((await fetchRetryingShed(`${service.baseUrl}/api/whoami`)).status).toBe(200);
  await writeFaults([
    {
      type: 'latency',
      targets: ['*'],
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
      params: { latencyMs: 1500 },
    },
  ]);
  await service.waitForLog(
    (line) =>
      line.msg === 'fault document loaded' &&
      Array.isArray(line.faults) &&
      line.faults.length === 1,
  );
  const received = (line: Record<string, unknown>) =>
    line.msg === 'request received' && line.url === '/api/whoami';
  const before = service.lines.filter(received).length;
  const inFlight = Array.from({ length: 3 }, () => getOnce(`${service.baseUrl}/api/whoami`));
  await service.waitForLog(received, before + 3);

  // WHEN ECS stops the task
  service.child.kill('SIGTERM');
  await service.waitForLog((line) => line.msg === 'shutting down');

  // THEN readiness is never answered 200 again, and the listener soon refuses connections
  const afterSigterm: GetResult[] = [];
  const refused = (result: GetResult) => 'error' in result && result.error === 'ECONNREFUSED';
  let last: GetResult;
  do {
    last = await getOnce(`${service.baseUrl}/health/ready`);
    afterSigterm.push(last);
  } while (afterSigterm.length < 500 && !refused(last));
  expect(afterSigterm.at(-1)).toEqual({ error: 'ECONNREFUSED' });
  expect(afterSigterm.filter((result) => 'status' in result && result.status === 200)).toEqual([]);
  // AND the in-flight requests finish with full answers
  for (const response of await Promise.all(inFlight)) {
    expect(response).toMatchObject({ status: 200 });
    expect(JSON.parse((response as { body: string }).body)).toMatchObject({
      taskId: 'bundle-task',
    });
  }
  // AND the process exits 0, its last words written before it ended (whatever their order)
  expect(await service.exited).toBe(0);
  expect(service.lines.filter((line) => line.msg === 'shutdown complete')).toEqual([
    expect.objectContaining({ drained: true }),
  ]);
  // AND the request metrics written at shutdown count every API request it logged, the three
  // that finished while it drained included: none is lost between the last flush and the exit
  const logged = service.lines.filter((line) => line.msg === 'request completed');
  const metrics = service.lines.filter((line) => line.msg === 'request metrics');
  expect(metrics.length).toBeGreaterThan(0);
  expect(metrics.reduce((total, line) => total + Number(line.Requests), 0)).toBe(logged.length);
  expect(logged.length).toBeGreaterThanOrEqual(4);
});

test('SIGTERM with a request outlasting the drain time cuts it off and exits 1', async () => {
  await writeFaults([
    {
      type: 'latency',
      targets: ['*'],
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
      params: { latencyMs: 10_000 },
    },
  ]);
  const service = await startBundle({ SHUTDOWN_DRAIN_SECONDS: '0.5' });
  const stuck = getOnce(`${service.baseUrl}/api/whoami`);
  await service.waitForLog((line) => line.msg === 'request received' && line.url === '/api/whoami');

  service.child.kill('SIGTERM');

  expect(await service.exited).toBe(1);
  expect(await stuck).toHaveProperty('error');
  expect(
    service.lines.find(
      (line) => line.msg === 'drain time is up; closing the connections still open',
    ),
  ).toBeDefined();
  expect(service.lines.find((line) => line.msg === 'shutdown complete')).toMatchObject({
    drained: false,
  });
});

test('a bad environment exits 1 with one clear line and no stack trace', async () => {
  const result = await run(process.execPath, [join(directory, 'dist', 'main.js')], {
    env: { PATH: process.env.PATH, PORT: 'eighty', MEMCACHED_ENDPOINTS: '127.0.0.1:1' },
  }).then(
    () => ({ code: 0, stdout: '', stderr: '' }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );

  expect(result.code).toBe(1);
  expect(result.stdout).toBe('');
  expect(result.stderr).toBe(
    "Invalid configuration: AWS_REGION environment variable is not set; PORT must be an integer 0-65535, got 'eighty'; TABLE_NAME environment variable is not set; set exactly one of FAULTS_FILE or FAULTS_PARAMETER, got neither\n",
  );
});

test('the Dockerfile bundles with service/bundle.sh, runs the bundle as a non-root user and checks liveness', async () => {
  const dockerfile = await readFile(join(repositoryRoot, 'service', 'Dockerfile'), 'utf8');
  expect(dockerfile).toContain('RUN sh service/bundle.sh /out');
  expect(dockerfile).toMatch(/^FROM node:22-alpine$/m);
  expect(dockerfile).toMatch(/^USER node$/m);
  expect(dockerfile).toMatch(/^EXPOSE 8080$/m);
  expect(dockerfile).toMatch(/^HEALTHCHECK .*\\\n\s+CMD \["node", "\/app\/healthcheck.js"\]$/m);
  expect(dockerfile).toContain('# Liveness only: healthy when the process answers /health/live.');
  expect(dockerfile).toContain('CMD ["node", "--enable-source-maps", "/app/main.js"]');
});
