/** The store of flow runs paused at an MFA Access-Challenge: single use, expiry, cap. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PausedRuns, type PausedRun } from '../../../src/providers/radius/paused-runs.js';
import { FakeCore } from '../../helpers/fake-core.js';

const core = new FakeCore();
const run = (username: string): PausedRun => ({
  attempt: core.newFlowAttempt({ remoteIp: '10.0.0.1', innerQuery: {}, timeoutMs: 1_000 }),
  provider: 1,
  username,
});
const state = (text: string): Buffer => Buffer.from(text);

test('a run is taken once, by its exact State', () => {
  const runs = new PausedRuns();
  const carol = run('carol');
  assert.ok(runs.add(state('state-a'), carol));
  assert.equal(runs.take(state('state-b')), undefined);
  assert.equal(runs.take(state('state-a')), carol);
  assert.equal(runs.take(state('state-a')), undefined);
  assert.equal(runs.size, 0);
});

test('a run not taken within the TTL is gone', () => {
  let now = 1_000;
  const runs = new PausedRuns({ ttlMs: 60_000, now: () => now });
  runs.add(state('early'), run('a'));
  now += 30_000;
  runs.add(state('later'), run('b'));
  now += 30_000;
  assert.equal(runs.take(state('early')), undefined, 'expired at exactly the TTL');
  assert.equal(runs.take(state('later'))?.username, 'b');
});

test('the cap refuses new runs while the live ones fill it; expired ones make room', () => {
  let now = 0;
  const runs = new PausedRuns({ maxRuns: 2, ttlMs: 100, now: () => now });
  assert.ok(runs.add(state('1'), run('a')));
  assert.ok(runs.add(state('2'), run('b')));
  assert.equal(runs.add(state('3'), run('c')), false);
  assert.equal(runs.size, 2);
  assert.equal(runs.take(state('3')), undefined);
  runs.take(state('1'));
  assert.ok(runs.add(state('3'), run('c')), 'a taken run makes room');
  now = 100;
  assert.ok(runs.add(state('4'), run('d')), 'expired runs make room');
  assert.equal(runs.size, 1);
  runs.clear();
  assert.equal(runs.size, 0);
});
