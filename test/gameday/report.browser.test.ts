import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import type { Browser, Locator, Page } from 'playwright-core';

import { renderHtml } from '../../gameday/local/html';
import type { LocalReport } from '../../gameday/local/report';
import { launchChromium } from '../../gameday/local/screenshot';

/**
 * The local game day's HTML report in headless Chromium (Debian's chromium, never a downloaded
 * browser), opened from a file as a user would. The report JSON is a recording of a real
 * `npm run gameday:local -- zero-length-responder --quick` run.
 */

const FIXTURE = join(__dirname, 'local', 'fixtures', 'zero-length-responder.json');

let report: LocalReport;
let directory: string;
let browser: Browser;
let page: Page;
const requested: string[] = [];

beforeAll(async () => {
  report = JSON.parse(await readFile(FIXTURE, 'utf8')) as LocalReport;
  directory = await mkdtemp(join(tmpdir(), 'gameday-report-'));
  const file = join(directory, 'report.html');
  await writeFile(file, renderHtml(report));
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  page.on('request', (request) => requested.push(request.url()));
  await page.goto(pathToFileURL(file).href);
});

afterAll(async () => {
  await browser?.close();
  if (directory) await rm(directory, { recursive: true, force: true });
});

async function box(locator: Locator) {
  const found = await locator.boundingBox();
  if (!found) throw new Error('the element has no box: it is not rendered');
  return found;
}

test('the page loads nothing but itself: no CDN, no script, no image', async () => {
  expect(requested).toEqual([page.url()]);
  expect(await page.locator('script').count()).toBe(0);
});

test('the title and the verdict name the scenario and its outcome', async () => {
  expect(await page.title()).toBe(
    `Local game day: ${report.scenario.name} — ${report.verdict.toUpperCase()}`,
  );
  expect(await page.locator('#verdict').textContent()).toBe(report.verdict.toUpperCase());
});

test('the timeline chart is visible, with the success-rate and latency lines drawn across it', async () => {
  const chart = page.locator('#timeline-chart');
  await chart.scrollIntoViewIfNeeded();
  expect(await chart.isVisible()).toBe(true);
  const chartBox = await box(chart);
  expect(chartBox.width).toBeGreaterThan(800);
  expect(chartBox.height).toBeGreaterThan(250);

  for (const series of ['success-rate', 'p50', 'p99']) {
    const line = page.locator(`#timeline-chart [data-series="${series}"]`);
    expect(await line.isVisible()).toBe(true);
    // A line over the whole run spans most of the chart's width.
    expect((await box(line)).width).toBeGreaterThan(chartBox.width * 0.8);
  }
});

test('the fault and detection markers sit where the report says they happened', async () => {
  const injected = await box(page.locator('#timeline-chart [data-marker="injected"] line'));
  const detected = await box(page.locator('#timeline-chart [data-marker="detected"] line'));
  const restored = await box(page.locator('#timeline-chart [data-marker="restored"] line'));
  const label = await page.locator('#timeline-chart [data-marker="detected"] text').textContent();
  const labelSeconds = Number(/^detected (\d+(?:\.\d)?) s$/.exec(label ?? '')?.[1]);
  expect(labelSeconds).toBeCloseTo(
    ((report.timeline.detectedAt ?? 0) - report.loadStartedAt) / 1000,
    1,
  );

  // THEN the gaps between the marker lines are in proportion to the gaps between the moments
  const { injectedAt, detectedAt, restoredAt } = report.timeline;
  const pixelsPerSecond = (restored.x - injected.x) / (((restoredAt ?? 0) - injectedAt) / 1000);
  const expectedGap = (((detectedAt ?? 0) - injectedAt) / 1000) * pixelsPerSecond;
  expect(detected.x - injected.x).toBeGreaterThan(0);
  expect(Math.abs(detected.x - injected.x - expectedGap)).toBeLessThan(1.5);
});

test('the traffic chart shows zero-length responses only before the bad target was ejected', async () => {
  const bars = page.locator('#traffic-chart [data-series="zero-length"]');
  expect(await bars.count()).toBeGreaterThan(0);
  const detected = await box(page.locator('#traffic-chart [data-marker="detected"] line'));
  for (const bar of await bars.all()) {
    expect((await box(bar)).x).toBeLessThan(detected.x);
  }
});

test('the checks table lists every check against its budget', async () => {
  const rows = page.locator('#checks tbody tr');
  const checks = [...report.score.checks, ...report.localChecks];
  expect(await rows.count()).toBe(checks.length);
  for (const [index, check] of checks.entries()) {
    const cells = rows.nth(index).locator('td');
    expect(await cells.first().textContent()).toBe(check.name);
    expect(await cells.last().textContent()).toBe(check.verdict.toUpperCase());
  }
});
