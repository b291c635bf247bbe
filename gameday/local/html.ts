import type { Bucket } from './analysis';
import type { LocalReport, Marker, MarkerKind } from './report';

/**
 * The report as one self-contained HTML page: inline CSS and inline SVG charts, no script, no
 * external resource, so it opens from a file in any browser and can be attached to a ticket.
 */

const escapeHtml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const fixed = (value: number, digits = 1) => Number(value.toFixed(digits)).toString();

/** The markers drawn as lines across the charts, with their colour and legend text. */
const LINE_MARKERS: Partial<
  Record<MarkerKind, { color: string; dash: string; text: string; short: string }>
> = {
  injected: { color: '#c62828', dash: '', text: 'fault injected', short: 'fault' },
  detected: {
    color: '#ef6c00',
    dash: '',
    text: 'detected (clients no longer sent to the bad part)',
    short: 'detected',
  },
  'traffic-moved': { color: '#ef6c00', dash: '2 3', text: 'traffic moved', short: 'moved' },
  restored: { color: '#1565c0', dash: '6 4', text: 'fault restored', short: 'restored' },
  recovered: { color: '#2e7d32', dash: '', text: 'recovered', short: 'recovered' },
  replacement: { color: '#6d4c41', dash: '2 3', text: 'replacement task', short: 'replacement' },
};

const TARGET_COLORS = ['#4e79a7', '#59a14f', '#b07aa1', '#f28e2b', '#76b7b2', '#edc948'];

interface Frame {
  readonly width: number;
  readonly height: number;
  readonly left: number;
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
  readonly duration: number;
}

const plotWidth = (f: Frame) => f.width - f.left - f.right;
const plotHeight = (f: Frame) => f.height - f.top - f.bottom;
const xOf = (f: Frame, t: number) =>
  f.left + (Math.min(Math.max(t, 0), f.duration) / f.duration) * plotWidth(f);

/** A round axis maximum at or above `value`. */
function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  const steps = [1, 2, 2.5, 5, 10];
  return (steps.find((step) => step * power >= value) ?? 10) * power;
}

function path(points: ReadonlyArray<readonly [number, number] | null>): string {
  let d = '';
  let drawing = false;
  for (const point of points) {
    if (point === null) {
      drawing = false;
      continue;
    }
    d += `${drawing ? 'L' : 'M'}${fixed(point[0])},${fixed(point[1])}`;
    drawing = true;
  }
  return d;
}

function timeAxis(f: Frame): string {
  const step = niceMax(f.duration / 10);
  const ticks: string[] = [];
  for (let t = 0; t <= f.duration + 1e-9; t += step) {
    const x = xOf(f, t);
    ticks.push(
      `<line x1="${fixed(x)}" x2="${fixed(x)}" y1="${f.top}" y2="${f.height - f.bottom}" class="grid"/>`,
      `<text x="${fixed(x)}" y="${f.height - f.bottom + 16}" text-anchor="middle" class="tick">${fixed(t, 0)}</text>`,
    );
  }
  ticks.push(
    `<text x="${f.left + plotWidth(f) / 2}" y="${f.height - 4}" text-anchor="middle" class="axis-label">seconds since the load started</text>`,
  );
  return ticks.join('');
}

function markerLines(
  f: Frame,
  markers: readonly Marker[],
  loadStartedAt: number,
  withLabels: boolean,
): string {
  const drawn = markers.filter((marker) => LINE_MARKERS[marker.kind]);
  const rows: number[][] = [];
  return drawn
    .map((marker) => {
      const style = LINE_MARKERS[marker.kind];
      if (!style) return '';
      const x = xOf(f, (marker.at - loadStartedAt) / 1000);
      let label = '';
      if (withLabels) {
        const text = `${style.short} ${fixed((marker.at - loadStartedAt) / 1000)} s`;
        const width = text.length * 7.5 + 8;
        // Stagger labels that would overlap the ones already placed.
        let row = 0;
        while ((rows[row] ?? []).some((placed) => Math.abs(placed - x) < width)) row += 1;
        rows[row] = [...(rows[row] ?? []), x];
        const anchor = x > f.width - f.right - width ? 'end' : 'start';
        const dx = anchor === 'end' ? -4 : 4;
        label = `<text x="${fixed(x + dx)}" y="${f.top + 12 + row * 13}" text-anchor="${anchor}" class="marker-label" fill="${style.color}">${escapeHtml(text)}</text>`;
      }
      return `<g data-marker="${marker.kind}"><title>${escapeHtml(`${fixed(marker.t)} s: ${marker.label}`)}</title><line x1="${fixed(x)}" x2="${fixed(x)}" y1="${f.top}" y2="${f.height - f.bottom}" stroke="${style.color}" stroke-width="2" ${style.dash ? `stroke-dasharray="${style.dash}"` : ''}/>${label}</g>`;
    })
    .join('');
}

