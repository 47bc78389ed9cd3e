import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DirectoryLayout,
  baseEntryAttributes,
  containerAttributes,
  flattenCustomAttributes,
  formatNumber,
  generalizedTime,
  groupAttributes,
  mergeAttributes,
  sanitizeAttributeName,
  userAttributes,
  virtualGroupAttributes,
  type LdapAttribute,
} from '../../src/directory/entries.js';
import { normalizeDn, parseDn } from '../../src/protocol/ldap/dn.js';
import { group, user } from './fixtures.js';

const layout = new DirectoryLayout('DC=ldap,DC=goauthentik,DC=io');
const numbering = { uidStartNumber: 2000, gidStartNumber: 4000 };
const asRecord = (attributes: readonly LdapAttribute[]): Record<string, readonly string[]> =>
  Object.fromEntries(attributes.map((a) => [a.type, a.values]));

describe('custom attribute flattening (reference 3.11, 7.2)', () => {
  const cases: [string, Record<string, unknown>, [string, string[] | null][]][] = [
    ['string', { foo: 'bar' }, [['foo', ['bar']]]],
    ['string list', { foo: ['bar'] }, [['foo', ['bar']]]],
    ['mixed list', { foo: ['foo', 6] }, [['foo', ['foo', '6']]]],
    ['null drops nothing but has no values', { foo: null }, [['foo', null]]],
    ['null elements dropped', { foo: ['a', null, 'b'] }, [['foo', ['a', 'b']]]],
    ['booleans', { t: true, f: false }, [['f', ['false']], ['t', ['true']]]],
    ['numbers without exponent', { n: 1.5, big: 1e21, small: 1e-7 }, [['big', ['1000000000000000000000']], ['n', ['1.5']], ['small', ['0.0000001']]]],
    ['key sanitising', { 'goauthentik.io/user/sources': 'x' }, [['goauthentikio-user-sources', ['x']]]],
    ['nested object becomes a-b', { a: { b: 1 } }, [['a-b', ['1']]]],
    ['deeper nesting', { a: { b: { c: 'x' }, d: [1, 2] } }, [['a-b-c', ['x']], ['a-d', ['1', '2']]]],
    ['nested {"foo":{"foo":"bar"}} (authentik: map[foo:bar])', { foo: { foo: 'bar' } }, [['foo-foo', ['bar']]]],
    ['nested lists flatten', { l: [['a', 'b'], ['c']] }, [['l', ['a', 'b', 'c']]]],
    ['objects inside lists are JSON', { l: [{ x: 1 }, 'y'] }, [['l', ['{"x":1}', 'y']]]],
    ['sorted by name', { b: '1', a: '2', C: '3' }, [['C', ['3']], ['a', ['2']], ['b', ['1']]]],
    ['case-insensitive collisions merge', { mail2: 'a', MAIL2: 'b' }, [['mail2', ['a', 'b']]]],
    ['nested key collides with flat key', { 'a-b': 'flat', a: { b: 'nested' } }, [['a-b', ['flat', 'nested']]]],
    ['empty key dropped', { '.': 'x', '': 'y' }, []],
  ];
  for (const [name, input, expected] of cases) {
    test(name, () => {
      assert.deepEqual(
        flattenCustomAttributes(input).map((a) => [a.name, a.values]),
        expected,
      );
    });
  }

  test('%s becomes the username (users)', () => {
    assert.deepEqual(flattenCustomAttributes({ home: '/srv/%s/%s', list: ['%s'] }, 'bob'), [
      { name: 'home', values: ['/srv/bob/bob'] },
      { name: 'list', values: ['bob'] },
    ]);
  });

  test('deep nesting stops at JSON text', () => {
    let value: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 10; i++) value = { n: value };
    const [attribute] = flattenCustomAttributes({ root: value });
    assert.equal(attribute!.name, 'root' + '-n'.repeat(8));
    assert.equal(attribute!.values![0], '{"n":{"n":{"leaf":1}}}');
  });

  test('sanitizeAttributeName', () => {
    assert.equal(sanitizeAttributeName('a.b/c.d/e'), 'ab-cd-e');
  });
});

describe('value formatting', () => {
  test('formatNumber', () => {
    assert.equal(formatNumber(6), '6');
    assert.equal(formatNumber(-2.25), '-2.25');
    assert.equal(formatNumber(-1.5e-10), '-0.00000000015');
    assert.equal(formatNumber(1.25e22), '12500000000000000000000');
    assert.equal(formatNumber(0), '0');
  });

  test('generalizedTime: UTC, whole seconds', () => {
    assert.equal(generalizedTime('2024-03-04T05:06:07.999+02:00'), '20240304030607Z');
    assert.equal(generalizedTime('not a date'), undefined);
    assert.equal(generalizedTime(undefined), undefined);
  });
});

