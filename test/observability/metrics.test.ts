import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { MetricsRegistry, outpostMetrics } from '../../src/observability/metrics.js';
import { parseExposition } from '../helpers/metrics-text.js';

describe('metrics registry', () => {
  test('counter and gauge round-trip through the text format, with escaping', async () => {
    const r = new MetricsRegistry();
    const c = r.counter({ name: 'test_requests_total', help: 'Requests.\nSecond line \\ backslash', labelNames: ['path', 'code'] });
    const g = r.gauge({ name: 'test_temperature', help: 'Temp', labelNames: ['room'] });
    c.inc({ path: '/a"b\\c\nd', code: 200 });
    c.inc({ path: '/a"b\\c\nd', code: 200 }, 2);
    c.inc({ path: '/x', code: '500' });
    c.inc({ path: '/x', code: '500' }, -5); // ignored: counters only go up
    c.inc({ path: '/x', code: '500' }, Number.NaN); // ignored
    g.set({ room: 'lab' }, -1.5);
    g.inc({ room: 'lab' });
    const p = parseExposition(await r.exposition());
    assert.equal(p.type.get('test_requests_total'), 'counter');
    assert.equal(p.help.get('test_requests_total'), 'Requests.\nSecond line \\ backslash');
    assert.equal(p.type.get('test_temperature'), 'gauge');
    const samples = p.samples.filter((s) => s.name.startsWith('test_'));
    assert.deepEqual(samples, [
      { name: 'test_requests_total', labels: { path: '/a"b\\c\nd', code: '200' }, value: 3 },
      { name: 'test_requests_total', labels: { path: '/x', code: '500' }, value: 1 },
      { name: 'test_temperature', labels: { room: 'lab' }, value: -0.5 },
    ]);
  });

  test('histogram buckets are cumulative and end with +Inf, _sum and _count; non-finite values are ignored', async () => {
    const r = new MetricsRegistry();
    const h = r.histogram({ name: 'test_duration_seconds', help: 'Durations', labelNames: ['op'] });
    for (const v of [0.001, 0.005, 0.007, 0.3, 2, 20]) h.observe({ op: 'bind' }, v);
    h.observe({ op: 'bind' }, Number.NaN);
    h.observe({ op: 'bind' }, Number.POSITIVE_INFINITY);
    const p = parseExposition(await r.exposition());
    assert.equal(p.type.get('test_duration_seconds'), 'histogram');
    const buckets = p.samples.filter((s) => s.name === 'test_duration_seconds_bucket');
    assert.deepEqual(
      buckets.map((b) => b.labels['le']),
      ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'],
    );
    assert.deepEqual(buckets.map((b) => b.value), [2, 3, 3, 3, 3, 3, 4, 4, 5, 5, 5, 6]);
    for (const b of buckets) assert.equal(b.labels['op'], 'bind');
    const sum = p.samples.find((s) => s.name === 'test_duration_seconds_sum');
    const count = p.samples.find((s) => s.name === 'test_duration_seconds_count');
    assert.ok(Math.abs((sum?.value ?? 0) - 22.313) < 1e-9);
    assert.equal(count?.value, 6);
  });

  test('custom buckets', async () => {
    const r = new MetricsRegistry();
    r.histogram({ name: 'test_custom', help: 'x', buckets: [1, 2] }).observe({}, 1.5);
    const p = parseExposition(await r.exposition());
    assert.deepEqual(
      p.samples.filter((s) => s.name === 'test_custom_bucket').map((s) => [s.labels['le'], s.value]),
      [['1', 0], ['2', 1], ['+Inf', 1]],
    );
    assert.throws(() => r.histogram({ name: 'test_unsorted', help: 'x', buckets: [2, 1] }), /increasing/);
  });

  test('series beyond the cap are dropped and counted', async () => {
    const r = new MetricsRegistry({ maxSeriesPerMetric: 3 });
    const c = r.counter({ name: 'test_capped_total', help: 'x', labelNames: ['id'] });
    for (let i = 0; i < 10; i++) c.inc({ id: i });
    c.inc({ id: 0 }); // an existing series still counts
    const p = parseExposition(await r.exposition());
    const capped = p.samples.filter((s) => s.name === 'test_capped_total');
    assert.deepEqual(capped.map((s) => [s.labels['id'], s.value]), [['0', 2], ['1', 1], ['2', 1]]);
    const dropped = p.samples.find((s) => s.name === 'ak_outpost_metric_series_dropped_total');
    assert.deepEqual(dropped, { name: 'ak_outpost_metric_series_dropped_total', labels: { metric: 'test_capped_total' }, value: 7 });
  });

  test('registering the same metric twice returns it; a conflicting shape throws', () => {
    const r = new MetricsRegistry();
    const a = r.gauge({ name: 'test_same', help: 'x', labelNames: ['a'] });
    assert.equal(r.gauge({ name: 'test_same', help: 'x', labelNames: ['a'] }), a);
    assert.throws(() => r.counter({ name: 'test_same', help: 'x', labelNames: ['a'] }), /already registered/);
    assert.throws(() => r.gauge({ name: 'test_same', help: 'x', labelNames: ['b'] }), /already registered/);
    const h = r.histogram({ name: 'test_h', help: 'x' });
    assert.equal(r.histogram({ name: 'test_h', help: 'x' }), h);
    assert.throws(() => r.histogram({ name: 'test_h', help: 'x', buckets: [1] }), /other buckets/);
    assert.throws(() => r.gauge({ name: 'bad-name', help: 'x' }), /invalid metric name/i);
    assert.throws(() => r.histogram({ name: 'test_le', help: 'x', labelNames: ['le'] }), /reserved/);
    assert.equal(outpostMetrics(r).info, outpostMetrics(r).info);
  });

  test('shared outpost metrics carry the reference labels', async () => {
    const r = new MetricsRegistry();
    const m = outpostMetrics(r);
    const info = { outpost_name: 'o', outpost_type: 'ldap', uuid: 'u', version: '2026.2.2', build: '' };
    m.info.set(info, 1);
    m.lastUpdate.set(info, 1700000000);
    m.connection.set({ outpost_name: 'o', outpost_type: 'ldap', uuid: 'u' }, 1);
    m.flowTimingGet.observe({ stage: 'ak-stage-identification', flow: 'f' }, 0.02);
    m.flowTimingPost.observe({ stage: 'ak-stage-password', flow: 'f' }, 0.03);
    const p = parseExposition(await r.exposition());
    assert.deepEqual(p.samples.find((s) => s.name === 'authentik_outpost_info')?.labels, info);
    assert.equal(p.samples.find((s) => s.name === 'authentik_outpost_last_update')?.value, 1700000000);
    assert.equal(p.type.get('authentik_outpost_info'), 'gauge');
    assert.equal(p.type.get('authentik_outpost_connection'), 'gauge');
    assert.equal(p.type.get('authentik_outpost_flow_timing_get_seconds'), 'histogram');
    assert.equal(p.samples.find((s) => s.name === 'authentik_outpost_flow_timing_post_seconds_count')?.labels['stage'], 'ak-stage-password');
  });

  test('process metrics are sampled at exposition time; default labels reach every sample', async () => {
    const r = new MetricsRegistry({ processMetrics: true, defaultLabels: { worker: '3' } });
    r.gauge({ name: 'test_up', help: 'x' }).set({}, 1);
    const p = parseExposition(await r.exposition());
    const get = (n: string) => p.samples.find((s) => s.name === n)?.value;
    assert.ok((get('process_resident_memory_bytes') ?? 0) > 1_000_000);
    assert.ok((get('process_cpu_seconds_total') ?? -1) > 0);
    const start = get('process_start_time_seconds') ?? 0;
    // prom-client rounds the start to the nearest second, so it may lie up to half a second ahead.
    assert.ok(start > 1_600_000_000 && start <= Date.now() / 1000 + 1);
    assert.equal(p.type.get('process_cpu_seconds_total'), 'counter');
    for (const s of p.samples) assert.equal(s.labels['worker'], '3', `${s.name} lacks the default label`);
    const cpu1 = get('process_cpu_seconds_total') ?? 0;
    const cpu2 = parseExposition(await r.exposition()).samples.find((s) => s.name === 'process_cpu_seconds_total')?.value ?? 0;
    assert.ok(cpu2 >= cpu1);
  });
});
