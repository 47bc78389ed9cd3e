import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  atLeast,
  atMost,
  fmtCpu,
  fmtInt,
  fmtNum,
  fmtRatio,
  median,
  percentile,
  ratio,
  renderReport,
  throughputTarget,
} from '../../bench/lib/report.js';

describe('bench report arithmetic', () => {
  test('ratio is ours over theirs, NaN when slapd has no figure', () => {
    assert.equal(ratio(300, 200), 1.5);
    assert.ok(Number.isNaN(ratio(300, 0)));
    assert.ok(Number.isNaN(ratio(300, NaN)));
    assert.ok(Number.isNaN(ratio(NaN, 200)));
  });

  test('targets: at least / at most, no verdict without a figure', () => {
    assert.equal(atLeast(1.5, 1.5), 'yes');
    assert.equal(atLeast(1.49, 1.5), 'no');
    assert.equal(atLeast(NaN, 1.5), '—');
    assert.equal(atMost(1.0, 1.0), 'yes');
    assert.equal(atMost(1.01, 1.0), 'no');
    assert.equal(atMost(NaN, 1.0), '—');
  });

  test('throughput target: 0.9x with one connection, 1.5x under concurrency', () => {
    assert.equal(throughputTarget(1), 0.9);
    assert.equal(throughputTarget(8), 1.5);
    assert.equal(throughputTarget(64), 1.5);
  });

  test('nearest-rank percentiles', () => {
    const samples = [5, 1, 4, 2, 3, 6, 7, 8, 9, 10];
    assert.equal(percentile(samples, 50), 5);
    assert.equal(percentile(samples, 90), 9);
    assert.equal(percentile(samples, 99), 10);
    assert.equal(percentile(samples, 100), 10);
    assert.equal(percentile([42], 1), 42);
    assert.equal(median([3, 1, 2]), 2);
    assert.ok(Number.isNaN(percentile([], 50)));
  });

  test('number formatting', () => {
    assert.equal(fmtInt(12345.6), '12,346');
    assert.equal(fmtNum(1234.5), '1,235');
    assert.equal(fmtNum(12.345), '12.3');
    assert.equal(fmtNum(1.2345), '1.23');
    assert.equal(fmtNum(0.012345), '0.012');
    assert.equal(fmtNum(NaN), 'n/a');
    assert.equal(fmtRatio(1.5), '1.50×');
    assert.equal(fmtRatio(NaN), 'n/a');
    assert.equal(fmtCpu(0.5, 1), '0.50 s (50%)');
    assert.equal(fmtCpu(undefined, 1), '—');
  });
});

describe('bench report rendering', () => {
  test('one figures table, one CPU table with a column per process, numbered notes, pipes escaped', () => {
    const text = renderReport(
      { date: 'D', cpus: 2, cpuModel: 'CPU', node: 'v20', slapd: '2.5', directory: 'dir', settings: 'set' },
      [
        { section: '1', what: 'search (a|b)', load: '1 conn', ours: '10 ops/s', slapd: '5 ops/s', ratio: '2.00×', target: '≥0.9×', met: 'yes' },
      ],
      [
        { run: 'r1', server: 'slapd', wall: 2, ops: 100, cpu: { slapd: 1, ldapload: 0.5 } },
        { run: 'r2', server: 'ak-outpost', wall: 2, ops: 50, cpu: { 'ak-outpost': 2 } },
      ],
      ['first note', 'second note'],
    );
    assert.match(text, /\| 1 \| search \(a\\\|b\) \| 1 conn \| 10 ops\/s \| 5 ops\/s \| 2\.00× \| ≥0\.9× \| yes \|/);
    assert.match(text, /\| run \| server \| window \| ops \| slapd \| ldapload \| ak-outpost \|/);
    assert.match(text, /\| r1 \| slapd \| 2\.00 s \| 100 \| 1\.00 s \(50%\) \| 0\.50 s \(25%\) \| — \|/);
    assert.match(text, /\n1\. first note\n2\. second note\n/);
    assert.match(text, /machine: 2 CPUs, CPU; Node v20; slapd 2\.5/);
  });
});
