import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { renderRouting } from '../../../gameday/local/assemble';
import { renderHtml } from '../../../gameday/local/html';
import type { Sample } from '../../../gameday/local/load';
import type { LocalReport } from '../../../gameday/local/report';
import type { RouterEvent } from '../../../gameday/local/router';
import {
  allBackAt,
  evacuatedViewers,
  firstMoveAt,
  routingCheck,
  routingReport,
  type RoutingSetup,
} from '../../../gameday/local/routing';
import { SIMULATED_VIEWERS } from '../../../gameday/local/viewers';
import { edgeRegion } from '../../../lib/edge-routing/region-coordinates';

/**
 * The region-evacuation report's routing section, from recorded samples and router events: which
 * viewers the evacuation must move, when the first moved and the last came back, and whether each
 * viewer's requests went where the shared rule sends them.
 */

const SETUP: RoutingSetup = {
  regions: [edgeRegion('us-east-1', 0, 'us-east-1'), edgeRegion('eu-west-1', 0, 'eu-west-1')],
  viewers: SIMULATED_VIEWERS,
  evacuated: 'us-east-1',
};

const T0 = 1_000_000;
const WINDOWS = {
  loadStartedAt: T0,
  injectedAt: T0 + 10_000,
  restoredAt: T0 + 30_000,
  loadEndedAt: T0 + 50_000,
};

function sample(viewer: string, sentAt: number, region: string | undefined): Sample {
  return {
    at: sentAt + 5,
    sentAt,
    latencyMs: region ? 5 : null,
    kind: 'read',
    status: region ? 200 : 0,
    ok: region !== undefined,
    zeroLength: false,
    region,
    viewer,
    error: region ? undefined : 'ECONNRESET',
  };
}

/** Every viewer answered where the rule says, in each phase; the evacuated ones moved and came back. */
function faithfulSamples(): Sample[] {
  const moving = new Set(evacuatedViewers(SETUP));
  return SIMULATED_VIEWERS.flatMap((viewer) => {
    const home = moving.has(viewer.id) ? 'us-east-1' : 'eu-west-1';
    return [
      sample(viewer.id, T0 + 1_000, home),
      sample(viewer.id, T0 + 9_000, home),
      // Until the router notices, the evacuated region still answers its viewers.
      sample(viewer.id, T0 + 12_000, home),
      sample(viewer.id, T0 + 25_000, 'eu-west-1'),
      sample(viewer.id, T0 + 29_000, 'eu-west-1'),
      sample(viewer.id, T0 + 35_000, moving.has(viewer.id) ? 'eu-west-1' : home),
      sample(viewer.id, T0 + 45_000, home),
    ];
  });
}

const answer = (at: number, viewer: string, region: string): RouterEvent => ({
  at,
  kind: 'answer',
  region,
  viewer,
  detail: 'nearest healthy region',
});

describe('evacuatedViewers', () => {
  test('names the viewers us-east-1 serves when both regions are healthy, the unplaced one included', () => {
    expect(evacuatedViewers(SETUP)).toEqual(['new-york', 'sao-paulo', 'sydney', 'unplaced']);
  });
});

describe('firstMoveAt and allBackAt', () => {
  const events: RouterEvent[] = [
    answer(T0, 'new-york', 'us-east-1'),
    answer(T0, 'london', 'eu-west-1'),
    // London's answer refreshing after the fault is not a move: it was never us-east-1's viewer.
    answer(T0 + 11_000, 'london', 'eu-west-1'),
    answer(T0 + 14_000, 'new-york', 'eu-west-1'),
    answer(T0 + 15_000, 'sydney', 'eu-west-1'),
    answer(T0 + 32_000, 'new-york', 'us-east-1'),
    answer(T0 + 36_000, 'sydney', 'us-east-1'),
  ];

  test('detection is the first evacuated viewer answered elsewhere, not any answer after the fault', () => {
    expect(firstMoveAt(events, SETUP, WINDOWS.injectedAt)).toBe(T0 + 14_000);
  });

  test('recovery waits for the last evacuated viewer to be answered with its region again', () => {
    const all = [
      ...events,
      answer(T0 + 33_000, 'sao-paulo', 'us-east-1'),
      answer(T0 + 34_000, 'unplaced', 'us-east-1'),
    ];
    expect(allBackAt(all, SETUP, WINDOWS.restoredAt)).toBe(T0 + 36_000);
  });

  test('there is no recovery while one evacuated viewer has not come back', () => {
    expect(allBackAt(events, SETUP, WINDOWS.restoredAt)).toBeUndefined();
  });
});

