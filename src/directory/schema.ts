/**
 * The attribute types and object classes the outpost serves, in one table: it feeds the `cn=subschema` entry
 * (parsed by python3-ldap3), the matching rules the filter engine applies to each attribute (DN, integer,
 * generalized time or case-insensitive string), which attributes are operational (returned only for `+` or by
 * name), and OID-to-name lookups for attribute descriptions given as OIDs.
 *
 * Starts from authentik's schema (reference 3.4) and adds what our entries actually carry and it lacks
 * (entryDN, hasSubordinates, entryUUID, the RootDSE attributes, groupOfUniqueNames, the group classes, dc).
 * Operational attributes declare their USAGE, which authentik's omit.
 */
import type { LdapEntry } from './entries.js';

/** How values of an attribute are compared. */
export type MatchKind = 'string' | 'dn' | 'integer' | 'time' | 'boolean' | 'oid';

export interface AttributeTypeDef {
  readonly oid: string;
  /** First name is canonical. */
  readonly names: readonly string[];
  /** Syntax OID. */
  readonly syntax: string;
  readonly single?: boolean;
  readonly noUserModification?: boolean;
  readonly usage?: 'directoryOperation' | 'dSAOperation';
}

const S = '1.3.6.1.4.1.1466.115.121.1.';
export const Syntax = Object.freeze({
  boolean: S + '7',
  dn: S + '12',
  directoryString: S + '15',
  generalizedTime: S + '24',
  ia5String: S + '26',
  integer: S + '27',
  oid: S + '38',
  octetString: S + '40',
});

const syntaxNames: ReadonlyArray<readonly [string, string]> = [
  [Syntax.boolean, 'Boolean'],
  [Syntax.dn, 'Distinguished Name'],
  [Syntax.directoryString, 'Directory String'],
  [Syntax.generalizedTime, 'Generalized Time'],
  [Syntax.ia5String, 'IA5 String'],
  [Syntax.integer, 'INTEGER'],
  [Syntax.oid, 'OID'],
  [Syntax.octetString, 'Octet String'],
];

const op = 'directoryOperation' as const;
const dsa = 'dSAOperation' as const;

