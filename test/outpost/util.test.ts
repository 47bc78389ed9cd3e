// Tests of src/util (backoff, coarse timers), kept with the outpost runtime that uses them.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { EVENT_LINK_LIMITS } from '../../src/config/limits.js';
import { Backoff, delay } from '../../src/util/backoff.js';
import { CoarseTimers } from '../../src/util/coarse-timers.js';

describe('backoff', () => {
  test("the event link's steps: 1 s doubling, capped at 5 min, reset", () => {
    const b = new Backoff({ initialMs: EVENT_LINK_LIMITS.backoffInitialMs, maxMs: EVENT_LINK_LIMITS.backoffMaxMs });
    const seq = Array.from({ length: 12 }, () => b.next());
    assert.deepEqual(seq, [1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000, 300000, 300000, 300000]);
    b.reset();
    assert.equal(b.next(), 1000);
    assert.throws(() => new Backoff({ initialMs: 0, maxMs: 1000 }), RangeError);
  });

  test('delay resolves true after the time, false when aborted', async () => {
    assert.equal(await delay(1), true);
    const ac = new AbortController();
    const p = delay(60_000, ac.signal);
    ac.abort();
    assert.equal(await p, false);
    assert.equal(await delay(1, ac.signal), false);
  });
});

async function waitUntil(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!cond()) {
    assert.ok(Date.now() < deadline, 'timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('coarse timers', () => {
  // Only ordering is asserted: how stale now() gets depends on when the loaded machine runs the ticker.
  test('now() starts at the wall clock, never runs ahead of it, and advances', async () => {
    const before = Date.now();
    const t = new CoarseTimers({ resolutionMs: 20 });
    try {
      const first = t.now();
      assert.ok(first >= before && first <= Date.now());
      await waitUntil(() => t.now() > first);
      assert.ok(t.now() <= Date.now());
      const firstMono = t.monotonicNow();
      await waitUntil(() => t.monotonicNow() > firstMono);
      assert.ok(t.monotonicNow() <= performance.now());
    } finally {
      t.close();
    }
  });

  test('timeouts fire once, can be cancelled and refreshed', async () => {
    const t = new CoarseTimers({ resolutionMs: 10 });
    try {
      let fired = 0;
      let cancelledFired = 0;
      t.setTimeout(() => void (fired += 1), 20);
      const c = t.setTimeout(() => void (cancelledFired += 1), 20);
      c.cancel();
      let refreshedAt = 0;
      const start = Date.now();
      const r = t.setTimeout(() => void (refreshedAt = Date.now()), 200);
      await new Promise((res) => setTimeout(res, 50));
      const refreshedFrom = Date.now();
      r.refresh(); // pushes the deadline to 200 ms from now
      await waitUntil(() => refreshedAt > 0);
      assert.equal(fired, 1);
      assert.equal(cancelledFired, 0);
      assert.ok(refreshedAt - refreshedFrom >= 195, `refreshed timeout fired ${refreshedAt - refreshedFrom} ms after refresh`);
      assert.ok(refreshedAt - start >= 245);
      assert.equal(t.size, 0);
    } finally {
      t.close();
    }
  });

  test('close drops armed timeouts', async () => {
    const t = new CoarseTimers({ resolutionMs: 10 });
    let fired = false;
    t.setTimeout(() => void (fired = true), 10);
    t.close();
    await new Promise((res) => setTimeout(res, 40));
    assert.equal(fired, false);
    assert.throws(() => t.setTimeout(() => {}, 1), /closed/);
  });
});
