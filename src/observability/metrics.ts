/**
 * A small Prometheus registry (text exposition format 0.0.4): counters, gauges and histograms with label sets,
 * process metrics, and the shared outpost metrics of the reference (§1.9). One registry per process, passed
 * to whoever records; several outposts in one process share it and tell themselves apart by `outpost_name`.
 * Label cardinality is bounded: beyond maxSeriesPerMetric new label sets are dropped and counted.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { METRICS_LIMITS } from '../config/limits.js';

export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const DEFAULT_BUCKETS: readonly number[] = Object.freeze([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);

export type LabelValues<L extends string> = { readonly [K in L]: string | number };

export interface MetricSpec<L extends string> {
  name: string;
  help: string;
  labelNames?: readonly L[];
}

export interface HistogramSpec<L extends string> extends MetricSpec<L> {
  buckets?: readonly number[];
}

type MetricType = 'counter' | 'gauge' | 'histogram';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function renderLabels(names: readonly string[], values: readonly string[], extra?: string): string {
  const parts: string[] = [];
  for (let i = 0; i < names.length; i++) parts.push(`${names[i]}="${escapeLabelValue(values[i] ?? '')}"`);
  if (extra !== undefined) parts.push(extra);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

interface SeriesBase {
  readonly values: readonly string[];
}

/** Shared series bookkeeping; subclasses hold the numbers. */
abstract class Metric<L extends string, S extends SeriesBase> {
  abstract readonly type: MetricType;
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  protected readonly series = new Map<string, S>();
  readonly #maxSeries: number;
  readonly #onDrop: (metric: string) => void;

  constructor(spec: MetricSpec<L>, maxSeries: number, onDrop: (metric: string) => void) {
    if (!METRIC_NAME.test(spec.name)) throw new Error(`invalid metric name ${JSON.stringify(spec.name)}`);
    const labelNames = spec.labelNames ?? [];
    for (const l of labelNames) {
      if (!LABEL_NAME.test(l) || l.startsWith('__')) throw new Error(`invalid label name ${JSON.stringify(l)} on ${spec.name}`);
    }
    if (new Set(labelNames).size !== labelNames.length) throw new Error(`duplicate label on ${spec.name}`);
    this.name = spec.name;
    this.help = spec.help;
    this.labelNames = Object.freeze([...labelNames]);
    this.#maxSeries = maxSeries;
    this.#onDrop = onDrop;
  }

  protected abstract create(values: readonly string[]): S;

  /** The series for these labels, created on first use; undefined when the cap drops it. */
  protected lookup(labels: LabelValues<L>): S | undefined {
    const key = this.#keyOf(labels);
    let s = this.series.get(key);
    if (s === undefined) {
      if (this.series.size >= this.#maxSeries) {
        this.#onDrop(this.name);
        return undefined;
      }
      s = this.create(this.labelNames.map((n) => (labels[n] === undefined ? '' : String(labels[n]))));
      this.series.set(key, s);
    }
    return s;
  }