export const attributeTypes: readonly AttributeTypeDef[] = [
  { oid: '0.9.2342.19200300.100.1.1', names: ['uid'], syntax: Syntax.directoryString, single: true },
  { oid: '0.9.2342.19200300.100.1.3', names: ['mail'], syntax: Syntax.directoryString, single: true },
  { oid: '0.9.2342.19200300.100.1.41', names: ['mobile'], syntax: Syntax.directoryString, single: true },
  { oid: '0.9.2342.19200300.100.1.25', names: ['dc'], syntax: Syntax.ia5String, single: true },
  { oid: '1.2.840.113556.1.2.102', names: ['memberOf'], syntax: Syntax.dn, noUserModification: true },
  { oid: '1.2.840.113556.1.2.13', names: ['displayName'], syntax: Syntax.directoryString, single: true },
  { oid: '1.2.840.113556.1.2.131', names: ['co'], syntax: Syntax.directoryString, single: true },
  { oid: '1.2.840.113556.1.2.141', names: ['department'], syntax: Syntax.directoryString, single: true },
  { oid: '1.2.840.113556.1.2.146', names: ['company'], syntax: Syntax.directoryString, single: true },
  { oid: '1.2.840.113556.1.4.1', names: ['name'], syntax: Syntax.directoryString, single: true, noUserModification: true },
  { oid: '1.2.840.113556.1.4.221', names: ['sAMAccountName'], syntax: Syntax.directoryString, single: true },
  { oid: '1.2.840.113556.1.4.261', names: ['division'], syntax: Syntax.directoryString, single: true },
  { oid: '1.2.840.113556.1.4.44', names: ['homeDirectory'], syntax: Syntax.directoryString, single: true },
  { oid: '1.2.840.113556.1.4.750', names: ['groupType'], syntax: Syntax.integer, single: true },
  { oid: '1.2.840.113556.1.4.782', names: ['objectCategory'], syntax: Syntax.dn, single: true },
  { oid: '1.3.6.1.4.1.42.2.27.8.1.16', names: ['pwdChangedTime'], syntax: Syntax.generalizedTime, single: true, noUserModification: true, usage: op },
  { oid: '1.3.6.1.1.1.1.0', names: ['uidNumber'], syntax: Syntax.integer, single: true },
  { oid: '1.3.6.1.1.1.1.1', names: ['gidNumber'], syntax: Syntax.integer, single: true },
  { oid: '1.3.6.1.1.1.1.12', names: ['memberUid'], syntax: Syntax.ia5String },
  { oid: '2.5.18.1', names: ['createTimestamp'], syntax: Syntax.generalizedTime, single: true, noUserModification: true, usage: op },
  { oid: '2.5.18.2', names: ['modifyTimestamp'], syntax: Syntax.generalizedTime, single: true, noUserModification: true, usage: op },
  { oid: '2.5.18.9', names: ['hasSubordinates'], syntax: Syntax.boolean, single: true, noUserModification: true, usage: op },
  { oid: '2.5.18.10', names: ['subschemaSubentry'], syntax: Syntax.dn, single: true, noUserModification: true, usage: op },
  { oid: '1.3.6.1.1.20', names: ['entryDN'], syntax: Syntax.dn, single: true, noUserModification: true, usage: op },
  { oid: '1.3.6.1.1.16.4', names: ['entryUUID'], syntax: Syntax.octetString, single: true, noUserModification: true, usage: op },
  { oid: '2.5.21.2', names: ['dITContentRules'], syntax: Syntax.directoryString, noUserModification: true, usage: op },
  { oid: '2.5.21.5', names: ['attributeTypes'], syntax: Syntax.directoryString, noUserModification: true, usage: op },
  { oid: '2.5.21.6', names: ['objectClasses'], syntax: Syntax.directoryString, noUserModification: true, usage: op },
  { oid: '1.3.6.1.4.1.1466.101.120.16', names: ['ldapSyntaxes'], syntax: Syntax.directoryString, noUserModification: true, usage: op },
  { oid: '2.5.4.0', names: ['objectClass'], syntax: Syntax.oid },
  { oid: '2.5.4.10', names: ['o'], syntax: Syntax.directoryString },
  { oid: '2.5.4.11', names: ['ou'], syntax: Syntax.directoryString },
  { oid: '2.5.4.12', names: ['title'], syntax: Syntax.directoryString, single: true },
  { oid: '2.5.4.13', names: ['description'], syntax: Syntax.directoryString },
  { oid: '2.5.4.20', names: ['telephoneNumber'], syntax: Syntax.directoryString, single: true },
  { oid: '2.5.4.3', names: ['cn', 'commonName'], syntax: Syntax.directoryString, single: true },
  { oid: '2.5.4.31', names: ['member'], syntax: Syntax.dn },
  { oid: '2.5.4.4', names: ['sn', 'surname'], syntax: Syntax.directoryString, single: true },
  { oid: '2.5.4.42', names: ['givenName'], syntax: Syntax.directoryString, single: true },
  { oid: '2.5.4.6', names: ['c'], syntax: Syntax.directoryString, single: true },
  { oid: '2.5.4.7', names: ['l'], syntax: Syntax.directoryString, single: true },
  { oid: '2.5.4.49', names: ['distinguishedName'], syntax: Syntax.dn, single: true },
  { oid: '1.3.6.1.4.1.26027.1.1.2', names: ['ak-superuser', 'goauthentik.io/ldap/superuser'], syntax: Syntax.boolean, single: true },
  { oid: '1.3.6.1.4.1.26027.1.1.3', names: ['ak-active', 'goauthentik.io/ldap/active'], syntax: Syntax.boolean, single: true },
  { oid: '1.3.6.1.4.1.26027.1.1.4', names: ['goauthentikio-user-sources', 'goauthentik.io/ldap/sources'], syntax: Syntax.directoryString, single: true },
  // RootDSE (RFC 4512 section 5.1).
  { oid: '1.3.6.1.4.1.1466.101.120.5', names: ['namingContexts'], syntax: Syntax.dn, usage: dsa },
  { oid: '1.3.6.1.4.1.1466.101.120.13', names: ['supportedControl'], syntax: Syntax.oid, usage: dsa },
  { oid: '1.3.6.1.4.1.1466.101.120.7', names: ['supportedExtension'], syntax: Syntax.oid, usage: dsa },
  { oid: '1.3.6.1.4.1.4203.1.3.5', names: ['supportedFeatures'], syntax: Syntax.oid, usage: dsa },
  { oid: '1.3.6.1.4.1.1466.101.120.15', names: ['supportedLDAPVersion'], syntax: Syntax.integer, usage: dsa },
  { oid: '1.3.6.1.1.4', names: ['vendorName'], syntax: Syntax.directoryString, single: true, noUserModification: true, usage: dsa },
  { oid: '1.3.6.1.1.5', names: ['vendorVersion'], syntax: Syntax.directoryString, single: true, noUserModification: true, usage: dsa },
  { oid: '1.2.840.113556.1.4.1923', names: ['rootDomainNamingContext'], syntax: Syntax.dn, single: true, usage: dsa },
];