function faultBand(f: Frame, report: LocalReport): string {
  const start = (report.timeline.injectedAt - report.loadStartedAt) / 1000;
  const endAt = report.timeline.restoredAt ?? report.timeline.recoveredAt ?? report.loadEndedAt;
  const end = (endAt - report.loadStartedAt) / 1000;
  const x1 = xOf(f, start);
  const x2 = xOf(f, end);
  return `<rect data-band="fault" x="${fixed(x1)}" y="${f.top}" width="${fixed(Math.max(1, x2 - x1))}" height="${plotHeight(f)}" fill="#c62828" fill-opacity="0.07"/>`;
}

/** Success rate (left axis) and latency p50/p99 (right axis) over time. */
function timelineChart(report: LocalReport): string {
  const buckets = report.series.buckets;
  const size = report.series.bucketSeconds;
  const f: Frame = {
    width: 1000,
    height: 340,
    left: 58,
    right: 66,
    top: 46,
    bottom: 40,
    duration: Math.max(size, buckets.length * size),
  };
  const rates = buckets.flatMap((b) => (b.successRate === null ? [] : [b.successRate * 100]));
  const lowest = Math.min(100, ...rates);
  const rateMin = lowest >= 90 ? 90 : Math.max(0, Math.floor(lowest / 10) * 10);
  const latencyMax = niceMax(
    Math.max(1, ...buckets.flatMap((b) => (b.p99 === null ? [] : [b.p99]))) * 1.1,
  );
  // 100 % sits a few pixels below the frame, so a flat line at 100 % stays visible.
  const yRate = (rate: number) =>
    f.top + 4 + (plotHeight(f) - 4) * (1 - (rate - rateMin) / (100 - rateMin));
  const yLatency = (ms: number) => f.top + plotHeight(f) * (1 - ms / latencyMax);
  const mid = (b: Bucket) => xOf(f, b.t + size / 2);

  const leftTicks = [0, 0.25, 0.5, 0.75, 1]
    .map((share) => rateMin + share * (100 - rateMin))
    .map(
      (rate) =>
        `<line x1="${f.left}" x2="${f.width - f.right}" y1="${fixed(yRate(rate))}" y2="${fixed(yRate(rate))}" class="grid"/><text x="${f.left - 6}" y="${fixed(yRate(rate) + 4)}" text-anchor="end" class="tick">${fixed(rate)}%</text>`,
    )
    .join('');
  // Fifths of a round maximum are round numbers too (50 → 10, 20, ...; 250 → 50, 100, ...).
  const rightTicks = [0, 0.2, 0.4, 0.6, 0.8, 1]
    .map((share) => share * latencyMax)
    .map(
      (ms) =>
        `<line x1="${f.width - f.right}" x2="${f.width - f.right + 4}" y1="${fixed(yLatency(ms))}" y2="${fixed(yLatency(ms))}" stroke="#999"/><text x="${f.width - f.right + 6}" y="${fixed(yLatency(ms) + 4)}" class="tick">${fixed(ms, ms < 10 ? 1 : 0)} ms</text>`,
    )
    .join('');

  const success = path(
    buckets.map((b) => (b.successRate === null ? null : [mid(b), yRate(b.successRate * 100)])),
  );
  const p50 = path(buckets.map((b) => (b.p50 === null ? null : [mid(b), yLatency(b.p50)])));
  const p99 = path(buckets.map((b) => (b.p99 === null ? null : [mid(b), yLatency(b.p99)])));

  return `<svg id="timeline-chart" role="img" aria-labelledby="timeline-title" viewBox="0 0 ${f.width} ${f.height}" width="100%" xmlns="http://www.w3.org/2000/svg">
<title id="timeline-title">Success rate and latency over time, with fault and detection markers</title>
${faultBand(f, report)}
${leftTicks}${rightTicks}${timeAxis(f)}
<text x="14" y="${f.top + plotHeight(f) / 2}" transform="rotate(-90 14 ${f.top + plotHeight(f) / 2})" text-anchor="middle" class="axis-label" fill="#2e7d32">success rate</text>
<text x="${f.width - 8}" y="${f.top + plotHeight(f) / 2}" transform="rotate(90 ${f.width - 8} ${f.top + plotHeight(f) / 2})" text-anchor="middle" class="axis-label">latency</text>
<path data-series="p50" d="${p50}" fill="none" stroke="#1e88e5" stroke-width="1.5"/>
<path data-series="p99" d="${p99}" fill="none" stroke="#8e24aa" stroke-width="1.5"/>
<path data-series="success-rate" d="${success}" fill="none" stroke="#2e7d32" stroke-width="2.5"/>
${markerLines(f, report.markers, report.loadStartedAt, true)}
<rect x="${f.left}" y="${f.top}" width="${plotWidth(f)}" height="${plotHeight(f)}" fill="none" stroke="#999"/>
</svg>`;
}