describe('DNs', () => {
  test('base is normalized to lower case', () => {
    assert.equal(layout.baseDn, 'dc=ldap,dc=goauthentik,dc=io');
    assert.equal(layout.usersDn, 'ou=users,dc=ldap,dc=goauthentik,dc=io');
  });

  test('names are escaped (RFC 4514) and parse back to the name', () => {
    for (const name of ['a,b+c "d"', ' lead', 'trail ', '#hash', 'semi;colon<>', 'back\\slash', 'ünï cødé']) {
      const dn = layout.userDn(name);
      assert.equal(parseDn(dn)[0]![0]!.value, name, dn);
      assert.equal(parseDn(dn).length, 5);
    }
    assert.equal(layout.userDn('a,b+c "d"'), 'cn=a\\,b\\+c \\"d\\",ou=users,dc=ldap,dc=goauthentik,dc=io');
    assert.equal(layout.groupDn('x=y'), 'cn=x=y,ou=groups,dc=ldap,dc=goauthentik,dc=io');
  });

  test('a built DN is already its normalized form, lower-cased', () => {
    for (const name of ['Alice', 'a,b+c "D"', ' Lead', 'İstanbul']) {
      const dn = layout.userDn(name);
      assert.equal(normalizeDn(dn), dn.toLowerCase());
    }
  });
});

describe('user entry (reference 3.10)', () => {
  test('fixture foo/bar (7.1) with zero start numbers', () => {
    const attributes = asRecord(
      userAttributes(
        { ...user(0, 'foo', { name: 'bar', email: '', isActive: false, dateJoined: undefined, lastUpdated: undefined, passwordChangeDate: undefined }) },
        layout,
        { uidStartNumber: 0, gidStartNumber: 0 },
      ),
    );
    assert.deepEqual(attributes.cn, ['foo']);
    assert.deepEqual(attributes.displayName, ['bar']);
    assert.deepEqual(attributes['ak-active'], ['FALSE']);
    assert.deepEqual(attributes.uidNumber, ['0']);
    // Deliberate: no empty mail, no memberOf without groups, no timestamps without dates.
    for (const absent of ['mail', 'memberOf', 'createTimestamp']) assert.equal(attributes[absent], undefined, absent);
  });

  test('every default, in order', () => {
    const u = user(5, 'alice', { isSuperuser: true, groups: [{ pk: 'g1', name: 'admins' }] });
    const attributes = userAttributes(u, layout, numbering);
    assert.deepEqual(
      attributes.map((a) => a.type),
      ['objectClass', 'cn', 'sAMAccountName', 'uid', 'name', 'displayName', 'sn', 'mail', 'memberOf', 'uidNumber', 'gidNumber', 'homeDirectory', 'ak-active', 'ak-superuser', 'pwdChangedTime', 'createTimestamp', 'modifyTimestamp'],
    );
    const r = asRecord(attributes);
    assert.deepEqual(r.objectClass, ['top', 'person', 'organizationalPerson', 'inetOrgPerson', 'user', 'posixAccount', 'goauthentik.io/ldap/user']);
    assert.deepEqual(r.sn, ['Name alice']);
    assert.deepEqual(r.memberOf, ['cn=admins,ou=groups,dc=ldap,dc=goauthentik,dc=io']);
    assert.deepEqual(r.uidNumber, ['2005']);
    assert.deepEqual(r.gidNumber, ['2005']);
    assert.deepEqual(r.homeDirectory, ['/home/alice']);
    assert.deepEqual(r['ak-superuser'], ['TRUE']);
    assert.deepEqual(r.pwdChangedTime, ['20240304030607Z']);
    assert.deepEqual(r.createTimestamp, ['20240102030405Z']);
  });

  test('custom attributes override defaults in place; objectClass adds; member(Of) protected; null hides', () => {
    const u = user(5, 'alice', {
      groups: [{ pk: 'g1', name: 'admins' }],
      attributes: {
        cn: 'custom-cn',
        objectClass: ['sambaSamAccount', 'USER'],
        memberOf: 'cn=fake,dc=x',
        mail: null,
        homeDirectory: '/srv/%s',
        zzz: 'last',
        uidNumber: 1234,
      },
    });
    const attributes = userAttributes(u, layout, numbering);
    const r = asRecord(attributes);
    assert.deepEqual(r.cn, ['custom-cn']);
    assert.equal(attributes[1]!.type, 'cn');
    assert.deepEqual(r.objectClass!.slice(-1), ['sambaSamAccount']);
    assert.equal(r.objectClass!.length, 8);
    assert.deepEqual(r.memberOf, ['cn=admins,ou=groups,dc=ldap,dc=goauthentik,dc=io']);
    assert.equal(r.mail, undefined);
    assert.deepEqual(r.homeDirectory, ['/srv/alice']);
    // A numeric custom uidNumber is used for uidNumber and, by default, gidNumber.
    assert.deepEqual(r.uidNumber, ['1234']);
    assert.deepEqual(r.gidNumber, ['1234']);
    assert.equal(attributes.at(-1)!.type, 'zzz');
  });

  test('string uidNumber / gidNumber overrides (authentik 2024.2)', () => {
    const r = asRecord(userAttributes(user(5, 'a', { attributes: { uidNumber: '7', gidNumber: '9' } }), layout, numbering));
    assert.deepEqual([r.uidNumber, r.gidNumber], [['7'], ['9']]);
    const v = asRecord(virtualGroupAttributes(user(5, 'a', { attributes: { gidNumber: '9' } }), layout, numbering));
    assert.deepEqual(v.gidNumber, ['9']);
  });

  test('mergeAttributes drops empty defaults without custom attributes', () => {
    assert.deepEqual(mergeAttributes([{ type: 'a', values: [] }, { type: 'b', values: ['1'] }], []), [{ type: 'b', values: ['1'] }]);
  });
});

