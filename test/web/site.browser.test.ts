import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';

import { chromium, type Browser, type Page } from 'playwright-core';

import { freePort } from '../support/memcached';

/**
 * The static site in headless Chromium (Debian's `chromium` package, never a downloaded browser)
 * against the real service as `npm run service:local` runs it (real memcached and the loopback
 * DynamoDB server, on free ports). A tiny server on 127.0.0.1 plays CloudFront without a domain:
 * it serves web/, the config.json the deployment would write, and relays /api/* and
 * /regions/<region>/* to the load balancers, here the local service.
 */

const ROOT = join(__dirname, '..', '..');
const WEB = join(ROOT, 'web');
const CHROMIUM = '/usr/bin/chromium';
const HOST = '127.0.0.1';
const TOKEN = '"status":"ready"';
/** Who the local service says it is; the page must show exactly this. */
const IDENTITY = {
  region: 'eu-west-1',
  availabilityZone: 'eu-west-1b',
  taskId: 'browser-test-task',
};
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
};

interface SiteServer {
  readonly url: string;
  stop(): Promise<void>;
}

/** Relays a GET to `target`, answering 502 when nothing answers there (as CloudFront does). */
async function relay(target: string, response: ServerResponse): Promise<void> {
  try {
    const upstream = await fetch(target, { signal: AbortSignal.timeout(3000) });
    response.writeHead(upstream.status, {
      'content-type': upstream.headers.get('content-type') ?? 'application/octet-stream',
    });
    response.end(Buffer.from(await upstream.arrayBuffer()));
  } catch {
    response.writeHead(502, { 'content-type': 'text/plain' }).end('Bad Gateway');
  }
}

async function startSiteServer(
  config: unknown,
  api: string,
  regions: Record<string, string>,
): Promise<SiteServer> {
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const path = new URL(request.url ?? '/', `http://${HOST}`).pathname;
    if (path === '/config.json') {
      response.writeHead(200, { 'content-type': TYPES['.json'] }).end(JSON.stringify(config));
      return;
    }
    if (path.startsWith('/api/')) return relay(`${api}${path}`, response);
    const region = /^\/regions\/([a-z0-9-]+)(\/.*)$/.exec(path);
    if (region) return relay(`${regions[region[1]]}${region[2]}`, response);

    const file = normalize(join(WEB, path === '/' ? 'index.html' : path));
    if (!file.startsWith(WEB) || !existsSync(file)) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'text/plain' });
    response.end(await readFile(file));
  };
  const server: Server = createServer((request, response) => void handle(request, response));
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, HOST, resolve));
  return {
    url: `http://${HOST}:${port}`,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface LocalService {
  readonly url: string;
  /** Stops it as Ctrl-C would (SIGTERM: drain, then stop memcached and dynalite) and waits. */
  stop(): Promise<void>;
}

/** `npm run service:local` on a free port; resolves once it answers ready. */
async function startLocalService(faultsFile: string): Promise<LocalService> {
  const port = await freePort();
  const url = `http://${HOST}:${port}`;
  const child: ChildProcess = spawn(
    join(ROOT, 'node_modules', '.bin', 'tsx'),
    [join(ROOT, 'scripts', 'service-local.ts')],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        PORT: String(port),
        HOST,
        AWS_REGION: IDENTITY.region,
        AVAILABILITY_ZONE: IDENTITY.availabilityZone,
        TASK_ID: IDENTITY.taskId,
        FAULTS_FILE: faultsFile,
        SHUTDOWN_DRAIN_SECONDS: '0',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };

  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`service:local exited with ${child.exitCode}: ${output.trim()}`);
    }
    const ready = await fetch(`${url}/health/ready`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return { url, stop };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop();
  throw new Error(`service:local was not ready at ${url} within 30 s: ${output.trim()}`);
}

async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: install Debian's browser with apt-get install chromium`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

let workDir: string;
let service: LocalService;
let site: SiteServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'site-browser-'));
  service = await startLocalService(join(workDir, 'faults.json'));
  // A region whose load balancer is gone: nothing listens on this port.
  const deadRegion = `http://${HOST}:${await freePort()}`;
  const regions = { 'eu-west-1': service.url, 'ap-northeast-1': deadRegion };
  site = await startSiteServer(
    {
      apiUrl: '',
      healthToken: TOKEN,
      regions: Object.keys(regions).map((region) => ({
        region,
        healthUrl: `/regions/${region}/health/ready`,
      })),
    },
    service.url,
    regions,
  );
  browser = await launchChromium();
  page = await browser.newPage();
});

afterAll(async () => {
  await browser?.close();
  await site?.stop();
  await service?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

test('the page shows the region and task that answered, the latency, and each region’s health', async () => {
  // WHEN
  await page.goto(site.url);
  // THEN the answer comes from the running service
  await page.locator('#answer[data-state="ok"]').waitFor();
  expect(await page.locator('#region').textContent()).toBe(IDENTITY.region);
  expect(await page.locator('#az').textContent()).toBe(IDENTITY.availabilityZone);
  expect(await page.locator('#task').textContent()).toBe(IDENTITY.taskId);
  expect(await page.locator('#version').textContent()).not.toBe('-');
  expect(await page.locator('#latency').textContent()).toMatch(/^\d+ ms$/);
  expect(await page.locator('#api-url').textContent()).toBe('/api/whoami');
  await expect(page.locator('#answer-error').isHidden()).resolves.toBe(true);
  // AND the live region is ok while the one without a load balancer is down
  await page.locator('tr[data-region="eu-west-1"][data-status="ok"]').waitFor();
  await page.locator('tr[data-region="ap-northeast-1"][data-status="down"]').waitFor();
  expect(await page.locator('tr[data-region="ap-northeast-1"] td').nth(1).textContent()).toBe(
    'down (HTTP 502)',
  );
});

test('the page shows a clear error, and every region down, when the API stops answering', async () => {
  // GIVEN the page showed an answer
  await page.goto(site.url);
  await page.locator('#answer[data-state="ok"]').waitFor();
  // WHEN the service stops and the user asks again
  await service.stop();
  await page.locator('#refresh').click();
  // THEN
  await page.locator('#answer[data-state="error"]').waitFor();
  const error = page.locator('#answer-error');
  expect(await error.isVisible()).toBe(true);
  expect(await error.getAttribute('role')).toBe('alert');
  expect(await error.textContent()).toBe('The API did not answer: HTTP 502.');
  expect(await page.locator('#answer-details').isHidden()).toBe(true);
  await page.locator('tr[data-region="eu-west-1"][data-status="down"]').waitFor();
});
