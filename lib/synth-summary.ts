import {
  CloudFormationTemplate,
  edgeFailoverBudgets,
  regionFailoverBudgets,
  targetEjectionBudgets,
} from './budgets';

/** What a newcomer sees after synth, one row per stack. */
export interface StackSummary {
  readonly stackName: string;
  readonly region: string;
  readonly resourceCount: number;
  /** e.g. "15 s (+30 s drain)"; empty when the stack has no target group. */
  readonly targetEjection: string;
  /** e.g. "30 s + 60 s TTL = 90 s"; empty when the stack has no Route 53 health check. */
  readonly regionFailover: string;
  /**
   * e.g. "30 s + 60 s alarm + 5 s write + 30 s KVS = 125 s": until the site's `/api/*` routing
   * stops choosing a failed region; empty when the stack has no edge routing.
   */
  readonly edgeFailover: string;
}

/** The part of a synthesized stack the summary reads (a cx-api CloudFormationStackArtifact). */
export interface SynthesizedStack {
  readonly stackName: string;
  readonly environment: { readonly region: string };
  readonly template: CloudFormationTemplate;
}

function worst<T>(items: T[], key: (t: T) => number): T | undefined {
  return items.reduce<T | undefined>(
    (a, b) => (a === undefined || key(b) > key(a) ? b : a),
    undefined,
  );
}

export function summarizeStack(stack: SynthesizedStack): StackSummary {
  const ejection = worst(targetEjectionBudgets(stack.template), (b) => b.detectSeconds);
  const failover = worst(regionFailoverBudgets(stack.template), (b) => b.totalSeconds);
  const edge = worst(edgeFailoverBudgets(stack.template), (b) => b.totalSeconds);
  return {
    stackName: stack.stackName,
    region: stack.environment.region,
    resourceCount: Object.keys(stack.template.Resources ?? {}).length,
    targetEjection: ejection
      ? `${ejection.detectSeconds} s (+${ejection.drainSeconds} s drain)`
      : '',
    regionFailover: failover
      ? `${failover.detectSeconds} s + 60 s TTL = ${failover.totalSeconds} s` +
        (failover.matchesBody ? '' : ' (status only: misses empty 200s)')
      : '',
    edgeFailover: edge
      ? `${edge.detectSeconds} s + ${edge.alarmSeconds} s alarm + ${edge.writeSeconds} s write + ` +
        `${edge.propagationSeconds} s KVS = ${edge.totalSeconds} s`
      : '',
  };
}

/** Renders the summary as an aligned text table. */
export function renderSummary(rows: readonly StackSummary[], outdir: string): string {
  const header = [
    'STACK',
    'REGION',
    'RESOURCES',
    'TARGET EJECTION',
    'REGION FAILOVER',
    'EDGE FAILOVER',
  ];
  const cells = rows.map((r) => [
    r.stackName,
    r.region,
    String(r.resourceCount),
    r.targetEjection || '-',
    r.regionFailover || '-',
    r.edgeFailover || '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) =>
    c
      .map((v, i) => (i === 2 ? v.padStart(widths[i]) : v.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [`Synthesized ${rows.length} stacks to ${outdir}:`, line(header), ...cells.map(line)].join(
    '\n',
  );
}
