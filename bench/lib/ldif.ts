/**
 * The generated directory as LDIF for slapd, laid out like the outpost's tree (src/directory/entries.ts):
 * base, ou=users / ou=groups / ou=virtual-groups, one entry per user, group and virtual group, with the same
 * attribute names and values as far as slapd's schemas allow. Attributes slapd has no schema for (sAMAccountName,
 * ak-active, the custom ones) come from a small bench schema (BENCH_SCHEMA). memberOf values are written here
 * (direct groups, as the outpost serves them) because slapadd does not run the memberof overlay.
 */
import { createHash, randomBytes } from 'node:crypto';
import { nameUuid } from '../../src/embedded-core/directory/ids.js';
import { outpostUsername } from '../../src/embedded-core/directory/store.js';
import type { DirectoryFile, UserSpec } from '../../src/embedded-core/directory/types.js';

export const BENCH_BASE_DN = 'dc=ldap,dc=goauthentik,dc=io';
/** The outpost's defaults for uid_start_number / gid_start_number. */
const UID_START = 2000;
const GID_START = 4000;

/** OpenLDAP's experimental arc; the bench schema never leaves the private slapd. */
export const BENCH_SCHEMA = `# ak-outpost bench: attributes the outpost serves that slapd's stock schemas lack
objectIdentifier AkBench 1.3.6.1.4.1.4203.666.11.77
objectIdentifier AkBenchAttr AkBench:1
objectIdentifier AkBenchClass AkBench:2
attributetype ( AkBenchAttr:1 NAME 'sAMAccountName' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( AkBenchAttr:2 NAME 'ak-active' EQUALITY booleanMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.7 SINGLE-VALUE )
attributetype ( AkBenchAttr:3 NAME 'ak-superuser' EQUALITY booleanMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.7 SINGLE-VALUE )
attributetype ( AkBenchAttr:4 NAME 'department' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )
attributetype ( AkBenchAttr:5 NAME 'upn' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )
attributetype ( AkBenchAttr:6 NAME 'generated' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )
attributetype ( AkBenchAttr:7 NAME 'level' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )
objectclass ( AkBenchClass:1 NAME 'akBenchUser' SUP top AUXILIARY
  MAY ( sAMAccountName $ name $ ak-active $ ak-superuser $ department $ upn ) )
objectclass ( AkBenchClass:2 NAME 'akBenchGroup' SUP top AUXILIARY
  MAY ( sAMAccountName $ uid $ gidNumber $ ak-superuser $ generated $ level ) )
`;

type Attr = [name: string, value: string];

/** RFC 2849 SAFE-STRING, else base64. */
function line(name: string, value: string): string {
  // eslint-disable-next-line no-control-regex
  const safe = /^[\x01-\x09\x0b\x0c\x0e-\x1f\x21-\x39\x3b\x3d-\x7f][\x01-\x09\x0b\x0c\x0e-\x7f]*$/.test(value) && !value.endsWith(' ');
  if (value === '' || safe) return `${name}: ${value}\n`;
  return `${name}:: ${Buffer.from(value, 'utf8').toString('base64')}\n`;
}

function entry(dn: string, attrs: readonly Attr[]): string {
  let out = line('dn', dn);
  for (const [name, value] of attrs) out += line(name, value);
  return `${out}\n`;
}

