import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { LocalReport } from '../../../gameday/local/report';
import { SIMULATED_VIEWERS } from '../../../gameday/local/viewers';

import { runCli, type CliResult } from './run-cli';

/**
 * `npm run gameday:local -- region-evacuation --quick` with real processes: two regions (three
 * bundled service replicas, memcached and HAProxy each), dynalite, and the router in front, which
 * routes the simulated viewers with the shared geoproximity rule. The config gives us-east-1 a
 * bias of +30, which (by the guide's formula) pulls Tokyo to it: 10,870 × 0.7 = 7,610 km against
 * 9,590 km to eu-west-1. The health-fail fault on every us-east-1 task makes its string-match
 * check fail: its viewers must move to eu-west-1 and come back after the restore; the others must
 * not move.
 */

const RUN_TIMEOUT_MS = 150_000;

/** us-east-1's viewers with its +30 bias; the rest are eu-west-1's. */
const US_VIEWERS = ['new-york', 'sao-paulo', 'tokyo', 'sydney', 'unplaced'];
const EU_VIEWERS = ['london', 'lagos', 'mumbai'];

let directory: string;
let result: CliResult;
let report: LocalReport;
let html: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'gameday-evacuation-'));
  const config = join(directory, 'config.json');
  await writeFile(
    config,
    JSON.stringify({
      regions: [
        {
          region: 'us-east-1',
          availabilityZones: ['us-east-1a', 'us-east-1b', 'us-east-1c'],
          geoproximityBias: 30,
        },
        { region: 'eu-west-1', availabilityZones: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'] },
      ],
    }),
  );
  const out = join(directory, 'report');
  result = await runCli(
    ['region-evacuation', '--quick', '--config', config, '--out', out],
    {},
    RUN_TIMEOUT_MS,
  );
  const files = existsSync(out) ? await readdir(out) : [];
  const json = files.find((file) => file.endsWith('.json'));
  if (!json) {
    throw new Error(`no report (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
  report = JSON.parse(await readFile(join(out, json), 'utf8')) as LocalReport;
  html = await readFile(join(out, json.replace(/\.json$/, '.html')), 'utf8');
}, RUN_TIMEOUT_MS + 10_000);

afterAll(async () => {
  if (directory) await rm(directory, { recursive: true, force: true });
});

const lastIn = (viewer: string, phase: 'before' | 'during' | 'after') =>
  report.routing?.viewers.find((entry) => entry.id === viewer)?.phases[phase]?.last;

test('every simulated viewer is in the report, with the regions and the bias the config set', () => {
  expect(report.routing?.viewers.map((viewer) => viewer.id)).toEqual(
    SIMULATED_VIEWERS.map((viewer) => viewer.id),
  );
  expect(report.routing?.regions).toEqual([
    expect.objectContaining({ name: 'us-east-1', bias: 30 }),
    expect.objectContaining({ name: 'eu-west-1', bias: 0 }),
  ]);
  expect(report.routing?.evacuated).toBe('us-east-1');
});

test('us-east-1’s viewers (Tokyo through its bias) go to it before, to eu-west-1 during, and back after', () => {
  expect(
    US_VIEWERS.map((viewer) => [
      viewer,
      lastIn(viewer, 'before'),
      lastIn(viewer, 'during'),
      lastIn(viewer, 'after'),
    ]),
  ).toEqual(US_VIEWERS.map((viewer) => [viewer, 'us-east-1', 'eu-west-1', 'us-east-1']));
});

test('eu-west-1’s viewers are never moved by the evacuation of us-east-1', () => {
  for (const viewer of EU_VIEWERS) {
    const phases = report.routing?.viewers.find((entry) => entry.id === viewer)?.phases;
    expect({
      viewer,
      regions: Object.values(phases ?? {}).flatMap((phase) => Object.keys(phase?.responses ?? {})),
    }).toEqual({
      viewer,
      regions: ['eu-west-1', 'eu-west-1', 'eu-west-1'],
    });
  }
});

test('the routing check passes, detection and recovery are per viewer, and no acknowledged write is lost', () => {
  expect(report.localChecks).toContainEqual(
    expect.objectContaining({
      name: 'simulated viewers routed against the rule',
      measured: 0,
      verdict: 'pass',
    }),
  );
  expect(report.timeline.detectedAt).toBeDefined();
  expect(report.timeline.recoveredAt).toBeDefined();
  expect(report.writes.acknowledged).toBeGreaterThan(0);
  expect(report.writes.lost).toEqual([]);
  expect(report.writes.unreadable).toEqual([]);
  expect(result.code).toBe(report.verdict === 'pass' ? 0 : 1);
});

test('the terminal summary and the HTML page show where each viewer went', () => {
  expect(result.stdout).toMatch(/ {2}Tokyo +us-east-1 → eu-west-1 → us-east-1$/m);
  expect(result.stdout).toMatch(/ {2}London +eu-west-1 → eu-west-1 → eu-west-1$/m);
  expect(html).toContain('<table id="routing">');
  expect(html).toMatch(
    /<tr data-viewer="tokyo">.*data-phase="before" data-region="us-east-1".*data-phase="during" data-region="eu-west-1".*data-phase="after" data-region="us-east-1"/,
  );
});