  /** The series key; no intermediate arrays, since request metrics look series up on every operation. */
  #keyOf(labels: LabelValues<L>): string {
    let key = '';
    const names = this.labelNames;
    for (let i = 0; i < names.length; i++) {
      const v = labels[names[i]!];
      if (i > 0) key += '\u0000';
      if (v !== undefined) key += typeof v === 'string' ? v : String(v);
    }
    return key;
  }

  protected find(labels: LabelValues<L>): S | undefined {
    return this.series.get(this.#keyOf(labels));
  }

  /** Forgets the series for these labels (e.g. an outpost that stopped). */
  remove(labels: LabelValues<L>): void {
    this.series.delete(this.#keyOf(labels));
  }

  reset(): void {
    this.series.clear();
  }

  get seriesCount(): number {
    return this.series.size;
  }

  render(out: string[]): void {
    out.push(`# HELP ${this.name} ${escapeHelp(this.help)}`);
    out.push(`# TYPE ${this.name} ${this.type}`);
    for (const s of this.series.values()) this.renderSeries(s, out);
  }

  protected abstract renderSeries(s: S, out: string[]): void;
}

interface ValueSeries extends SeriesBase {
  value: number;
}

export class Counter<L extends string = never> extends Metric<L, ValueSeries> {
  readonly type = 'counter';

  inc(labels: LabelValues<L>, value = 1): void {
    if (!(value >= 0)) return; // counters never go down; NaN ignored
    const s = this.lookup(labels);
    if (s !== undefined) s.value += value;
  }

  get(labels: LabelValues<L>): number | undefined {
    return this.find(labels)?.value;
  }

  protected create(values: readonly string[]): ValueSeries {
    return { values, value: 0 };
  }

  protected renderSeries(s: ValueSeries, out: string[]): void {
    out.push(`${this.name}${renderLabels(this.labelNames, s.values)} ${formatValue(s.value)}`);
  }
}

export class Gauge<L extends string = never> extends Metric<L, ValueSeries> {
  readonly type = 'gauge';

  set(labels: LabelValues<L>, value: number): void {
    const s = this.lookup(labels);
    if (s !== undefined) s.value = value;
  }

  inc(labels: LabelValues<L>, value = 1): void {
    const s = this.lookup(labels);
    if (s !== undefined) s.value += value;
  }

  dec(labels: LabelValues<L>, value = 1): void {
    this.inc(labels, -value);
  }

  get(labels: LabelValues<L>): number | undefined {
    return this.find(labels)?.value;
  }

  protected create(values: readonly string[]): ValueSeries {
    return { values, value: 0 };
  }

  protected renderSeries(s: ValueSeries, out: string[]): void {
    out.push(`${this.name}${renderLabels(this.labelNames, s.values)} ${formatValue(s.value)}`);
  }
}

interface HistogramSeries extends SeriesBase {
  /** Per-bucket (not cumulative) counts; the last slot is +Inf. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

export class Histogram<L extends string = never> extends Metric<L, HistogramSeries> {
  readonly type = 'histogram';
  readonly buckets: readonly number[];

  constructor(spec: HistogramSpec<L>, maxSeries: number, onDrop: (metric: string) => void) {
    super(spec, maxSeries, onDrop);
    if ((spec.labelNames ?? []).some((l) => l === 'le')) throw new Error(`label "le" is reserved on ${spec.name}`);
    const buckets = [...(spec.buckets ?? DEFAULT_BUCKETS)].filter((b) => b !== Number.POSITIVE_INFINITY);
    for (let i = 0; i < buckets.length; i++) {
      const b = buckets[i] as number;
      if (!Number.isFinite(b) || (i > 0 && b <= (buckets[i - 1] as number))) {
        throw new Error(`buckets of ${spec.name} must be finite and increasing`);
      }
    }
    this.buckets = Object.freeze(buckets);
  }

  observe(labels: LabelValues<L>, value: number): void {
    if (Number.isNaN(value)) return;
    const s = this.lookup(labels);
    if (s === undefined) return;
    let i = 0;
    while (i < this.buckets.length && value > (this.buckets[i] as number)) i++;
    s.counts[i] = (s.counts[i] ?? 0) + 1;
    s.sum += value;
    s.count += 1;
  }

  /** Starts a stopwatch; calling the result records the elapsed seconds and returns them. */
  startTimer(labels: LabelValues<L>): (extra?: Partial<LabelValues<L>>) => number {
    const start = performance.now();
    return (extra) => {
      const seconds = (performance.now() - start) / 1000;
      this.observe(extra === undefined ? labels : ({ ...labels, ...extra } as LabelValues<L>), seconds);
      return seconds;
    };
  }

  /** Count and sum of one series, for tests and diagnostics. */
  get(labels: LabelValues<L>): { count: number; sum: number } | undefined {
    const s = this.find(labels);
    return s === undefined ? undefined : { count: s.count, sum: s.sum };
  }

  protected create(values: readonly string[]): HistogramSeries {
    return { values, counts: new Float64Array(this.buckets.length + 1), sum: 0, count: 0 };
  }

  protected renderSeries(s: HistogramSeries, out: string[]): void {
    let cumulative = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      cumulative += s.counts[i] ?? 0;
      const le = `le="${formatValue(this.buckets[i] as number)}"`;
      out.push(`${this.name}_bucket${renderLabels(this.labelNames, s.values, le)} ${formatValue(cumulative)}`);
    }
    out.push(`${this.name}_bucket${renderLabels(this.labelNames, s.values, 'le="+Inf"')} ${formatValue(s.count)}`);
    out.push(`${this.name}_sum${renderLabels(this.labelNames, s.values)} ${formatValue(s.sum)}`);
    out.push(`${this.name}_count${renderLabels(this.labelNames, s.values)} ${formatValue(s.count)}`);
  }
}

