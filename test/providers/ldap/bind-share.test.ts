import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { BindCache, type CachedBind } from '../../../src/providers/ldap/bind-cache.js';
import { parseSharedBind } from '../../../src/providers/ldap/bind-share.js';

const entry: CachedBind = { userPk: 7, username: 'alice', canSearch: false, sessionHash: 'abc', fingerprint: '["x"]', passwordChangesVisible: true };
const dn = 'cn=alice,ou=users,dc=example';

test('two caches with one key: an entry published by one is a hit in the other, for that password only', () => {
  const key = randomBytes(32);
  const published: { digest: string; entry: CachedBind }[] = [];
  const a = new BindCache({ maxEntries: 10, ttlMs: 60_000, key, onStore: (digest, e) => published.push({ digest, entry: e }) });
  const b = new BindCache({ maxEntries: 10, ttlMs: 60_000, key });
  a.set(dn, Buffer.from('pw'), entry);
  assert.equal(published.length, 1);
  assert.ok(!published[0]!.digest.includes('pw'));
  const wire = parseSharedBind(JSON.parse(JSON.stringify({ providerPk: 1, ...published[0]! })));
  assert.ok(wire !== undefined);
  b.adopt(wire.digest, wire.entry);
  assert.deepEqual(b.get(dn, Buffer.from('pw')), entry);
  assert.equal(b.get(dn, Buffer.from('other')), undefined);
  // Adopting does not publish again (no echo between workers).
  assert.equal(published.length, 1);
});

test('caches with different keys share nothing', () => {
  const published: string[] = [];
  const a = new BindCache({ maxEntries: 10, ttlMs: 60_000, onStore: (digest) => published.push(digest) });
  const b = new BindCache({ maxEntries: 10, ttlMs: 60_000 });
  a.set(dn, Buffer.from('pw'), entry);
  b.adopt(published[0]!, entry);
  assert.equal(b.get(dn, Buffer.from('pw')), undefined);
});

test('parseSharedBind refuses malformed messages', () => {
  const good = { providerPk: 1, digest: 'd', entry: { userPk: 2, username: 'u', canSearch: true } };
  assert.ok(parseSharedBind(good) !== undefined);
  for (const bad of [
    null,
    'x',
    { ...good, providerPk: '1' },
    { ...good, digest: 'd'.repeat(2000) },
    { ...good, entry: { ...good.entry, canSearch: 'yes' } },
    { ...good, entry: { ...good.entry, userPk: 1.5 } },
    { ...good, entry: { ...good.entry, sessionHash: 5 } },
    { ...good, entry: null },
  ]) {
    assert.equal(parseSharedBind(bad), undefined, JSON.stringify(bad));
  }
});

test('parseSharedBind: an entry that does not say the core shows password changes is blind', () => {
  const message = (entry: Record<string, unknown>) => ({ providerPk: 1, digest: 'd', entry: { userPk: 2, username: 'u', canSearch: true, ...entry } });
  assert.equal(parseSharedBind(message({ passwordChangesVisible: true }))?.entry.passwordChangesVisible, true);
  for (const flag of [undefined, false, 'true', 1]) {
    assert.equal(parseSharedBind(message({ passwordChangesVisible: flag }))?.entry.passwordChangesVisible, false, String(flag));
  }
});
