import { test } from 'node:test';
import assert from 'node:assert/strict';
import { epochMicros } from '../../src/lib/time.js';

test('epochMicros keeps the microseconds Django writes', () => {
  const base = Date.UTC(2026, 10, 23, 18, 13, 20) * 1000;
  assert.equal(epochMicros('2026-11-23T18:13:20.891234Z'), base + 891_234);
  assert.equal(epochMicros('2026-11-23T18:13:20.891235Z') - epochMicros('2026-11-23T18:13:20.891234Z'), 1);
  assert.equal(epochMicros('2026-11-23T18:13:20.891Z'), base + 891_000);
  assert.equal(epochMicros('2026-11-23T18:13:20Z'), base);
  assert.equal(epochMicros('2026-11-23T18:13:20.5+00:00'), base + 500_000);
  assert.equal(epochMicros('2026-11-23T19:13:20.000001+01:00'), base + 1);
});

test('epochMicros: absent or invalid is NaN', () => {
  for (const bad of [undefined, '', 'yesterday', '2026-13-40T99:99:99Z']) assert.ok(Number.isNaN(epochMicros(bad)), String(bad));
});