type AnyMetric = Counter<string> | Gauge<string> | Histogram<string>;

export class MetricsRegistry {
  readonly maxSeriesPerMetric: number;
  readonly #metrics = new Map<string, AnyMetric>();
  readonly #collectors = new Set<() => void>();
  readonly #dropped: Counter<'metric'>;

  constructor(options: { maxSeriesPerMetric?: number } = {}) {
    this.maxSeriesPerMetric = options.maxSeriesPerMetric ?? METRICS_LIMITS.maxSeriesPerMetric;
    // Its only label is a metric name, so its own cardinality is bounded by the number of metrics.
    this.#dropped = new Counter<'metric'>(
      { name: 'ak_outpost_metric_series_dropped_total', help: 'Label sets not recorded because a metric reached its series cap', labelNames: ['metric'] },
      Number.MAX_SAFE_INTEGER,
      () => {},
    );
    this.#metrics.set(this.#dropped.name, this.#dropped);
  }

  counter<L extends string = never>(spec: MetricSpec<L>): Counter<L> {
    return this.#register(spec, 'counter', () => new Counter<L>(spec, this.maxSeriesPerMetric, this.#onDrop));
  }

  gauge<L extends string = never>(spec: MetricSpec<L>): Gauge<L> {
    return this.#register(spec, 'gauge', () => new Gauge<L>(spec, this.maxSeriesPerMetric, this.#onDrop));
  }

  histogram<L extends string = never>(spec: HistogramSpec<L>): Histogram<L> {
    const h = this.#register(spec, 'histogram', () => new Histogram<L>(spec, this.maxSeriesPerMetric, this.#onDrop));
    if (spec.buckets !== undefined) {
      const wanted = spec.buckets.filter((b) => b !== Number.POSITIVE_INFINITY);
      if (wanted.length !== h.buckets.length || wanted.some((b, i) => b !== h.buckets[i])) {
        throw new Error(`metric ${spec.name} already registered with other buckets`);
      }
    }
    return h;
  }

  /** Runs before every exposition (e.g. to sample process state). Returns a function that removes it. */
  addCollector(collect: () => void): () => void {
    this.#collectors.add(collect);
    return () => this.#collectors.delete(collect);
  }

  /** Prometheus text exposition format 0.0.4. */
  exposition(): string {
    for (const collect of this.#collectors) {
      try {
        collect();
      } catch {
        // A failing sampler must not take /metrics down; its gauges keep their previous values.
      }
    }
    const out: string[] = [];
    for (const metric of this.#metrics.values()) metric.render(out);
    out.push('');
    return out.join('\n');
  }

  readonly #onDrop = (metric: string): void => {
    this.#dropped.inc({ metric });
  };

  #register<M extends AnyMetric>(spec: MetricSpec<string>, type: MetricType, make: () => M): M {
    const existing = this.#metrics.get(spec.name);
    if (existing !== undefined) {
      const labels = spec.labelNames ?? [];
      const same =
        existing.type === type &&
        existing.labelNames.length === labels.length &&
        existing.labelNames.every((l, i) => l === labels[i]);
      if (!same) throw new Error(`metric ${spec.name} already registered with another type or labels`);
      return existing as M;
    }
    const metric = make();
    this.#metrics.set(spec.name, metric);
    return metric;
  }
}

// ---------------------------------------------------------------------------------------------------------

export type OutpostInfoLabel = 'outpost_name' | 'outpost_type' | 'uuid' | 'version' | 'build';
export type OutpostConnectionLabel = 'outpost_name' | 'outpost_type' | 'uuid';
export type FlowTimingLabel = 'stage' | 'flow';

export interface OutpostMetrics {
  info: Gauge<OutpostInfoLabel>;
  lastUpdate: Gauge<OutpostInfoLabel>;
  connection: Gauge<OutpostConnectionLabel>;
  flowTimingGet: Histogram<FlowTimingLabel>;
  flowTimingPost: Histogram<FlowTimingLabel>;
}

