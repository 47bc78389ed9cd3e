/**
 * The cheaper load paths agree with the general ones: GeneralizedTime by digit copying, the builder's reuse of
 * the previous entry's attribute ids and shape, and encoding entries when first sent instead of at build time.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSnapshot, buildSnapshotFromData } from '../../src/directory/build.js';
import { encodeEntryOp } from '../../src/protocol/ldap/search-response.js';
import { DirectoryLayout, generalizedTime, userAttributes } from '../../src/directory/entries.js';
import { parseAttributeSelection } from '../../src/directory/attributes.js';
import { BASE, FULL, PROVIDER, generatedCore, group, link, query, user } from './fixtures.js';

/** The conversion through Date, as GeneralizedTime was computed before the digit-copying path. */
function throughDate(iso: string): string | undefined {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return undefined;
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  if (year < 0 || year > 9999) return undefined;
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return `${String(year).padStart(4, '0')}${p2(d.getUTCMonth() + 1)}${p2(d.getUTCDate())}${p2(d.getUTCHours())}${p2(d.getUTCMinutes())}${p2(d.getUTCSeconds())}Z`;
}

describe('generalizedTime', () => {
  test('equals the conversion through Date, valid dates or not', () => {
    const samples = [
      '2024-02-29T23:59:59Z',
      '2023-02-29T00:00:00Z',
      '2023-02-30T00:00:00.5Z',
      '1900-02-29T00:00:00Z',
      '2000-02-29T00:00:00Z',
      '2024-01-01T24:00:00Z',
      '2024-01-01T23:59:60Z',
      '2024-13-01T00:00:00Z',
      '0000-01-01T00:00:00Z',
      '9999-12-31T23:59:59.999999Z',
      '2024-01-01T00:00:00.Z',
      '2024-01-01T00:00:00.123456+00:00',
      '2024-01-01T00:00:00-00:00',
      '2024-03-04T05:06:07.999+02:00',
      '2024-01-01T00:00:00',
      '+002024-01-01T00:00:00Z',
    ];
    let seed = 1;
    const next = (n: number): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    const p2 = (n: number): string => String(n).padStart(2, '0');
    for (let i = 0; i < 5000; i++) {
      const fraction = ['', '.1', '.123456'][next(3)]!;
      const zone = ['Z', '+00:00', '+01:30', ''][next(4)]!;
      samples.push(`${String(next(10000)).padStart(4, '0')}-${p2(next(14))}-${p2(next(33))}T${p2(next(26))}:${p2(next(62))}:${p2(next(62))}${fraction}${zone}`);
    }
    for (const iso of samples) assert.equal(generalizedTime(iso), throughDate(iso), iso);
    assert.equal(generalizedTime('2024-01-02T03:04:05.678901Z'), '20240102030405Z');
  });
});

describe('builder', () => {
  test('entries with alternating attribute lists, aliases and collisions keep their own attributes', async () => {
    const users = [
      user(1, 'a', { attributes: { surname: 'S' } }),
      user(2, 'b', { attributes: { surname: 'T' } }),
      user(3, 'c'),
      user(4, 'd', { attributes: { surname: 'U', SN: 'V' } }),
      user(5, 'e', { attributes: { surname: 'W' } }),
      user(6, 'f', { email: '' }),
      user(7, 'g', { attributes: { mail: null, department: 'x' } }),
    ];
    const groups = [group('00000000-0000-4000-8000-000000000001', 'g1', 1)];
    link(users, groups, { g1: ['a', 'c', 'e'] });
    const snapshot = await buildSnapshotFromData(PROVIDER, users, groups);
    const layout = new DirectoryLayout(PROVIDER.baseDn);
    const all = parseAttributeSelection(['*', '+']);
    for (const u of users) {
      const expected = userAttributes(u, layout, PROVIDER);
      // The snapshot keeps the first of two names of one attribute.
      const seen = new Set<string>();
      const kept = expected.filter((a) => {
        const key = a.type.toLowerCase() === 'surname' ? 'sn' : a.type.toLowerCase();
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
      const id = snapshot.idOf(layout.userDn(u.username))!;
      const stored = snapshot.entryById(id, all).attributes.filter((a) => !['entryDN', 'entryUUID', 'hasSubordinates', 'subschemaSubentry'].includes(a.type));
      assert.deepEqual(
        stored.map((a) => [a.type.toLowerCase(), a.values]),
        kept.map((a) => [a.type.toLowerCase() === 'surname' ? 'sn' : a.type.toLowerCase(), a.values]),
        u.username,
      );
    }
  });
});

describe('encoding on demand', () => {
  const core = generatedCore(3000, 100, 3, 500);

  test('nothing is encoded at build time; what a `*` search sends is kept, with the same bytes', async () => {
    const snapshot = await buildSnapshot(core, PROVIDER, { pageSize: 500 });
    assert.equal(snapshot.preEncodedCount, 0);
    const eager = await buildSnapshot(core, PROVIDER, { pageSize: 500, encodeOnDemand: false });
    assert.equal(eager.preEncodedCount, eager.size);
    const one = query(BASE, '(cn=user7)');
    assert.deepEqual([...snapshot.search(one, FULL)], [...eager.search(one, FULL)]);
    assert.equal(snapshot.preEncodedCount, 2, 'the user and its virtual group');
    const all = query(BASE, '(objectClass=*)');
    const first = [...snapshot.search(all, FULL)];
    assert.equal(snapshot.preEncodedCount, snapshot.size);
    assert.deepEqual([...snapshot.search(all, FULL)], first);
    assert.deepEqual(first, [...eager.search(all, FULL)]);
    const result = snapshot.search(all, FULL);
    for (let i = 0; i < result.count; i += 97) {
      const entry = result.entry(i);
      assert.deepEqual(result.encoded(i), encodeEntryOp(entry.dn, entry.attributes), entry.dn);
    }
    // Selections other than all user attributes are not kept.
    const cnOnly = await buildSnapshot(core, PROVIDER, { pageSize: 500 });
    assert.equal(cnOnly.search(query(BASE, '(objectClass=*)', { attributes: ['cn'] }), FULL).count, cnOnly.size);
    for (const _ of cnOnly.search(query(BASE, '(objectClass=*)', { attributes: ['cn'] }), FULL));
    assert.equal(cnOnly.preEncodedCount, 0);
  });

  test('keeps entries only within the byte budget; the rest still encode to the same bytes', async () => {
    const budgeted = await buildSnapshot(core, PROVIDER, { pageSize: 500, preEncodeBytes: 20_000 });
    const eager = await buildSnapshot(core, PROVIDER, { pageSize: 500, encodeOnDemand: false });
    const all = query(BASE, '(objectClass=*)');
    assert.deepEqual([...budgeted.search(all, FULL)], [...eager.search(all, FULL)]);
    assert.ok(budgeted.preEncodedCount > 0 && budgeted.preEncodedCount < budgeted.size, `${budgeted.preEncodedCount}`);
    assert.ok(budgeted.encodedBytes <= 20_000 && budgeted.encodedBytes > 15_000, `${budgeted.encodedBytes}`);
    assert.deepEqual([...budgeted.search(all, FULL)], [...eager.search(all, FULL)]);
  });
});