interface ObjectClassDef {
  readonly oid: string;
  readonly name: string;
  readonly sup?: string;
  readonly kind: 'ABSTRACT' | 'STRUCTURAL' | 'AUXILIARY';
  readonly must?: readonly string[];
  readonly may?: readonly string[];
}

export const objectClassDefs: readonly ObjectClassDef[] = [
  { oid: '2.5.6.0', name: 'top', kind: 'ABSTRACT', must: ['objectClass'], may: ['objectCategory', 'cn', 'description', 'displayName', 'memberOf', 'name'] },
  { oid: '2.5.6.6', name: 'person', sup: 'top', kind: 'STRUCTURAL', must: ['cn'], may: ['sn', 'telephoneNumber'] },
  {
    oid: '2.5.6.7',
    name: 'organizationalPerson',
    sup: 'person',
    kind: 'STRUCTURAL',
    may: ['c', 'l', 'o', 'ou', 'title', 'givenName', 'co', 'department', 'company', 'division', 'mail', 'mobile', 'telephoneNumber'],
  },
  { oid: '2.5.6.9', name: 'groupOfNames', sup: 'top', kind: 'STRUCTURAL', must: ['cn', 'member'], may: ['o', 'ou'] },
  { oid: '2.5.6.17', name: 'groupOfUniqueNames', sup: 'top', kind: 'STRUCTURAL', must: ['cn'], may: ['o', 'ou', 'description'] },
  { oid: '1.2.840.113556.1.5.9', name: 'user', sup: 'organizationalPerson', kind: 'STRUCTURAL', may: ['name', 'displayName', 'uid', 'mail'] },
  { oid: '1.3.6.1.1.1.2.0', name: 'posixAccount', sup: 'top', kind: 'AUXILIARY', may: ['cn', 'description', 'homeDirectory', 'uid', 'uidNumber', 'gidNumber'] },
  { oid: '2.16.840.1.113730.3.2.2', name: 'inetOrgPerson', sup: 'user', kind: 'STRUCTURAL', may: ['uidNumber', 'gidNumber', 'displayName', 'homeDirectory'] },
  { oid: '2.5.6.5', name: 'organizationalUnit', sup: 'top', kind: 'STRUCTURAL', must: ['ou'], may: ['c', 'l'] },
  { oid: '2.5.6.4', name: 'organization', sup: 'top', kind: 'STRUCTURAL', must: ['o'], may: ['l', 'description'] },
  { oid: '0.9.2342.19200300.100.4.13', name: 'domain', sup: 'top', kind: 'STRUCTURAL', must: ['dc'], may: ['o', 'l', 'description'] },
  { oid: '1.3.6.1.4.1.1466.344', name: 'dcObject', sup: 'top', kind: 'AUXILIARY', must: ['dc'] },
  { oid: '2.16.840.1.113730.3.2.30', name: 'nsContainer', sup: 'top', kind: 'STRUCTURAL', must: ['cn'] },
  { oid: '1.2.840.113556.1.5.8', name: 'group', sup: 'top', kind: 'AUXILIARY', may: ['cn', 'groupType', 'member'] },
  { oid: '1.3.6.1.1.1.2.2', name: 'posixGroup', sup: 'top', kind: 'AUXILIARY', may: ['cn', 'description', 'gidNumber', 'memberUid'] },
  { oid: '2.5.20.1', name: 'subSchema', kind: 'AUXILIARY', may: ['dITContentRules', 'attributeTypes', 'objectClasses', 'ldapSyntaxes'] },
  {
    oid: '1.3.6.1.4.1.26027.1.1.1',
    name: 'goauthentik.io/ldap/user',
    sup: 'organizationalPerson',
    kind: 'STRUCTURAL',
    may: [
      'ak-superuser',
      'ak-active',
      'sAMAccountName',
      'goauthentikio-user-sources',
      'goauthentik.io/user/sources',
      'goauthentik.io/ldap/active',
      'goauthentik.io/ldap/superuser',
    ],
  },
  // Not in authentik's schema although its group entries carry them; OIDs continue its arc.
  { oid: '1.3.6.1.4.1.26027.1.1.5', name: 'goauthentik.io/ldap/group', sup: 'top', kind: 'AUXILIARY', may: ['ak-superuser', 'sAMAccountName', 'uid', 'gidNumber'] },
  { oid: '1.3.6.1.4.1.26027.1.1.6', name: 'goauthentik.io/ldap/virtual-group', sup: 'top', kind: 'AUXILIARY', may: ['ak-superuser', 'sAMAccountName', 'uid', 'gidNumber'] },
];

