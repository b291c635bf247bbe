/**
 * canary: every minute, call each region's endpoint and the global name; check the status, a
 * non-empty body and the health token; publish success, bytes and latency per target.
 */
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';

import type { CanaryEnv } from '../shared/env';
import { ProbeOptions, ProbeResult, probe } from '../shared/probe';
import { list, oneOf, optional, parseObject } from '../shared/validation';

/**
 * The canary's event: EventBridge's scheduled event (whose fields are ignored), or
 * `{"targets": ["eu-west-1"]}` to check some targets only.
 */
export function parseCanaryEvent(raw: unknown, env: CanaryEnv) {
  const names = env.targets.map((t) => t.name);
  return parseObject(
    { targets: optional(list(oneOf(names), { min: 1, max: names.length })) },
    raw,
    {
      allowUnknown: true,
    },
  );
}
export type CanaryEvent = ReturnType<typeof parseCanaryEvent>;

/** Where results go: CloudWatch metrics in production, a list in tests. */
export interface CanarySink {
  record(result: ProbeResult): void;
}

/**
 * Publishes one EMF record per target with a `target` dimension: CanarySuccess (1 or 0),
 * CanaryBytes and CanaryLatency. The alarms in the construct watch CanarySuccess.
 */
export function metricsSink(metrics: Metrics): CanarySink {
  return {
    record(result) {
      metrics.addDimension('target', result.name);
      metrics.addMetric('CanarySuccess', MetricUnit.Count, result.ok ? 1 : 0);
      metrics.addMetric('CanaryBytes', MetricUnit.Bytes, result.bytes);
      metrics.addMetric('CanaryLatency', MetricUnit.Milliseconds, Math.round(result.latencyMs));
      metrics.publishStoredMetrics();
    },
  };
}

export interface CanaryDeps {
  readonly env: CanaryEnv;
  readonly sink: CanarySink;
  /** Overrides for tests (fetch, clock). */
  readonly probeOptions?: Partial<ProbeOptions>;
}

export interface CanaryReport {
  readonly ok: boolean;
  readonly results: readonly ProbeResult[];
}

export async function runCanary(event: CanaryEvent, deps: CanaryDeps): Promise<CanaryReport> {
  const wanted = event.targets;
  const targets = deps.env.targets.filter((t) => !wanted || wanted.includes(t.name));
  const results = await Promise.all(
    targets.map((t) =>
      probe(t, {
        token: deps.env.healthToken,
        timeoutMs: deps.env.timeoutMs,
        ...deps.probeOptions,
      }),
    ),
  );
  for (const result of results) deps.sink.record(result);
  return { ok: results.every((r) => r.ok), results };
}
