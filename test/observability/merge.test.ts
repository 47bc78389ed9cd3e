import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeExpositions } from '../../src/observability/merge.js';
import { MetricsRegistry } from '../../src/observability/metrics.js';

function worker(requests: number): string {
  const registry = new MetricsRegistry();
  registry.counter({ name: 'requests_total', help: 'Requests', labelNames: ['type'] }).inc({ type: 'bind' }, requests);
  registry.histogram({ name: 'latency_seconds', help: 'Latency', labelNames: ['type'], buckets: [0.1] }).observe({ type: 'bind' }, 0.05);
  registry.gauge({ name: 'up', help: 'Up' }).set({}, 1);
  return registry.exposition();
}

test('each family once, every worker sample labelled, the primary unlabelled', () => {
  const merged = mergeExpositions([
    { labels: {}, text: '# HELP up Up\n# TYPE up gauge\nup 1\n' },
    { labels: { worker: '1' }, text: worker(3) },
    { labels: { worker: '2' }, text: worker(5) },
  ]);
  const lines = merged.split('\n');
  assert.equal(lines.filter((l) => l === '# TYPE requests_total counter').length, 1);
  assert.equal(lines.filter((l) => l === '# TYPE up gauge').length, 1);
  assert.ok(lines.includes('requests_total{worker="1",type="bind"} 3'), merged);
  assert.ok(lines.includes('requests_total{worker="2",type="bind"} 5'), merged);
  assert.ok(lines.includes('up 1'), merged);
  assert.ok(lines.includes('up{worker="2"} 1'), merged);
  // Histogram series stay inside their family, right after its TYPE line.
  const type = lines.indexOf('# TYPE latency_seconds histogram');
  const family = lines.slice(type + 1, type + 1 + 8);
  assert.equal(family.filter((l) => l.startsWith('latency_seconds_')).length, 8, merged);
  assert.ok(family.includes('latency_seconds_bucket{worker="1",type="bind",le="0.1"} 1'), merged);
  assert.ok(family.includes('latency_seconds_count{worker="2",type="bind"} 1'), merged);
});

test('label values are inserted, never parsed: braces and quotes inside values survive', () => {
  const text = 'x_total{path="/a{b}",q="say \\"hi\\""} 2\nx_total{} 1\n';
  const merged = mergeExpositions([{ labels: { worker: 'w"1' }, text }]);
  assert.ok(merged.includes('x_total{worker="w\\"1",path="/a{b}",q="say \\"hi\\""} 2'), merged);
  assert.ok(merged.includes('x_total{worker="w\\"1"} 1'), merged);
});