describe('group, virtual group, container and base entries', () => {
  test('group: members then child groups, parents in memberOf, upper-case boolean', () => {
    const g = group('5d5b5e4e-0000-4000-8000-000000000001', 'admins', 42, {
      isSuperuser: true,
      users: [{ pk: 1, username: 'alice' }],
      children: [{ pk: 'c', name: 'child' }],
      parents: [{ pk: 'p', name: 'parent' }],
      attributes: { gidNumber: 5000, note: 'x' },
    });
    const r = asRecord(groupAttributes(g, layout, numbering));
    assert.deepEqual(r.objectClass, ['group', 'groupOfUniqueNames', 'groupOfNames', 'goauthentik.io/ldap/group', 'posixGroup']);
    assert.deepEqual(r.uid, ['5d5b5e4e-0000-4000-8000-000000000001']);
    assert.deepEqual(r.member, ['cn=alice,ou=users,dc=ldap,dc=goauthentik,dc=io', 'cn=child,ou=groups,dc=ldap,dc=goauthentik,dc=io']);
    assert.deepEqual(r.memberOf, ['cn=parent,ou=groups,dc=ldap,dc=goauthentik,dc=io']);
    assert.deepEqual(r['ak-superuser'], ['TRUE']);
    assert.deepEqual(r.gidNumber, ['5000']);
    assert.deepEqual(r.note, ['x']);
    assert.deepEqual(asRecord(groupAttributes(group('x', 'g', 7), layout, numbering)).gidNumber, ['4007']);
  });

  test('virtual group', () => {
    const r = asRecord(virtualGroupAttributes(user(3, 'bob', { attributes: { ignored: 'x' } }), layout, numbering));
    assert.deepEqual(Object.keys(r), ['objectClass', 'cn', 'sAMAccountName', 'uid', 'gidNumber', 'member', 'ak-superuser']);
    assert.deepEqual(r.objectClass!.at(-1), 'goauthentik.io/ldap/virtual-group');
    assert.deepEqual(r.member, ['cn=bob,ou=users,dc=ldap,dc=goauthentik,dc=io']);
    assert.deepEqual(r.gidNumber, ['2003']);
  });

  test('container has ou (its RDN) and cn', () => {
    assert.deepEqual(asRecord(containerAttributes('users')), { objectClass: ['top', 'nsContainer', 'organizationalUnit'], ou: ['users'], cn: ['users'] });
  });

  test('base entry class follows the first RDN', () => {
    assert.deepEqual(asRecord(baseEntryAttributes(layout)), { objectClass: ['top', 'domain', 'dcObject'], dc: ['ldap'] });
    assert.deepEqual(asRecord(baseEntryAttributes(new DirectoryLayout('o=Example'))), { objectClass: ['top', 'organization'], o: ['example'] });
  });
});