/** Responses per bucket, stacked by the target (or region) that answered; zero-length ones in red. */
function trafficChart(report: LocalReport): string {
  const buckets = report.series.buckets;
  const size = report.series.bucketSeconds;
  const f: Frame = {
    width: 1000,
    height: 230,
    left: 58,
    right: 66,
    top: 14,
    bottom: 40,
    duration: Math.max(size, buckets.length * size),
  };
  const targets = [...new Set(buckets.flatMap((b) => Object.keys(b.byTarget)))].sort();
  const color = (target: string) => TARGET_COLORS[targets.indexOf(target) % TARGET_COLORS.length];
  const max = niceMax(Math.max(1, ...buckets.map((b) => b.requests)));
  const y = (count: number) => f.top + plotHeight(f) * (1 - count / max);
  const barWidth = Math.max(1, (plotWidth(f) / Math.max(1, buckets.length)) * 0.85);

  const bars = buckets
    .map((b) => {
      let stacked = 0;
      const x = xOf(f, b.t) + 0.5;
      const parts = targets
        .filter((target) => (b.byTarget[target] ?? 0) > 0)
        .map((target) => {
          const count = b.byTarget[target] ?? 0;
          const top = y(stacked + count);
          const height = y(stacked) - top;
          stacked += count;
          return `<rect x="${fixed(x)}" y="${fixed(top)}" width="${fixed(barWidth)}" height="${fixed(height)}" fill="${color(target)}"><title>${fixed(b.t)} s: ${escapeHtml(target)} answered ${count}</title></rect>`;
        });
      const unanswered = b.requests - stacked;
      if (unanswered > 0) {
        const top = y(stacked + unanswered);
        parts.push(
          `<rect x="${fixed(x)}" y="${fixed(top)}" width="${fixed(barWidth)}" height="${fixed(y(stacked) - top)}" fill="#bbb"><title>${fixed(b.t)} s: ${unanswered} without a target (errors)</title></rect>`,
        );
      }
      if (b.zeroLength > 0) {
        const top = y(b.zeroLength);
        parts.push(
          `<rect data-series="zero-length" x="${fixed(x + barWidth * 0.25)}" y="${fixed(top)}" width="${fixed(barWidth * 0.5)}" height="${fixed(y(0) - top)}" fill="#d50000"><title>${fixed(b.t)} s: ${b.zeroLength} zero-length responses</title></rect>`,
        );
      }
      return parts.join('');
    })
    .join('');
  const ticks = [0, 0.5, 1]
    .map((share) => share * max)
    .map(
      (count) =>
        `<line x1="${f.left}" x2="${f.width - f.right}" y1="${fixed(y(count))}" y2="${fixed(y(count))}" class="grid"/><text x="${f.left - 6}" y="${fixed(y(count) + 4)}" text-anchor="end" class="tick">${fixed(count, 0)}</text>`,
    )
    .join('');
  const legend = [
    ...targets.map(
      (target) =>
        `<span class="key"><i style="background:${color(target)}"></i>${escapeHtml(target)}</span>`,
    ),
    '<span class="key"><i style="background:#bbb"></i>no target (error)</span>',
    '<span class="key"><i style="background:#d50000"></i>zero-length</span>',
  ].join('');

  return `<svg id="traffic-chart" role="img" aria-labelledby="traffic-title" viewBox="0 0 ${f.width} ${f.height}" width="100%" xmlns="http://www.w3.org/2000/svg">
<title id="traffic-title">Responses per ${size} s by the target that answered, and zero-length responses</title>
${faultBand(f, report)}${ticks}${timeAxis(f)}
<text x="14" y="${f.top + plotHeight(f) / 2}" transform="rotate(-90 14 ${f.top + plotHeight(f) / 2})" text-anchor="middle" class="axis-label">responses / ${size} s</text>
${bars}
${markerLines(f, report.markers, report.loadStartedAt, false)}
<rect x="${f.left}" y="${f.top}" width="${plotWidth(f)}" height="${plotHeight(f)}" fill="none" stroke="#999"/>
</svg>
<p class="legend">${legend}</p>`;
}