/** RFC 4514 escaping of one RDN value. */
export function escapeRdnValue(value: string): string {
  let out = value.replace(/[\\,+"<>;=]/g, (c) => `\\${c}`);
  if (out.startsWith(' ') || out.startsWith('#')) out = `\\${out}`;
  if (out.endsWith(' ')) out = `${out.slice(0, -1)}\\ `;
  return out;
}

/** {SSHA}: base64(SHA-1(password + salt) + salt), which slapd verifies natively. */
export function sshaHash(password: string, salt: Buffer = randomBytes(8)): string {
  const digest = createHash('sha1').update(password, 'utf8').update(salt).digest();
  return `{SSHA}${Buffer.concat([digest, salt]).toString('base64')}`;
}

export interface LdifOptions {
  baseDn?: string;
  /** Plain-text password of a user, or undefined for no userPassword. */
  passwordOf(username: string): string | undefined;
}

const bool = (value: boolean | undefined): string => (value === true ? 'TRUE' : 'FALSE');

/** Custom attribute values as the outpost renders them (strings; numbers and booleans as text). */
function customValues(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(customValues);
  if (typeof value === 'string') return value === '' ? [] : [value];
  if (typeof value === 'number' && Number.isFinite(value)) return [String(value)];
  if (typeof value === 'boolean') return [value ? 'true' : 'false'];
  return [];
}

/**
 * Yields the LDIF text in chunks (one entry each), so 100,000 users never sit in one string. Returns the entry
 * count through `counts` when done.
 */
export function* slapdLdif(dir: DirectoryFile, options: LdifOptions, counts: { entries: number } = { entries: 0 }): Generator<string> {
  const base = (options.baseDn ?? BENCH_BASE_DN).toLowerCase();
  const users = [...(dir.users ?? []), ...outpostAccounts(dir)];
  const groups = dir.groups ?? [];
  const installId = dir.core?.install_id ?? '';
  const userDn = (name: string): string => `cn=${escapeRdnValue(name)},ou=users,${base}`;
  const groupDn = (name: string): string => `cn=${escapeRdnValue(name)},ou=groups,${base}`;

  const usersOfGroup = new Map<string, string[]>();
  const childrenOfGroup = new Map<string, string[]>();
  for (const g of groups) {
    usersOfGroup.set(g.name, []);
    childrenOfGroup.set(g.name, []);
  }
  for (const g of groups) for (const p of g.parents ?? []) childrenOfGroup.get(p)?.push(g.name);
  for (const u of users) for (const g of u.groups ?? []) usersOfGroup.get(g)?.push(u.username);

  const rdn0 = /^dc=([^,]+)/i.exec(base);
  const baseAttrs: Attr[] = [
    ['objectClass', 'top'],
    ['objectClass', 'domain'],
    ['objectClass', 'dcObject'],
    ['dc', rdn0?.[1] ?? 'ldap'],
  ];
  yield entry(base, baseAttrs);
  for (const ou of ['users', 'groups', 'virtual-groups']) {
    yield entry(`ou=${ou},${base}`, [
      ['objectClass', 'top'],
      ['objectClass', 'organizationalUnit'],
      ['ou', ou],
    ]);
  }
  counts.entries = 4;

  let pk = 0;
  for (const u of users) {
    pk = u.pk ?? pk + 1;
    const uid = createHash('sha256').update(`${pk}-${installId}`).digest('hex');
    const number = String(UID_START + pk);
    const name = u.name ?? u.username;
    const attrs: Attr[] = [
      ...['top', 'person', 'organizationalPerson', 'inetOrgPerson', 'posixAccount', 'akBenchUser'].map((c): Attr => ['objectClass', c]),
      ['cn', u.username],
      ['sAMAccountName', u.username],
      ['uid', uid],
      ['name', name],
      ['displayName', name],
      ['sn', name],
    ];
    if (u.email !== undefined && u.email !== '') attrs.push(['mail', u.email]);
    for (const g of u.groups ?? []) attrs.push(['memberOf', groupDn(g)]);
    attrs.push(
      ['uidNumber', number],
      ['gidNumber', number],
      ['homeDirectory', `/home/${u.username}`],
      ['ak-active', bool(u.is_active ?? true)],
      ['ak-superuser', bool(u.is_superuser)],
    );
    for (const key of Object.keys(u.attributes ?? {}).sort()) {
      for (const v of customValues(u.attributes?.[key])) attrs.push([key, v]);
    }
    const password = options.passwordOf(u.username);
    if (password !== undefined) attrs.push(['userPassword', sshaHash(password)]);
    yield entry(userDn(u.username), attrs);
    // The outpost's per-user virtual group (only member: the user; gidNumber: the user's).
    yield entry(`cn=${escapeRdnValue(u.username)},ou=virtual-groups,${base}`, [
      ...['top', 'groupOfNames', 'akBenchGroup'].map((c): Attr => ['objectClass', c]),
      ['cn', u.username],
      ['sAMAccountName', u.username],
      ['uid', uid],
      ['gidNumber', number],
      ['member', userDn(u.username)],
      ['ak-superuser', 'FALSE'],
    ]);
    counts.entries += 2;
  }

  let numPk = 0;
  for (const g of groups) {
    numPk++;
    const members = [...(usersOfGroup.get(g.name) ?? []).map(userDn), ...(childrenOfGroup.get(g.name) ?? []).map(groupDn)];
    const attrs: Attr[] = [
      ...['top', 'groupOfNames', 'akBenchGroup'].map((c): Attr => ['objectClass', c]),
      ['cn', g.name],
      ['sAMAccountName', g.name],
      ['uid', g.pk ?? uuidOf(g.name)],
      ['gidNumber', String(GID_START + numPk)],
    ];
    // groupOfNames requires a member; the empty DN stands for "nobody".
    for (const m of members.length > 0 ? members : ['']) attrs.push(['member', m]);
    for (const p of g.parents ?? []) attrs.push(['memberOf', groupDn(p)]);
    attrs.push(['ak-superuser', bool(g.is_superuser)]);
    for (const key of Object.keys(g.attributes ?? {}).sort()) {
      for (const v of customValues(g.attributes?.[key])) attrs.push([key, v]);
    }
    yield entry(groupDn(g.name), attrs);
    counts.entries++;
  }
}

/** A UUID-shaped stand-in for a group pk (the core derives its own; only the shape matters for the bench). */
function uuidOf(name: string): string {
  const h = createHash('sha256').update(`group:${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The core's user for each outpost (its service account, after the file's users), as the outpost lists it. */
function outpostAccounts(dir: DirectoryFile): UserSpec[] {
  return (dir.outposts ?? []).map((o) => ({
    username: outpostUsername(o.uuid ?? nameUuid('outpost', o.name)),
    name: `Outpost ${o.name} Service-Account`,
  }));
}

/** Entries the outpost serves for a generated directory: base, 3 containers, users (the outposts' service accounts
 *  included) + virtual groups, groups. */
export function expectedEntryCount(dir: DirectoryFile): number {
  return 4 + 2 * ((dir.users?.length ?? 0) + (dir.outposts?.length ?? 0)) + (dir.groups?.length ?? 0);
}
