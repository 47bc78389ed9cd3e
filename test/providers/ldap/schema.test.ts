import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { parseFilter } from '../../../src/protocol/ldap/filter.js';
import { rootDseEntry } from '../../../src/providers/ldap/rootdse.js';
import { attributeTypes, objectClassDefs, schemaAttribute, subschemaEntry } from '../../../src/directory/schema.js';
import { searchEntries, searchSingleEntry } from '../../../src/providers/ldap/search/single.js';
import type { SearchQuery } from '../../../src/directory/types.js';

const values = (type: string): readonly string[] => subschemaEntry.attributes.find((a) => a.type === type)?.values ?? [];
const q = (baseObject: string, filter: string, scope: 0 | 1 | 2 = 0, attributes: string[] = []): SearchQuery => ({
  baseObject,
  scope,
  filter: parseFilter(filter),
  attributes,
  typesOnly: false,
  sizeLimit: 0,
});

describe('cn=subschema', () => {
  test('holds every attribute type and object class, with authentik\'s custom ones', () => {
    assert.equal(values('attributeTypes').length, attributeTypes.length);
    assert.equal(values('objectClasses').length, objectClassDefs.length);
    assert.ok(values('attributeTypes').includes("( 1.3.6.1.4.1.26027.1.1.2 NAME ( 'ak-superuser' 'goauthentik.io/ldap/superuser' ) SYNTAX 1.3.6.1.4.1.1466.115.121.1.7 SINGLE-VALUE )"));
    assert.ok(values('attributeTypes').includes("( 2.5.18.1 NAME 'createTimestamp' SYNTAX 1.3.6.1.4.1.1466.115.121.1.24 SINGLE-VALUE NO-USER-MODIFICATION USAGE directoryOperation )"));
    assert.ok(values('objectClasses').some((v) => v.startsWith("( 1.3.6.1.4.1.26027.1.1.1 NAME 'goauthentik.io/ldap/user' SUP organizationalPerson STRUCTURAL")));
    assert.deepEqual(values('objectClass'), ['top', 'subSchema']);
    assert.equal(values('dITContentRules').length, 8);
  });

  test('every class an entry carries is defined', () => {
    const defined = new Set(objectClassDefs.map((c) => c.name.toLowerCase()));
    for (const name of ['top', 'person', 'organizationalPerson', 'inetOrgPerson', 'user', 'posixAccount', 'goauthentik.io/ldap/user', 'group', 'groupOfUniqueNames', 'groupOfNames', 'goauthentik.io/ldap/group', 'posixGroup', 'goauthentik.io/ldap/virtual-group', 'nsContainer', 'organizationalUnit', 'domain', 'dcObject']) {
      assert.ok(defined.has(name.toLowerCase()), name);
    }
  });

  test('schemaAttribute knows names, aliases and OIDs', () => {
    assert.deepEqual(schemaAttribute('CommonName'), { name: 'cn', match: 'string', operational: false });
    assert.equal(schemaAttribute('1.3.6.1.1.1.1.0')?.name, 'uidNumber');
    assert.equal(schemaAttribute('memberOf')?.match, 'dn');
    assert.equal(schemaAttribute('entryDN')?.operational, true);
    assert.equal(schemaAttribute('customThing'), undefined);
  });

  test('python3-ldap3 parses it and finds goauthentik.io/ldap/user (reference 7.7.7)', (t) => {
    const script = `
import json, sys
from ldap3.utils.ciDict import CaseInsensitiveDict
from ldap3.protocol.rfc4512 import SchemaInfo
entry = json.load(sys.stdin)
attributes = CaseInsensitiveDict(entry)
raw = CaseInsensitiveDict({k: [v.encode() for v in vs] for k, vs in entry.items()})
info = SchemaInfo('cn=subschema', attributes, raw)
print(json.dumps({
  'valid': info.is_valid(),
  'classes': len(info.object_classes),
  'types': len(info.attribute_types),
  'user': 'goauthentik.io/ldap/user' in info.object_classes,
  'akSuperuserSyntax': info.attribute_types['ak-superuser'].syntax,
  'userMay': sorted(info.object_classes['goauthentik.io/ldap/user'].may_contain),
}))
`;
    const input = JSON.stringify(Object.fromEntries(subschemaEntry.attributes.map((a) => [a.type, a.values])));
    const run = spawnSync('/usr/bin/python3', ['-c', script], { input, encoding: 'utf8' });
    if (run.error !== undefined || /No module named/.test(run.stderr)) {
      t.skip('python3-ldap3 not installed');
      return;
    }
    assert.equal(run.status, 0, run.stderr);
    const info = JSON.parse(run.stdout) as { valid: boolean; classes: number; types: number; user: boolean; akSuperuserSyntax: string; userMay: string[] };
    assert.equal(info.valid, true);
    assert.equal(info.user, true);
    assert.equal(info.classes, objectClassDefs.length);
    assert.equal(info.types, attributeTypes.length);
    assert.equal(info.akSuperuserSyntax, '1.3.6.1.4.1.1466.115.121.1.7');
    assert.ok(info.userMay.includes('ak-active'));
  });

  test('searching it: any scope, cn/objectClass for *, the definitions by name or +', () => {
    const all = searchSingleEntry(subschemaEntry, q('CN=Subschema', '(objectClass=subschema)', 2), { baseScopeOnly: false, allForUserSelection: false });
    assert.equal(all.count, 1);
    assert.deepEqual(all.entry(0).attributes.map((a) => a.type), ['objectClass', 'cn']);
    const named = searchSingleEntry(subschemaEntry, q('cn=subschema', '(objectClass=*)', 0, ['objectClasses', 'attributeTypes']), { baseScopeOnly: false, allForUserSelection: false });
    assert.deepEqual(named.entry(0).attributes.map((a) => a.type), ['attributeTypes', 'objectClasses']);
    const none = searchSingleEntry(subschemaEntry, q('cn=subschema', '(objectClass=person)'), { baseScopeOnly: false, allForUserSelection: false });
    assert.deepEqual([none.resultCode, none.count], [0, 0]);
  });
});

