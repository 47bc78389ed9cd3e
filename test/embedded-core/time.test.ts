import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Instant, preciseNowMs } from '../../src/embedded-core/time.js';

test('DRF output keeps microseconds, and drops the fraction when it is zero (Python isoformat)', () => {
  assert.equal(Instant.parseIso('2026-11-23T18:13:20.891234Z')?.toDrf(), '2026-11-23T18:13:20.891234Z');
  assert.equal(Instant.parseIso('2026-11-23T20:13:20.891234+02:00')?.toDrf(), '2026-11-23T18:13:20.891234Z');
  assert.equal(Instant.parseIso('2026-11-23T18:13:20.5Z')?.toDrf(), '2026-11-23T18:13:20.500000Z');
  assert.equal(Instant.parseIso('2026-11-23T18:13:20.1234567Z')?.toDrf(), '2026-11-23T18:13:20.123456Z');
  assert.equal(Instant.parseIso('2026-11-23T18:13:20Z')?.toDrf(), '2026-11-23T18:13:20Z');
  assert.equal(Instant.parseIso('2026-11-23')?.toDrf(), '2026-11-23T00:00:00Z');
  assert.equal(Instant.parseIso('1969-12-31T23:59:59.250001Z')?.toDrf(), '1969-12-31T23:59:59.250001Z');
  assert.equal(Instant.parseIso('not a date'), undefined);
});

test('fractional milliseconds become microseconds', () => {
  const instant = Instant.fromEpochMs(Date.UTC(2026, 10, 23, 18, 13, 20, 891) + 0.234);
  assert.equal(instant.toDrf(), '2026-11-23T18:13:20.891234Z');
  assert.equal(instant.epochMs, Date.UTC(2026, 10, 23, 18, 13, 20, 891));
  assert.equal(Instant.fromDate(new Date(Date.UTC(2026, 0, 1))).toDrf(), '2026-01-01T00:00:00Z');
});

test('the precise clock follows the wall clock at sub-millisecond resolution', () => {
  const before = Date.now();
  const now = preciseNowMs();
  // timeOrigin is the wall clock at process start; the monotonic clock may run a little apart from it.
  assert.ok(Math.abs(now - before) < 60_000, `${now} vs ${before}`);
  const fractions = new Set(Array.from({ length: 50 }, () => Math.round((preciseNowMs() % 1) * 1000)));
  assert.ok(fractions.size > 1, 'sub-millisecond digits vary');
});
