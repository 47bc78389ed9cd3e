import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeMetricFamilies, parseMetricFamilies, type MetricFamily } from '../../src/observability/merge.js';
import { MetricsRegistry } from '../../src/observability/metrics.js';
import { parseExposition } from '../helpers/metrics-text.js';

async function worker(slot: number, requests: number): Promise<MetricFamily[]> {
  const registry = new MetricsRegistry({ processMetrics: true, defaultLabels: { worker: String(slot) } });
  registry.counter({ name: 'requests_total', help: 'Requests', labelNames: ['type'] }).inc({ type: 'bind' }, requests);
  registry.histogram({ name: 'latency_seconds', help: 'Latency', labelNames: ['type'], buckets: [0.1] }).observe({ type: 'bind' }, 0.05);
  registry.gauge({ name: 'up', help: 'Up' }).set({}, 1);
  // Through the worker channel's structured clone and the primary's check, as in the cluster.
  const families = parseMetricFamilies(structuredClone(await registry.families()));
  assert.ok(families !== undefined);
  return families;
}

test('each family once; every worker series kept apart by its worker label, never summed; the primary unlabelled', async () => {
  const primary = new MetricsRegistry();
  primary.gauge({ name: 'up', help: 'Up' }).set({}, 1);
  const text = await mergeMetricFamilies([await primary.families(), await worker(1, 3), await worker(2, 5)]);
  const p = parseExposition(text);
  const lines = text.split('\n');
  assert.equal(lines.filter((l) => l === '# TYPE requests_total counter').length, 1);
  assert.equal(lines.filter((l) => l === '# TYPE up gauge').length, 1);
  const series = (name: string) => p.samples.filter((s) => s.name === name).map((s) => ({ ...s.labels, value: s.value }));
  assert.deepEqual(series('requests_total'), [
    { type: 'bind', worker: '1', value: 3 },
    { type: 'bind', worker: '2', value: 5 },
  ]);
  assert.deepEqual(series('up'), [{ value: 1 }, { worker: '1', value: 1 }, { worker: '2', value: 1 }]);
  assert.deepEqual(series('latency_seconds_count'), [
    { type: 'bind', worker: '1', value: 1 },
    { type: 'bind', worker: '2', value: 1 },
  ]);
  // Histogram samples stay inside their family, right after its TYPE line.
  const type = lines.indexOf('# TYPE latency_seconds histogram');
  const family = lines.slice(type + 1, type + 1 + 8);
  assert.equal(family.filter((l) => l.startsWith('latency_seconds_')).length, 8, text);
  // Per-worker gauges prom-client's own cluster aggregation would average, or omit, stay one series per worker.
  const startTimes = p.samples.filter((s) => s.name === 'process_start_time_seconds');
  assert.deepEqual(startTimes.map((s) => s.labels['worker']), ['1', '2']);
  assert.equal(series('process_resident_memory_bytes').length, 2);
});

test('anything but an array of metric families is refused', () => {
  assert.equal(parseMetricFamilies(undefined), undefined);
  assert.equal(parseMetricFamilies({ name: 'x' }), undefined);
  assert.equal(parseMetricFamilies([{ name: 'x', help: 'h', type: 'gauge', values: [{ value: '1', labels: {} }] }]), undefined);
  assert.equal(parseMetricFamilies([{ name: 'x', help: 'h', type: 'untyped', values: [] }]), undefined);
  assert.equal(parseMetricFamilies([{ name: 'x', help: 'h', type: 'gauge', values: [{ value: 1, labels: { a: {} } }] }]), undefined);
  assert.deepEqual(parseMetricFamilies([{ name: 'x', help: 'h', type: 'gauge', aggregator: 'sum', values: [{ value: 1, labels: { a: 'b' } }] }]), [
    { name: 'x', help: 'h', type: 'gauge', values: [{ value: 1, labels: { a: 'b' } }] },
  ]);
});