describe('RootDSE', () => {
  const entry = rootDseEntry({ namingContexts: ['dc=ldap,dc=goauthentik,dc=io'], vendorVersion: 'ak-outpost 0.1.0' });
  const options = { baseScopeOnly: true, allForUserSelection: true };
  const attrs = (attributes: string[] = []): Record<string, readonly string[]> => {
    const r = searchSingleEntry(entry, q('', '(objectClass=*)', 0, attributes), options);
    assert.equal(r.count, 1);
    return Object.fromEntries(r.entry(0).attributes.map((a) => [a.type, a.values]));
  };

  test('advertises exactly what is implemented', () => {
    assert.deepEqual(attrs(), {
      objectClass: ['top'],
      namingContexts: ['dc=ldap,dc=goauthentik,dc=io'],
      subschemaSubentry: ['cn=subschema'],
      supportedLDAPVersion: ['3'],
      supportedControl: ['1.2.840.113556.1.4.319'],
      supportedExtension: ['1.3.6.1.4.1.1466.20037', '1.3.6.1.4.1.4203.1.11.3'],
      supportedFeatures: ['1.3.6.1.4.1.4203.1.5.1', '1.3.6.1.4.1.4203.1.5.3'],
      vendorName: ['goauthentik.io'],
      vendorVersion: ['ak-outpost 0.1.0'],
      rootDomainNamingContext: ['dc=ldap,dc=goauthentik,dc=io'],
    });
  });

  test('selection by name and +; base scope only', () => {
    assert.deepEqual(Object.keys(attrs(['namingContexts'])), ['namingContexts']);
    assert.equal(Object.keys(attrs(['+'])).length, 9);
    assert.equal(searchSingleEntry(entry, q('', '(objectClass=*)', 1), options).count, 0);
    assert.equal(searchSingleEntry(entry, q('', '(objectClass=*)', 2), options).count, 0);
    assert.equal(searchSingleEntry(entry, q('', '(supportedExtension=1.3.6.1.4.1.1466.20037)'), options).count, 1);
  });

  test('searchEntries over several entries', () => {
    const other = { dn: '', attributes: [{ type: 'objectClass', values: ['extensibleObject'] }] };
    const both = searchEntries([entry, other], q('', '(objectClass=*)', 0, ['objectClass']), { rootDse: true });
    assert.equal(both.count, 2);
    assert.deepEqual([...both].length, 2);
    assert.equal(searchEntries([entry, other], q('', '(objectClass=top)'), { rootDse: true }).count, 1);
    assert.equal(searchEntries([entry], q('cn=x', '(objectClass=*)'), { rootDse: true }).resultCode, 32);
    assert.equal(searchEntries([subschemaEntry], q('cn=subschema', '(objectClass=*)'), {}).entry(0).attributes.length, 2);
  });

  test('before a bind: no naming contexts, a description', () => {
    const anonymous = rootDseEntry({ namingContexts: [], vendorVersion: 'v', description: 'This LDAP server requires an authenticated session.' });
    const names = anonymous.attributes.map((a) => a.type);
    assert.ok(!names.includes('namingContexts') && names.includes('description') && names.includes('supportedExtension'));
  });
});
