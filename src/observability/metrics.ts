/**
 * Prometheus metrics on prom-client: one Registry per process (passed to whoever records, never prom-client's
 * global one), typed counters, gauges and histograms over it, prom-client's process and Node.js metrics, and
 * the shared outpost metrics of the reference (§1.9). Several outposts in one process share a registry and tell
 * themselves apart by `outpost_name`. Label cardinality is bounded: beyond maxSeriesPerMetric new label sets
 * are dropped and counted.
 */
import {
  collectDefaultMetrics,
  Counter as PromCounter,
  Gauge as PromGauge,
  Histogram as PromHistogram,
  prometheusContentType,
  Registry,
} from 'prom-client';
import { METRICS_LIMITS } from '../config/limits.js';
import { parseMetricFamilies, type MetricFamily } from './merge.js';

export const EXPOSITION_CONTENT_TYPE = prometheusContentType;

export type LabelValues<L extends string> = { readonly [K in L]: string | number };

export interface MetricSpec<L extends string> {
  name: string;
  help: string;
  labelNames?: readonly L[];
}

export interface HistogramSpec<L extends string> extends MetricSpec<L> {
  buckets?: readonly number[];
}

/** Go's client's default buckets (seconds), which the reference's histograms use. */
const DEFAULT_BUCKETS: readonly number[] = Object.freeze([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);

interface LabelNode<C> {
  readonly next: Map<string, LabelNode<C>>;
  child: C | undefined;
}

type AnyLabels = Readonly<Record<string, string | number>>;

/**
 * The prom-client child of each label set, made once and found again through one Map per label (a request's
 * lookup builds no key string), so the series cap is checked only when a label set is new.
 */
class SeriesIndex<C> {
  readonly #root: LabelNode<C> = { next: new Map(), child: undefined };
  readonly #labelNames: readonly string[];
  readonly #max: number;
  readonly #make: (labels: Record<string, string>) => C;
  readonly #onDrop: () => void;
  #size = 0;

  constructor(labelNames: readonly string[], max: number, make: (labels: Record<string, string>) => C, onDrop: () => void) {
    this.#labelNames = labelNames;
    this.#max = max;
    this.#make = make;
    this.#onDrop = onDrop;
  }

  /** The child for these labels, created on first use; undefined (and counted) when the cap drops it. */
  get(labels: AnyLabels): C | undefined {
    let node = this.#root;
    for (const name of this.#labelNames) {
      const value = labelText(labels[name]);
      let next = node.next.get(value);
      if (next === undefined) {
        if (this.#size >= this.#max) return this.#drop();
        next = { next: new Map(), child: undefined };
        node.next.set(value, next);
      }
      node = next;
    }
    if (node.child !== undefined) return node.child;
    if (this.#size >= this.#max) return this.#drop();
    const copy: Record<string, string> = {};
    for (const name of this.#labelNames) copy[name] = labelText(labels[name]);
    this.#size += 1;
    return (node.child = this.#make(Object.freeze(copy)));
  }

  #drop(): undefined {
    this.#onDrop();
    return undefined;
  }
}

function labelText(value: string | number | undefined): string {
  return typeof value === 'string' ? value : value === undefined ? '' : String(value);
}

export class Counter<L extends string = never> {
  readonly #series: SeriesIndex<PromCounter.Internal>;

  constructor(metric: PromCounter<string>, labelNames: readonly string[], max: number, onDrop: () => void) {
    this.#series = new SeriesIndex(labelNames, max, (labels) => metric.labels(labels), onDrop);
  }

  inc(labels: LabelValues<L>, value = 1): void {
    // Counters never go down; prom-client would throw on a negative or non-finite value.
    if (!(value >= 0 && value < Number.POSITIVE_INFINITY)) return;
    this.#series.get(labels)?.inc(value);
  }
}

export class Gauge<L extends string = never> {
  readonly #series: SeriesIndex<PromGauge.Internal<string>>;

  constructor(metric: PromGauge<string>, labelNames: readonly string[], max: number, onDrop: () => void) {
    this.#series = new SeriesIndex(labelNames, max, (labels) => metric.labels(labels), onDrop);
  }

  set(labels: LabelValues<L>, value: number): void {
    this.#series.get(labels)?.set(value);
  }

  inc(labels: LabelValues<L>, value = 1): void {
    this.#series.get(labels)?.inc(value);
  }

  dec(labels: LabelValues<L>, value = 1): void {
    this.#series.get(labels)?.dec(value);
  }
}

export class Histogram<L extends string = never> {
  readonly #series: SeriesIndex<PromHistogram.Internal<string>>;

  constructor(metric: PromHistogram<string>, labelNames: readonly string[], max: number, onDrop: () => void) {
    this.#series = new SeriesIndex(labelNames, max, (labels) => metric.labels(labels), onDrop);
  }

  observe(labels: LabelValues<L>, value: number): void {
    // prom-client throws on a non-finite value; a metric must never fail the request it measures.
    if (!Number.isFinite(value)) return;
    this.#series.get(labels)?.observe(value);
  }
}

type Registered =
  | { kind: 'counter'; labelNames: readonly string[]; metric: Counter<string> }
  | { kind: 'gauge'; labelNames: readonly string[]; metric: Gauge<string> }
  | { kind: 'histogram'; labelNames: readonly string[]; buckets: readonly number[]; metric: Histogram<string> };

export interface MetricsRegistryOptions {
  maxSeriesPerMetric?: number;
  /** Labels added to every sample (a cluster worker's `worker="<n>"`). */
  defaultLabels?: Readonly<Record<string, string>>;
  /** prom-client's process_* and nodejs_* metrics (CPU, memory, file descriptors, event-loop lag, GC). */
  processMetrics?: boolean;
}

export class MetricsRegistry {
  readonly maxSeriesPerMetric: number;
  readonly #registry = new Registry();
  readonly #metrics = new Map<string, Registered>();
  readonly #dropped: PromCounter<'metric'>;

  constructor(options: MetricsRegistryOptions = {}) {
    this.maxSeriesPerMetric = options.maxSeriesPerMetric ?? METRICS_LIMITS.maxSeriesPerMetric;
    if (options.defaultLabels !== undefined) this.#registry.setDefaultLabels({ ...options.defaultLabels });
    // Its only label is a metric name, so its own cardinality is bounded by the number of metrics.
    this.#dropped = new PromCounter({
      name: 'ak_outpost_metric_series_dropped_total',
      help: 'Label sets not recorded because a metric reached its series cap',
      labelNames: ['metric'],
      registers: [this.#registry],
    });
    if (options.processMetrics === true) collectDefaultMetrics({ register: this.#registry });
  }

  counter<L extends string = never>(spec: MetricSpec<L>): Counter<L> {
    const labelNames = spec.labelNames ?? [];
    const existing = this.#existing(spec.name, 'counter', labelNames);
    if (existing?.kind === 'counter') return existing.metric;
    const metric = new Counter<L>(
      new PromCounter({ name: spec.name, help: spec.help, labelNames, registers: [this.#registry] }),
      labelNames,
      this.maxSeriesPerMetric,
      this.#onDrop(spec.name),
    );
    this.#metrics.set(spec.name, { kind: 'counter', labelNames, metric });
    return metric;
  }

  gauge<L extends string = never>(spec: MetricSpec<L>): Gauge<L> {
    const labelNames = spec.labelNames ?? [];
    const existing = this.#existing(spec.name, 'gauge', labelNames);
    if (existing?.kind === 'gauge') return existing.metric;
    const metric = new Gauge<L>(
      new PromGauge({ name: spec.name, help: spec.help, labelNames, registers: [this.#registry] }),
      labelNames,
      this.maxSeriesPerMetric,
      this.#onDrop(spec.name),
    );
    this.#metrics.set(spec.name, { kind: 'gauge', labelNames, metric });
    return metric;
  }

  histogram<L extends string = never>(spec: HistogramSpec<L>): Histogram<L> {
    const labelNames = spec.labelNames ?? [];
    const buckets = spec.buckets ?? DEFAULT_BUCKETS;
    const existing = this.#existing(spec.name, 'histogram', labelNames);
    if (existing?.kind === 'histogram') {
      if (buckets.length !== existing.buckets.length || buckets.some((b, i) => b !== existing.buckets[i])) {
        throw new Error(`metric ${spec.name} already registered with other buckets`);
      }
      return existing.metric;
    }
    if (buckets.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= (buckets[i - 1] ?? b)))) {
      throw new Error(`buckets of ${spec.name} must be finite and increasing`);
    }
    const metric = new Histogram<L>(
      new PromHistogram({ name: spec.name, help: spec.help, labelNames, buckets: [...buckets], registers: [this.#registry] }),
      labelNames,
      this.maxSeriesPerMetric,
      this.#onDrop(spec.name),
    );
    this.#metrics.set(spec.name, { kind: 'histogram', labelNames, buckets: Object.freeze([...buckets]), metric });
    return metric;
  }

  /** Prometheus text exposition format 0.0.4. */
  exposition(): Promise<string> {
    return this.#registry.metrics();
  }

  /** Every family with its samples (default labels included), as a cluster worker sends them to the primary. */
  async families(): Promise<MetricFamily[]> {
    const families = parseMetricFamilies(await this.#registry.getMetricsAsJSON());
    if (families === undefined) throw new Error('prom-client returned metrics of an unexpected shape');
    return families;
  }

  /** The registered metric of that name; throws when its type or labels differ. */
  #existing(name: string, kind: Registered['kind'], labelNames: readonly string[]): Registered | undefined {
    const existing = this.#metrics.get(name);
    if (existing === undefined) return undefined;
    const same =
      existing.kind === kind &&
      existing.labelNames.length === labelNames.length &&
      existing.labelNames.every((l, i) => l === labelNames[i]);
    if (!same) throw new Error(`metric ${name} already registered with another type or labels`);
    return existing;
  }

  #onDrop(metric: string): () => void {
    const child = this.#dropped.labels({ metric });
    return () => child.inc();
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
