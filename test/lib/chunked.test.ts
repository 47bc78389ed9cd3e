import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkedArray } from '../../src/lib/chunked.js';

test('ChunkedArray reads back what was pushed and set, across chunk boundaries', () => {
  const a = new ChunkedArray<string>();
  const n = 3 * 8192 + 17;
  for (let i = 0; i < n; i++) a.push(`v${i}`);
  assert.equal(a.length, n);
  for (const i of [0, 1, 8191, 8192, 8193, 16383, 16384, 24576, n - 1]) assert.equal(a.get(i), `v${i}`);
  a.set(8192, 'changed');
  assert.equal(a.get(8192), 'changed');
  assert.equal(a.get(8191), 'v8191');
  assert.equal(a.get(8193), 'v8193');
  assert.throws(() => a.set(n, 'x'), RangeError);
  assert.throws(() => a.set(-1, 'x'), RangeError);
});
