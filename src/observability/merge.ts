/**
 * The /metrics of a cluster (AUTHENTIK_WORKERS > 1): the primary's own metric families and each worker's, merged
 * by prom-client's AggregatorRegistry.aggregate. A worker's registry labels all its samples `worker="<n>"`, so no
 * two parts share a series: the merge puts each family (HELP, TYPE) once and keeps every series as it is, and
 * `sum()` in dashboards adds the workers up. prom-client's own aggregators would sum same-labelled series and
 * omit some families (process_start_time_seconds); 'first' on disjoint series changes nothing.
 */
import { AggregatorRegistry } from 'prom-client';

export interface MetricSample {
  value: number;
  labels: Readonly<Record<string, string | number>>;
  /** The sample's own name where it differs from the family's (a histogram's _bucket, _sum, _count). */
  metricName?: string;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary';
  values: MetricSample[];
}

const TYPES: ReadonlySet<string> = new Set(['counter', 'gauge', 'histogram', 'summary']);

/** Families as prom-client's getMetricsAsJSON gives them (and a worker sends them); undefined for anything else. */
export function parseMetricFamilies(value: unknown): MetricFamily[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const families: MetricFamily[] = [];
  for (const item of value) {
    if (!isRecord(item)) return undefined;
    const { name, help, type, values } = item;
    if (typeof name !== 'string' || typeof help !== 'string' || typeof type !== 'string' || !Array.isArray(values)) return undefined;
    if (!isFamilyType(type)) return undefined;
    const samples: MetricSample[] = [];
    for (const v of values) {
      const sample = parseSample(v);
      if (sample === undefined) return undefined;
      samples.push(sample);
    }
    families.push({ name, help, type, values: samples });
  }
  return families;
}

/** One exposition (text format 0.0.4) of all parts, each family once in the order first seen. */
export function mergeMetricFamilies(parts: readonly (readonly MetricFamily[])[]): Promise<string> {
  const all = parts.map((families) => families.map((family) => ({ ...family, aggregator: 'first' })));
  return AggregatorRegistry.aggregate(all).metrics();
}

function parseSample(value: unknown): MetricSample | undefined {
  if (!isRecord(value)) return undefined;
  const { value: number, labels, metricName } = value;
  if (typeof number !== 'number' || !isRecord(labels)) return undefined;
  if (metricName !== undefined && typeof metricName !== 'string') return undefined;
  const cleanLabels: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(labels)) {
    if (typeof v !== 'string' && typeof v !== 'number') return undefined;
    cleanLabels[k] = v;
  }
  return metricName === undefined ? { value: number, labels: cleanLabels } : { value: number, labels: cleanLabels, metricName };
}

function isFamilyType(type: string): type is MetricFamily['type'] {
  return TYPES.has(type);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
