/**
 * Attribute selection through the per-shape memo (the unrestricted view's fast path) gives exactly what the
 * generic walk over every stored attribute gives (entryById), for every entry and a spread of selections.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSnapshotFromData } from '../../src/directory/build.js';
import { parseAttributeSelection } from '../../src/directory/attributes.js';
import { normalizeDnValue } from '../../src/directory/matching.js';
import { BASE, FULL, PROVIDER, query, smallDirectory } from './fixtures.js';

test('selected attributes: per-shape memo equals the walk over every stored attribute', async () => {
  const { users, groups } = smallDirectory();
  const snapshot = await buildSnapshotFromData(PROVIDER, users, groups);
  const selections = [['cn'], ['cn', 'mail', 'memberOf'], ['MAIL', 'uid'], ['*'], ['+'], ['*', '+'], ['1.1'], ['cn', '+'], ['entryDN', 'member'], ['nosuch']];
  for (const attributes of selections) {
    for (const typesOnly of [false, true]) {
      const result = snapshot.search(query(BASE, '(objectClass=*)', { attributes, typesOnly }), FULL);
      assert.ok(result.count > 10);
      for (let i = 0; i < result.count; i++) {
        const fast = result.entry(i);
        const id = snapshot.idOf(fast.dn.toLowerCase()) ?? snapshot.idOf(fast.dn);
        assert.ok(id !== undefined, fast.dn);
        const slow = snapshot.entryById(id, parseAttributeSelection(attributes));
        const expected = typesOnly ? slow.attributes.map((a) => ({ type: a.type, values: [] })) : slow.attributes;
        assert.deepEqual(fast.attributes, expected, `${fast.dn} ${attributes.join(',')} typesOnly=${typesOnly}`);
      }
    }
  }
});

test('every DN key of the directory normalizes to itself, so a filter value equal to a key can skip parsing', async () => {
  const { users, groups } = smallDirectory();
  const snapshot = await buildSnapshotFromData(PROVIDER, users, groups);
  const all = snapshot.search(query(BASE, '(objectClass=*)', { attributes: ['1.1'] }), FULL);
  assert.ok(all.count > 10);
  for (let i = 0; i < all.count; i++) {
    const dn = all.entry(i).dn;
    const key = normalizeDnValue(dn);
    assert.ok(key !== null, dn);
    assert.equal(normalizeDnValue(key), key, dn);
    assert.equal(snapshot.dnKeyOf(key), key, dn);
    assert.equal(snapshot.dnKeyOf(dn), key, dn);
    assert.equal(snapshot.dnKeyOf(dn.toUpperCase()), normalizeDnValue(dn.toUpperCase()), dn);
  }
});
