/**
 * npx tsx gameday/local/screenshot.ts <report.json> <out.png> [--full-page]
 *
 * By default the picture ends under the traffic chart (the verdict, the checks and both charts).
 *
 * Renders a local game-day report JSON as its HTML page in headless Chromium (Debian's
 * /usr/bin/chromium, never a downloaded browser) and saves a screenshot, as
 * docs/img/gameday-report.png was made.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

import { chromium, type Browser } from 'playwright-core';

import { renderHtml } from './html';
import { REPORT_SCHEMA, type LocalReport } from './report';

export const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: install Debian's browser with apt-get install chromium`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

export async function readReport(path: string): Promise<LocalReport> {
  const report = JSON.parse(await readFile(path, 'utf8')) as LocalReport;
  if (report.schema !== REPORT_SCHEMA) {
    throw new Error(`${path} is not a local game-day report (schema ${String(report.schema)})`);
  }
  return report;
}

async function main(argv: readonly string[]): Promise<void> {
  const [input, output] = argv.filter((arg) => !arg.startsWith('--'));
  if (!input || !output) {
    throw new Error(
      'usage: npx tsx gameday/local/screenshot.ts <report.json> <out.png> [--full-page]',
    );
  }
  const report = await readReport(input);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({
      viewport: { width: 1100, height: 1000 },
      deviceScaleFactor: 1,
    });
    await page.setContent(renderHtml(report));
    if (argv.includes('--full-page')) {
      await page.screenshot({ path: output, fullPage: true });
      return;
    }
    // Down to the legend under the traffic chart: the verdict, the checks and both charts.
    const legend = await page.locator('#traffic-chart + p.legend').boundingBox();
    const height = Math.ceil((legend?.y ?? 1000) + (legend?.height ?? 0) + 16);
    await page.setViewportSize({ width: 1100, height });
    await page.screenshot({ path: output, clip: { x: 0, y: 0, width: 1100, height } });
  } finally {
    await browser.close();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
