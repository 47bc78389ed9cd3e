import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DuplicateCache, requestKey } from '../../../src/listeners/radius/duplicates.js';

const auth = Buffer.alloc(16, 1);

test('the key covers source address, port, Identifier and authenticator', () => {
  const keys = new Set([
    requestKey('127.0.0.1', 1000, 1, auth),
    requestKey('127.0.0.2', 1000, 1, auth),
    requestKey('127.0.0.1', 1001, 1, auth),
    requestKey('127.0.0.1', 1000, 2, auth),
    requestKey('127.0.0.1', 1000, 1, Buffer.alloc(16, 2)),
  ]);
  assert.equal(keys.size, 5);
});

test('a retransmission while pending joins the answer; after it, the answer is kept for the TTL', async () => {
  let now = 0;
  const cache = new DuplicateCache({ ttlMs: 5_000, maxEntries: 10, now: () => now });
  assert.equal(cache.lookup('k').kind, 'new');
  let resolve!: (b: Buffer) => void;
  const answer = new Promise<Buffer | undefined>((r) => (resolve = r));
  cache.begin('k', answer);
  const pending = cache.lookup('k');
  assert.equal(pending.kind, 'pending');
  resolve(Buffer.from('reply'));
  assert.deepEqual(pending.kind === 'pending' ? await pending.answer : undefined, Buffer.from('reply'));
  await answer;
  now = 4_999;
  assert.deepEqual(cache.lookup('k'), { kind: 'done', answer: Buffer.from('reply') });
  now = 5_000;
  assert.equal(cache.lookup('k').kind, 'new');
  assert.equal(cache.size, 0);
});

test('a dropped request (no answer) is remembered as such; a failed one is forgotten', async () => {
  const cache = new DuplicateCache({ ttlMs: 5_000, maxEntries: 10, now: () => 0 });
  const none = Promise.resolve(undefined);
  cache.begin('none', none);
  await none;
  assert.deepEqual(cache.lookup('none'), { kind: 'done', answer: undefined });
  const failed = Promise.reject(new Error('x'));
  cache.begin('failed', failed);
  await failed.catch(() => undefined);
  await new Promise((r) => setImmediate(r));
  assert.equal(cache.lookup('failed').kind, 'new');
});

test('bounded: the oldest answers go first, pending requests are never evicted', async () => {
  const cache = new DuplicateCache({ ttlMs: 5_000, maxEntries: 3, now: () => 0 });
  cache.begin('pending', new Promise(() => undefined));
  for (const key of ['a', 'b', 'c', 'd']) {
    const done = Promise.resolve(Buffer.from(key));
    cache.begin(key, done);
    await done;
  }
  assert.ok(cache.size <= 3, `size ${cache.size}`);
  assert.equal(cache.lookup('pending').kind, 'pending');
  assert.equal(cache.lookup('a').kind, 'new');
  assert.equal(cache.lookup('d').kind, 'done');
});

test('a full cache forgets its oldest sixteenth at once; expired answers are swept once per TTL', () => {
  let now = 0;
  const cache = new DuplicateCache({ ttlMs: 5_000, maxEntries: 32, now: () => now });
  for (let i = 0; i < 32; i++) cache.remember(`k${i}`, Buffer.from([i]));
  assert.equal(cache.size, 32);
  cache.remember('k32', undefined);
  assert.equal(cache.size, 31);
  assert.equal(cache.lookup('k0').kind, 'new');
  assert.equal(cache.lookup('k1').kind, 'new');
  assert.deepEqual(cache.lookup('k2'), { kind: 'done', answer: Buffer.from([2]) });
  now = 5_000;
  cache.remember('late', Buffer.from('x'));
  assert.equal(cache.size, 1);
  assert.deepEqual(cache.lookup('late'), { kind: 'done', answer: Buffer.from('x') });
});