/** The metrics every outpost exports (reference §1.9). Idempotent: each call returns the same instances. */
export function outpostMetrics(registry: MetricsRegistry): OutpostMetrics {
  const infoLabels: readonly OutpostInfoLabel[] = ['outpost_name', 'outpost_type', 'uuid', 'version', 'build'];
  return {
    info: registry.gauge({ name: 'authentik_outpost_info', help: 'Outpost info', labelNames: infoLabels }),
    lastUpdate: registry.gauge({
      name: 'authentik_outpost_last_update',
      help: 'Time of last successful update (unix seconds)',
      labelNames: infoLabels,
    }),
    connection: registry.gauge({
      name: 'authentik_outpost_connection',
      help: 'Connection status of the event link to the core (1 up, 0 down)',
      labelNames: ['outpost_name', 'outpost_type', 'uuid'],
    }),
    flowTimingGet: registry.histogram({
      name: 'authentik_outpost_flow_timing_get_seconds',
      help: 'Duration of the GET requests of flow executions, by challenge received',
      labelNames: ['stage', 'flow'],
    }),
    flowTimingPost: registry.histogram({
      name: 'authentik_outpost_flow_timing_post_seconds',
      help: 'Duration of the POST requests of flow executions, by response sent',
      labelNames: ['stage', 'flow'],
    }),
  };
}

/**
 * process_* metrics (as Go's process collector names them) and Node heap and event-loop delay. Returns a
 * stop function that removes the collector and the event-loop monitor.
 */
export function registerProcessMetrics(registry: MetricsRegistry, options: { eventLoop?: boolean } = {}): () => void {
  const cpu = registry.counter({ name: 'process_cpu_seconds_total', help: 'Total user and system CPU time spent in seconds.' });
  const rss = registry.gauge({ name: 'process_resident_memory_bytes', help: 'Resident memory size in bytes.' });
  const start = registry.gauge({ name: 'process_start_time_seconds', help: 'Start time of the process since unix epoch in seconds.' });
  const fds = registry.gauge({ name: 'process_open_fds', help: 'Number of open file descriptors.' });
  const maxFds = registry.gauge({ name: 'process_max_fds', help: 'Maximum number of open file descriptors.' });
  const heapUsed = registry.gauge({ name: 'nodejs_heap_size_used_bytes', help: 'V8 heap in use in bytes.' });
  const heapTotal = registry.gauge({ name: 'nodejs_heap_size_total_bytes', help: 'V8 heap allocated in bytes.' });
  const lag = registry.gauge({ name: 'nodejs_eventloop_lag_seconds', help: 'Mean event loop delay since the previous scrape.' });
  const lagMax = registry.gauge({ name: 'nodejs_eventloop_lag_max_seconds', help: 'Largest event loop delay since the previous scrape.' });

  start.set({}, Math.round(performance.timeOrigin) / 1000);
  const maxFdsValue = readMaxFds();
  if (maxFdsValue !== undefined) maxFds.set({}, maxFdsValue);

  const monitor = options.eventLoop === false ? undefined : monitorEventLoopDelay({ resolution: 20 });
  monitor?.enable();
  let lastCpuSeconds = 0;

  const remove = registry.addCollector(() => {
    const usage = process.cpuUsage();
    const cpuSeconds = (usage.user + usage.system) / 1e6;
    cpu.inc({}, Math.max(0, cpuSeconds - lastCpuSeconds));
    lastCpuSeconds = Math.max(lastCpuSeconds, cpuSeconds);
    rss.set({}, process.memoryUsage.rss());
    const heap = process.memoryUsage();
    heapUsed.set({}, heap.heapUsed);
    heapTotal.set({}, heap.heapTotal);
    const open = countOpenFds();
    if (open !== undefined) fds.set({}, open);
    if (monitor !== undefined && monitor.count > 0) {
      lag.set({}, monitor.mean / 1e9);
      lagMax.set({}, monitor.max / 1e9);
      monitor.reset();
    }
  });
  return () => {
    remove();
    monitor?.disable();
  };
}

function countOpenFds(): number | undefined {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return undefined;
  }
}

function readMaxFds(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s+/)[3];
    const n = soft === undefined ? Number.NaN : Number(soft);
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}
