import { ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** The starter app docs/fork.md section 10 copies to orders/: it must keep the service contract. */
const APP = join(__dirname, '..', '..', 'examples', 'second-service', 'orders');
const run = promisify(execFile);
const TOKEN = 'orders-ready-7f3a';

async function startApp(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [join(APP, 'server.js')], {
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  for (;;) {
    const port = /"port":(\d+)/.exec(output)?.[1];
    if (port) return { child, port: Number(port) };
    if (child.exitCode !== null) throw new Error(`the app exited: ${output}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Exit code of the container health check against `port`. */
async function healthcheck(port: number, token?: string): Promise<number> {
  try {
    await run(process.execPath, [join(APP, 'healthcheck.js')], {
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        ...(token ? { HEALTH_TOKEN: token } : {}),
      },
    });
    return 0;
  } catch (error) {
    return (error as { code?: number }).code ?? -1;
  }
}

describe('the orders starter app', () => {
  let app: { child: ChildProcess; port: number } | undefined;
  let stub: Server | undefined;
  afterEach(async () => {
    if (app && app.child.exitCode === null) {
      app.child.kill('SIGKILL');
      await once(app.child, 'exit');
    }
    stub?.close();
    app = undefined;
    stub = undefined;
  });

  test('answers readiness with the configured token in the body, and its health check passes', async () => {
    // GIVEN
    app = await startApp({ HEALTH_TOKEN: TOKEN });
    // WHEN
    const ready = await fetch(`http://127.0.0.1:${app.port}/health/ready`);
    // THEN
    expect(ready.status).toBe(200);
    expect(await ready.text()).toContain(TOKEN);
    expect((await fetch(`http://127.0.0.1:${app.port}/health/live`)).status).toBe(200);
    expect(await (await fetch(`http://127.0.0.1:${app.port}/orders`)).json()).toEqual({
      orders: [],
    });
    expect(await healthcheck(app.port, TOKEN)).toBe(0);
  });

  test('with the default token, the body holds "status":"ready" literally', async () => {
    app = await startApp({});
    const body = await (await fetch(`http://127.0.0.1:${app.port}/health/ready`)).text();
    expect(body).toContain('"status":"ready"');
    expect(await healthcheck(app.port)).toBe(0);
  });

  test('the health check fails on an empty 200 (a body without the token)', async () => {
    // GIVEN a server that answers 200 with an empty body
    stub = createServer((_req, res) => res.writeHead(200).end());
    stub.listen(0, '127.0.0.1');
    await once(stub, 'listening');
    // WHEN / THEN
    expect(await healthcheck((stub.address() as AddressInfo).port, TOKEN)).toBe(1);
  });

  test('the health check fails when nothing listens', async () => {
    stub = createServer();
    stub.listen(0, '127.0.0.1');
    await once(stub, 'listening');
    const port = (stub.address() as AddressInfo).port;
    stub.close();
    await once(stub, 'close');
    stub = undefined;
    expect(await healthcheck(port, TOKEN)).toBe(1);
  });

  test('on SIGTERM it stops accepting and exits 0', async () => {
    // GIVEN
    app = await startApp({ HEALTH_TOKEN: TOKEN, SHUTDOWN_DRAIN_SECONDS: '1' });
    // WHEN
    app.child.kill('SIGTERM');
    const [code] = (await once(app.child, 'exit')) as [number | null];
    // THEN
    expect(code).toBe(0);
    expect(await healthcheck(app.port, TOKEN)).toBe(1);
  });
});
