/**
 * Cost of recording one LDAP request metric with the labels the LDAP handler passes on every bind and search
 * (outpost_name, type, app), per call interface: prom-client's observe with a labels object, with a prebuilt
 * labels object and through a cached labels() child, and our MetricsRegistry (which finds the cached child and
 * calls it). CPU time of this process per call, so time spent waiting for a CPU on a busy host does not count;
 * the variants take turns within each round; the median and the fastest round per variant.
 *   node dist/bench/metrics-observe.js [--rounds 21] [--iterations 300000]
 */

import { Counter, Histogram, Registry } from 'prom-client';
import { MetricsRegistry } from '../src/observability/metrics.js';
import { benchCommandLine, intArg } from './lib/cli.js';

const TYPES = ['bind', 'search'] as const;
const OUTPOST = 'ldap-outpost';
const APP = 'app-slug';
const seconds = (i: number): number => 0.0001 + (i % 97) * 0.00037;

type Variant = [name: string, body: (i: number) => void];

function variants(): Variant[] {
  const prom = new Registry();
  const h = new Histogram({ name: 'h_seconds', help: 'h', labelNames: ['outpost_name', 'type', 'app'] as const, registers: [prom] });
  const c = new Counter({ name: 'c_total', help: 'c', labelNames: ['outpost_name', 'type', 'reason', 'app'] as const, registers: [prom] });
  const prebuilt = TYPES.map((type) => ({ outpost_name: OUTPOST, type, app: APP }));
  const children = TYPES.map((type) => h.labels(OUTPOST, type, APP));
  const counterChildren = TYPES.map((type) => c.labels(OUTPOST, type, 'flow_error', APP));
  const ours = new MetricsRegistry();
  const oh = ours.histogram({ name: 'h_seconds', help: 'h', labelNames: ['outpost_name', 'type', 'app'] });
  const oc = ours.counter({ name: 'c_total', help: 'c', labelNames: ['outpost_name', 'type', 'reason', 'app'] });
  return [
    ['prom-client histogram.observe({labels}, v)', (i) => h.observe({ outpost_name: OUTPOST, type: TYPES[i & 1]!, app: APP }, seconds(i))],
    ['prom-client histogram.observe(prebuilt labels, v)', (i) => h.observe(prebuilt[i & 1]!, seconds(i))],
    ['prom-client cached labels() child .observe(v)', (i) => children[i & 1]!.observe(seconds(i))],
    ['MetricsRegistry histogram.observe({labels}, v)', (i) => oh.observe({ outpost_name: OUTPOST, type: TYPES[i & 1]!, app: APP }, seconds(i))],
    ['prom-client counter.inc({labels})', (i) => c.inc({ outpost_name: OUTPOST, type: TYPES[i & 1]!, reason: 'flow_error', app: APP })],
    ['prom-client cached labels() child .inc()', (i) => counterChildren[i & 1]!.inc()],
    ['MetricsRegistry counter.inc({labels})', (i) => oc.inc({ outpost_name: OUTPOST, type: TYPES[i & 1]!, reason: 'flow_error', app: APP })],
  ];
}

function measure(list: readonly Variant[], rounds: number, iterations: number): void {
  for (const [, body] of list) for (let i = 0; i < 200_000; i++) body(i);
  const samples = list.map((): number[] => []);
  for (let r = 0; r < rounds; r++) {
    list.forEach(([, body], v) => {
      const start = process.cpuUsage();
      for (let i = 0; i < iterations; i++) body(i);
      const used = process.cpuUsage(start);
      samples[v]!.push(((used.user + used.system) * 1000) / iterations);
    });
  }
  list.forEach(([name], v) => {
    const sorted = samples[v]!.sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
    console.log(`${name.padEnd(52)} median ${median.toFixed(0).padStart(5)} ns CPU/call, fastest round ${sorted[0]!.toFixed(0).padStart(5)}`);
  });
}

const USAGE = `usage: node dist/bench/metrics-observe.js [--rounds N] [--iterations N]
  --rounds N       rounds per variant; the median and the fastest round are reported (default 21)
  --iterations N   calls per variant and round (default 300000)
`;

const o = benchCommandLine(
  'metrics-observe.js',
  USAGE,
  { options: { rounds: { type: 'string', default: '21' }, iterations: { type: 'string', default: '300000' } } },
  ({ values }) => ({ rounds: intArg('--rounds', values.rounds, 1, 99), iterations: intArg('--iterations', values.iterations, 1000, 100_000_000) }),
);
measure(variants(), o.rounds, o.iterations);
