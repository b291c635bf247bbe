import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';

/** One look at how the process is doing. */
export interface PressureSample {
  /** Mean event-loop delay since the previous sample: how late every callback runs. */
  readonly eventLoopDelayMs: number;
  readonly heapUsedBytes: number;
  readonly rssBytes: number;
}

export type PressureSampler = () => PressureSample;

export interface LoadShedderLimits {
  /**
   * Mean event-loop delay at or above which API requests are shed.
   * @default 500
   */
  readonly maxEventLoopDelayMs?: number;
  /**
   * Heap use at or above which API requests are shed.
   * @default - 90% of the V8 heap limit
   */
  readonly maxHeapUsedBytes?: number;
  /**
   * Resident set size at or above which API requests are shed.
   * @default - 90% of the container's memory limit when the process can see one, else no limit
   */
  readonly maxRssBytes?: number;
  /**
   * How often the process is sampled.
   * @default 1000
   */
  readonly sampleIntervalMs?: number;
}

export interface ShedVerdict {
  readonly shedding: boolean;
  /** What is over its limit, e.g. `event-loop delay 812ms >= 500ms`. */
  readonly reasons: readonly string[];
  readonly sample: PressureSample;
}

const EVENT_LOOP_RESOLUTION_MS = 10;

/**
 * The process's own signals: the event-loop delay histogram (reset at each sample), the V8 heap
 * and the RSS. Event-loop *utilisation* is deliberately not one of them: a busy loop that still
 * answers quickly is doing its job, and shedding it turns load into errors.
 */
export class ProcessSampler {
  private readonly histogram: IntervalHistogram;

  constructor() {
    this.histogram = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
    this.histogram.enable();
  }

  readonly sample: PressureSampler = () => {
    // The histogram counts the timer's own resolution as delay.
    const mean = this.histogram.count > 0 ? this.histogram.mean / 1e6 : 0;
    this.histogram.reset();
    return {
      eventLoopDelayMs: Math.max(0, mean - EVENT_LOOP_RESOLUTION_MS),
      heapUsedBytes: getHeapStatistics().used_heap_size,
      rssBytes: process.memoryUsage.rss(),
    };
  };

  close(): void {
    this.histogram.disable();
  }
}

/** 90% of the cgroup memory limit, when there is one the process can see. */
function defaultMaxRssBytes(): number | undefined {
  const limit = process.constrainedMemory();
  return limit > 0 && limit < 2 ** 50 ? Math.floor(0.9 * limit) : undefined;
}

/**
 * Decides whether to shed API requests, from a sample taken every interval (a request only reads
 * the last verdict). Shedding is for real overload, where serving more makes every answer late
 * or the process die: a long event-loop delay, or memory near its limit. It never fails
 * readiness: a busy task taken out of the load balancer pushes its load onto the others.
 */
export class LoadShedder {
  private readonly maxDelayMs: number;
  private readonly maxHeapBytes: number;
  private readonly maxRssBytes: number | undefined;
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private last: ShedVerdict;

  constructor(
    limits: LoadShedderLimits,
    private readonly sampler: PressureSampler,
  ) {
    this.maxDelayMs = limits.maxEventLoopDelayMs ?? 500;
    this.maxHeapBytes =
      limits.maxHeapUsedBytes ?? Math.floor(0.9 * getHeapStatistics().heap_size_limit);
    this.maxRssBytes = limits.maxRssBytes ?? defaultMaxRssBytes();
    this.intervalMs = limits.sampleIntervalMs ?? 1000;
    this.last = {
      shedding: false,
      reasons: [],
      sample: { eventLoopDelayMs: 0, heapUsedBytes: 0, rssBytes: 0 },
    };
  }

  start(): void {
    this.sampleNow();
    this.timer = setInterval(() => this.sampleNow(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  verdict(): ShedVerdict {
    return this.last;
  }

  /** Takes a sample and judges it. */
  sampleNow(): ShedVerdict {
    const sample = this.sampler();
    const reasons: string[] = [];
    if (sample.eventLoopDelayMs >= this.maxDelayMs) {
      reasons.push(
        `event-loop delay ${Math.round(sample.eventLoopDelayMs)}ms >= ${this.maxDelayMs}ms`,
      );
    }
    if (sample.heapUsedBytes >= this.maxHeapBytes) {
      reasons.push(`heap used ${sample.heapUsedBytes} bytes >= ${this.maxHeapBytes}`);
    }
    if (this.maxRssBytes !== undefined && sample.rssBytes >= this.maxRssBytes) {
      reasons.push(`RSS ${sample.rssBytes} bytes >= ${this.maxRssBytes}`);
    }
    this.last = { shedding: reasons.length > 0, reasons, sample };
    return this.last;
  }
}