function checksTable(report: LocalReport): string {
  const rows = [
    ...report.score.checks.map((check) => ({
      name: check.name,
      measured: check.measured === null ? 'never' : `${check.measured} ${check.unit}`,
      budget: `${check.unit === '%' ? '≥' : '≤'} ${check.budget} ${check.unit}`,
      verdict: check.verdict,
    })),
    ...report.localChecks.map((check) => ({
      name: check.name,
      measured: String(check.measured),
      budget: `≤ ${check.budget}`,
      verdict: check.verdict,
    })),
  ];
  return `<table id="checks"><thead><tr><th>Check</th><th>Measured</th><th>Budget</th><th>Verdict</th></tr></thead><tbody>${rows
    .map(
      (row) =>
        `<tr data-verdict="${row.verdict}"><td>${escapeHtml(row.name)}</td><td>${escapeHtml(row.measured)}</td><td>${escapeHtml(row.budget)}</td><td class="${row.verdict}">${row.verdict.toUpperCase()}</td></tr>`,
    )
    .join('')}</tbody></table>`;
}

function phasesTable(report: LocalReport): string {
  const names = { baseline: 'before the fault', fault: 'fault', after: 'after' } as const;
  const rows = (Object.keys(names) as Array<keyof typeof names>).flatMap((key) => {
    const phase = report.requests.phases[key];
    if (!phase) return [];
    const rate =
      phase.requests === 0 ? '-' : `${fixed((100 * phase.succeeded) / phase.requests, 2)}%`;
    return [
      `<tr><td>${names[key]}</td><td>${fixed((phase.to - phase.from) / 1000)} s</td><td>${phase.requests}</td><td>${rate}</td><td>${phase.zeroLength}</td><td>${phase.cacheHitRatio === null ? '-' : `${fixed(phase.cacheHitRatio * 100)}%`}</td><td>${phase.latency.p50 ?? '-'} ms</td><td>${phase.latency.p99 ?? '-'} ms</td><td>${phase.latency.max ?? '-'} ms</td></tr>`,
    ];
  });
  return `<table><thead><tr><th>Phase</th><th>Length</th><th>Requests</th><th>Succeeded</th><th>Zero-length</th><th>Cache hits</th><th>p50</th><th>p99</th><th>Max</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** Where each simulated viewer was routed before, during and after a region evacuation. */
function routingTable(report: LocalReport): string {
  const routing = report.routing;
  if (!routing) return '';
  const phases = (['before', 'during', 'after'] as const).filter((phase) =>
    routing.viewers.some((viewer) => viewer.phases[phase] !== undefined),
  );
  const titles = {
    before: 'Before the fault',
    during: `During (${routing.evacuated} unhealthy)`,
    after: 'After the restore',
  } as const;
  const place = (viewer: (typeof routing.viewers)[number]) =>
    viewer.location === undefined
      ? 'no location'
      : `${fixed(Math.abs(viewer.location.latitude), 2)}°${viewer.location.latitude < 0 ? 'S' : 'N'} ${fixed(Math.abs(viewer.location.longitude), 2)}°${viewer.location.longitude < 0 ? 'W' : 'E'}`;
  const rows = routing.viewers.map((viewer) => {
    const cells = phases.map((phase) => {
      const routed = viewer.phases[phase];
      if (!routed) return '<td>-</td>';
      const verdict = routed.last === routed.expected ? 'pass' : 'fail';
      const counts = Object.entries(routed.responses)
        .sort((a, b) => b[1] - a[1])
        .map(([region, count]) => `${escapeHtml(region)} × ${count}`)
        .join(', ');
      return `<td data-phase="${phase}" data-region="${escapeHtml(routed.last ?? '')}" data-expected="${escapeHtml(routed.expected)}" class="routed ${verdict}"><b>${escapeHtml(routed.last ?? 'no answer')}</b>${verdict === 'fail' ? ` <span class="rule">(rule: ${escapeHtml(routed.expected)})</span>` : ''}<br><span class="counts">${counts || 'no responses'}</span></td>`;
    });
    return `<tr data-viewer="${escapeHtml(viewer.id)}"><td><b>${escapeHtml(viewer.name)}</b><br><span class="counts">${escapeHtml(viewer.continent)} · ${place(viewer)}</span></td>${cells.join('')}</tr>`;
  });
  const regions = routing.regions
    .map(
      (region) =>
        `${escapeHtml(region.name)} (${fixed(region.latitude, 2)}, ${fixed(region.longitude, 2)}${region.bias === 0 ? '' : `, bias ${region.bias > 0 ? '+' : ''}${region.bias}`})`,
    )
    .join(', ');
  return `<table id="routing"><thead><tr><th>Simulated viewer</th>${phases.map((phase) => `<th>${escapeHtml(titles[phase])}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>
<p class="sub">Each cell names the region that answered the viewer's last request in the phase, then every answer in it by region. Regions: ${regions}. Rule: ${escapeHtml(routing.rule)}.</p>`;
}

function eventsTable(report: LocalReport): string {
  const rows = report.markers.map(
    (marker) =>
      `<tr><td>${marker.t.toFixed(1)} s</td><td>${escapeHtml(marker.kind)}</td><td>${escapeHtml(marker.label)}</td></tr>`,
  );
  return `<table id="events"><thead><tr><th>Time</th><th>Event</th><th>What happened</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

export function renderHtml(report: LocalReport): string {
  const verdict = report.verdict.toUpperCase();
  const present = new Set(report.markers.map((marker) => marker.kind));
  const legend = Object.entries(LINE_MARKERS)
    .filter(([kind]) => present.has(kind as MarkerKind))
    .map(([, style]) => style)
    .map(
      (style) =>
        `<span class="key"><i style="background:${style.color}"></i>${escapeHtml(style.text)}</span>`,
    )
    .join('');
  const topology = report.topology.regions
    .map(
      (region) =>
        `<li><b>${escapeHtml(region.name)}</b>: ${escapeHtml(region.loadBalancer)} in front of ${region.targets
          .map(
            (target) =>
              `${escapeHtml(target.name)} (${target.taskIds.map(escapeHtml).join(' → ')})`,
          )
          .join(', ')}; memcached × ${region.memcachedNodes}</li>`,
    )
    .join('');
  const writes = report.writes;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Local game day: ${escapeHtml(report.scenario.name)} — ${verdict}</title>
<style>
  body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222; max-width: 1060px; margin: 24px auto; padding: 0 16px; }
  h1 { font-size: 24px; margin: 0 0 4px; }
  h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
  .sub { color: #555; margin: 0 0 12px; }
  .verdict { display: inline-block; padding: 2px 10px; border-radius: 4px; color: #fff; font-weight: 600; }
  .verdict.pass, td.pass { background: #2e7d32; color: #fff; }
  .verdict.fail, td.fail { background: #c62828; color: #fff; }
  td.pass, td.fail { font-weight: 600; text-align: center; }
  table { border-collapse: collapse; margin: 8px 0; font-size: 14px; }
  th, td { border: 1px solid #ddd; padding: 4px 10px; text-align: left; vertical-align: top; }
  th { background: #f4f4f4; }
  svg { display: block; background: #fff; }
  svg .grid { stroke: #eee; }
  svg .tick { font-size: 12px; fill: #555; }
  svg .axis-label { font-size: 12px; fill: #333; }
  svg .marker-label { font-size: 12px; font-weight: 600; }
  .legend { margin: 4px 0 0 58px; font-size: 13px; }
  .key { margin-right: 14px; white-space: nowrap; }
  .key i { display: inline-block; width: 14px; height: 10px; margin-right: 5px; vertical-align: middle; }
  .series i { height: 3px; }
  pre { background: #f7f7f7; padding: 10px; overflow-x: auto; font-size: 13px; }
  ul { margin: 4px 0; }
  td.routed.pass { background: #e8f5e9; color: #222; font-weight: normal; text-align: left; }
  td.routed.fail { background: #ffebee; color: #222; font-weight: normal; text-align: left; }
  .counts, .rule { font-size: 12px; color: #555; }
</style>
</head>
<body>
<h1>Local game day: ${escapeHtml(report.scenario.title)} <span id="verdict" class="verdict ${report.verdict}">${verdict}</span></h1>
<p class="sub"><code>${escapeHtml(report.scenario.name)}</code>${report.quick ? ' · quick mode' : ''} · ${escapeHtml(report.startedAt)} · ${report.plan.rate} requests/s, open loop (at most ${report.plan.maxInFlight} in flight)</p>
<p><b>Hypothesis.</b> ${escapeHtml(report.scenario.hypothesis)}<br><b>Fault.</b> ${escapeHtml(report.fault.description)}.<br><b>Blast radius.</b> ${escapeHtml(report.scenario.blastRadius)}</p>

<h2>Against the budget</h2>
${checksTable(report)}
<p class="sub">${escapeHtml(report.budget.derivation)}.</p>

${deployGateSection(report)}
<h2>Timeline</h2>
<p class="legend"><span class="key series"><i style="background:#2e7d32"></i>success rate</span><span class="key series"><i style="background:#1e88e5"></i>latency p50</span><span class="key series"><i style="background:#8e24aa"></i>latency p99</span><span class="key"><i style="background:#c62828;opacity:.15"></i>fault in force</span></p>
${timelineChart(report)}
<p class="legend">${legend}</p>
<h2>Who answered</h2>
${trafficChart(report)}

${report.routing ? `<h2>Where each viewer was routed</h2>\n${routingTable(report)}\n` : ''}
<h2>Requests</h2>
${phasesTable(report)}
<p>${report.requests.total} requests, ${report.requests.succeeded} succeeded (2xx with a JSON body), ${report.requests.zeroLength} zero-length; latency p50 ${report.requests.latency.p50 ?? '-'} ms, p99 ${report.requests.latency.p99 ?? '-'} ms. Status codes: ${escapeHtml(
    Object.entries(report.requests.byStatus)
      .map(([status, count]) => `${status === '0' ? 'no answer' : status} × ${count}`)
      .join(', '),
  )}.</p>
<p id="writes">Writes: <b>${writes.acknowledged}</b> acknowledged, <b>${writes.verified}</b> read back intact, <b>${writes.lost.length}</b> lost, <b>${writes.unreadable.length}</b> unreadable.</p>

<h2>Events</h2>
${eventsTable(report)}

<h2>How this ran</h2>
<ul>${topology}<li>${escapeHtml(report.topology.database)}</li>${report.topology.router ? '<li>A router in front plays Route 53: string-match health checks, and geoproximity answers from the shared rule (the CloudFront Function’s) that each viewer keeps for the alias TTL.</li>' : ''}</ul>
<ul>${report.plan.notes.map((note) => `<li>${escapeHtml(note)}</li>`).join('')}</ul>
<p class="sub">${escapeHtml(report.environment.haproxy)} · ${escapeHtml(report.environment.memcached)} · Node ${escapeHtml(report.environment.node)} · ${escapeHtml(report.environment.platform)} · ${report.environment.cpus} CPUs</p>
<h2>Summary as printed</h2>
<pre>${escapeHtml(report.summary)}</pre>
</body>
</html>
`;
}

/** bad-deploy: the control call, the verdict and every check the gate made. */
function deployGateSection(report: LocalReport): string {
  const gate = report.deployGate;
  if (!gate) return '';
  const rows = gate.verdict.checks
    .map(
      (check) =>
        `<tr class="${check.ok ? 'pass' : 'fail'}"><td>${check.attempt}</td><td>${escapeHtml(check.check)}</td><td><code>${escapeHtml(`${check.method} ${check.path}`)}</code></td><td>${check.status ?? 'no answer'}</td><td>${check.bytes}</td><td>${check.latencyMs} ms</td><td>${check.ok ? 'ok' : escapeHtml(check.detail ?? check.failure ?? 'failed')}</td></tr>`,
    )
    .join('');
  return `<h2 id="deploy-gate">Deploy gate: ${gate.verdict.passed ? 'PASSED' : 'REFUSED'} ${escapeHtml(gate.revisionTaskId)}</h2>
<p>Control: a plain <code>GET ${escapeHtml(gate.control.path)}</code> straight to the new revision answered <b>${gate.control.status}</b> with <b>${gate.control.bytes}</b> bytes${gate.control.faultInjected ? ` (x-fault-injected: ${escapeHtml(gate.control.faultInjected)})` : ''}. ${gate.registered ? 'The gate passed it and it was registered in HAProxy.' : 'HAProxy never got it.'}</p>
<table><tr><th>Attempt</th><th>Check</th><th>Call</th><th>Status</th><th>Bytes</th><th>Took</th><th>Result</th></tr>${rows}</table>`;
}