const contentRuleClasses = ['top', 'person', 'organizationalPerson', 'groupOfNames', 'user', 'posixAccount', 'inetOrgPerson', 'goauthentik.io/ldap/user'];

function quotedNames(names: readonly string[]): string {
  return names.length === 1 ? `'${names[0]!}'` : `( ${names.map((n) => `'${n}'`).join(' ')} )`;
}

function oidList(names: readonly string[]): string {
  return names.length === 1 ? names[0]! : `( ${names.join(' $ ')} )`;
}

export function formatAttributeType(def: AttributeTypeDef): string {
  let out = `( ${def.oid} NAME ${quotedNames(def.names)} SYNTAX ${def.syntax}`;
  if (def.single === true) out += ' SINGLE-VALUE';
  if (def.noUserModification === true) out += ' NO-USER-MODIFICATION';
  if (def.usage !== undefined) out += ` USAGE ${def.usage}`;
  return out + ' )';
}

function formatObjectClass(def: ObjectClassDef): string {
  let out = `( ${def.oid} NAME '${def.name}'`;
  if (def.sup !== undefined) out += ` SUP ${def.sup}`;
  out += ` ${def.kind}`;
  if (def.must !== undefined && def.must.length > 0) out += ` MUST ${oidList(def.must)}`;
  if (def.may !== undefined && def.may.length > 0) out += ` MAY ${oidList(def.may)}`;
  return out + ' )';
}

/** DN of the subschema entry, advertised in every entry's subschemaSubentry. */
export const SUBSCHEMA_DN = 'cn=subschema';

/** The `cn=subschema` entry (attribute values are computed once; the entry is immutable). */
export const subschemaEntry: LdapEntry = Object.freeze({
  dn: SUBSCHEMA_DN,
  attributes: Object.freeze([
    { type: 'objectClass', values: ['top', 'subSchema'] },
    { type: 'cn', values: ['subschema'] },
    { type: 'ldapSyntaxes', values: syntaxNames.map(([oid, desc]) => `( ${oid} DESC '${desc}' )`) },
    {
      type: 'dITContentRules',
      values: contentRuleClasses.map((name) => {
        const def = objectClassDefs.find((c) => c.name === name)!;
        return `( ${def.oid} NAME '${name}' )`;
      }),
    },
    { type: 'attributeTypes', values: attributeTypes.map(formatAttributeType) },
    { type: 'objectClasses', values: objectClassDefs.map(formatObjectClass) },
  ]),
});

export interface AttributeInfo {
  /** Canonical spelling (as emitted in entries). */
  readonly name: string;
  readonly match: MatchKind;
  readonly operational: boolean;
}

function matchKindOf(syntax: string): MatchKind {
  switch (syntax) {
    case Syntax.dn:
      return 'dn';
    case Syntax.integer:
      return 'integer';
    case Syntax.generalizedTime:
      return 'time';
    case Syntax.boolean:
      return 'boolean';
    case Syntax.oid:
      return 'oid';
    default:
      return 'string';
  }
}

const infoByKey = new Map<string, AttributeInfo>();
for (const def of attributeTypes) {
  const info: AttributeInfo = Object.freeze({ name: def.names[0]!, match: matchKindOf(def.syntax), operational: def.usage !== undefined });
  infoByKey.set(def.oid, info);
  for (const name of def.names) infoByKey.set(name.toLowerCase(), info);
}

/**
 * What the schema knows about an attribute description (name or numeric OID, any case); undefined for names
 * outside the schema (custom attributes: case-insensitive strings, user attributes).
 */
export function schemaAttribute(description: string): AttributeInfo | undefined {
  return infoByKey.get(description.toLowerCase());
}