describe('routingReport and routingCheck', () => {
  test('counts each viewer’s answers per phase and finds every last answer where the rule sends it', () => {
    // GIVEN samples that follow the rule WHEN the report is drawn up
    const report = routingReport(SETUP, faithfulSamples(), WINDOWS);

    // THEN New York went us-east-1 → eu-west-1 → us-east-1, with its answers counted by phase
    const newYork = report.viewers.find((viewer) => viewer.id === 'new-york');
    expect(newYork?.phases).toEqual({
      before: { responses: { 'us-east-1': 2 }, last: 'us-east-1', expected: 'us-east-1' },
      during: {
        responses: { 'us-east-1': 1, 'eu-west-1': 2 },
        last: 'eu-west-1',
        expected: 'eu-west-1',
      },
      after: {
        responses: { 'eu-west-1': 1, 'us-east-1': 1 },
        last: 'us-east-1',
        expected: 'us-east-1',
      },
    });
    // AND London stayed with eu-west-1 throughout
    const london = report.viewers.find((viewer) => viewer.id === 'london');
    expect(Object.values(london?.phases ?? {}).map((phase) => phase?.last)).toEqual([
      'eu-west-1',
      'eu-west-1',
      'eu-west-1',
    ]);
    // AND the check passes
    expect(routingCheck(report)).toMatchObject({ measured: 0, verdict: 'pass' });
  });

  test('a viewer still answered by the evacuated region at the end of the fault fails the check, named', () => {
    // GIVEN Sydney's last request during the fault was still answered by us-east-1
    const samples = [...faithfulSamples(), sample('sydney', T0 + 29_500, 'us-east-1')];

    // WHEN
    const check = routingCheck(routingReport(SETUP, samples, WINDOWS));

    // THEN
    expect(check).toMatchObject({ measured: 1, verdict: 'fail' });
    expect(check.explanation).toContain('Sydney during: us-east-1 (rule: eu-west-1)');
  });

  test('a viewer with no answered request in a phase fails the check as "no answer"', () => {
    const samples = faithfulSamples().filter(
      (entry) => !(entry.viewer === 'tokyo' && entry.sentAt >= WINDOWS.restoredAt),
    );

    const check = routingCheck(routingReport(SETUP, samples, WINDOWS));

    expect(check.explanation).toContain('Tokyo after: no answer (rule: eu-west-1)');
  });

  test('an unanswered request (a reset) is not counted as routed anywhere', () => {
    const samples = [...faithfulSamples(), sample('lagos', T0 + 2_000, undefined)];

    const lagos = routingReport(SETUP, samples, WINDOWS).viewers.find((v) => v.id === 'lagos');

    expect(lagos?.phases.before?.responses).toEqual({ 'eu-west-1': 2 });
  });

  test('without a restore there is no "after" phase', () => {
    const report = routingReport(SETUP, faithfulSamples(), { ...WINDOWS, restoredAt: undefined });

    expect(Object.keys(report.viewers[0].phases)).toEqual(['before', 'during']);
  });
});

describe('the routing section as shown', () => {
  const routing = routingReport(SETUP, faithfulSamples(), WINDOWS);

  test('the summary gives one line per viewer: before → during → after', () => {
    const text = renderRouting(routing);

    expect(text.split('\n')[0]).toBe(
      'Routing (before → during → after the evacuation of us-east-1):',
    );
    expect(text).toMatch(/ {2}New York +us-east-1 → eu-west-1 → us-east-1$/m);
    expect(text).toMatch(/ {2}London +eu-west-1 → eu-west-1 → eu-west-1$/m);
  });

  test('the HTML page has a row per viewer with a cell per phase naming the region', () => {
    // GIVEN a recorded report (the page's fixture) with the routing section added
    const fixture = JSON.parse(
      readFileSync(join(__dirname, 'fixtures', 'zero-length-responder.json'), 'utf8'),
    ) as LocalReport;

    const html = renderHtml({ ...fixture, routing });

    expect(html).toContain('<table id="routing">');
    expect(html).toContain('<th>During (us-east-1 unhealthy)</th>');
    expect(html).toMatch(
      /<tr data-viewer="new-york">.*data-phase="before" data-region="us-east-1".*data-phase="during" data-region="eu-west-1".*data-phase="after" data-region="us-east-1"/,
    );
    expect(html.match(/<tr data-viewer=/g)).toHaveLength(SIMULATED_VIEWERS.length);
  });

  test('a report without routing (another scenario) has no routing table', () => {
    const fixture = JSON.parse(
      readFileSync(join(__dirname, 'fixtures', 'zero-length-responder.json'), 'utf8'),
    ) as LocalReport;

    expect(renderHtml(fixture)).not.toContain('id="routing"');
  });
});
