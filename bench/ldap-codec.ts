/**
 * Micro-benchmark of the LDAP codec hot paths. Run: npx tsc -p tsconfig.json && node dist/bench/ldap-codec.js
 * Prints operations per second; compare runs on the same machine only.
 */
import { performance } from 'node:perf_hooks';
import { nextFrame } from '../src/protocol/ber/framer.js';
import { LDAP_DECODE_LIMITS } from '../src/config/limits.js';
import { parseFilter } from '../src/protocol/ldap/filter.js';
import { decodeMessage, encodeMessage, type LdapMessage } from '../src/protocol/ldap/messages.js';
import {
  MessageBatch,
  encodeEntryOp,
  encodeLdapString,
  encodePartialAttribute,
  encodeSearchDone,
  framedSize,
  type EntryAttribute,
} from '../src/protocol/ldap/search-response.js';

function bench(name: string, unitsPerRun: number, run: () => unknown, budgetMs = 600): void {
  // Warm up so the numbers measure optimised code.
  for (let i = 0; i < 5; i++) run();
  let runs = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    run();
    runs++;
    elapsed = performance.now() - start;
  } while (elapsed < budgetMs);
  const perSecond = (runs * unitsPerRun * 1000) / elapsed;
  console.log(`${name.padEnd(58)} ${Math.round(perSecond).toLocaleString('en-US').padStart(14)} /s`);
}

const searchHex =
  '307b0201026351041164633d6578616d706c652c64633d636f6d0a01020a0100020100020100010100a021a313040b6f626a656374436c617373' +
  '040475736572a40a0402636e30048002616c300a0402636e04046d61696ca02330210416312e322e3834302e3131333535362e312e342e333139' +
  '040730050201640400';
const searchFrame = Buffer.from(searchHex, 'hex');

/** An authentik-shaped user entry (see the reference's entry format). */
function userAttributes(i: number): EntryAttribute[] {
  const name = `user${i}`;
  return [
    { type: 'cn', values: [name] },
    { type: 'sAMAccountName', values: [name] },
    { type: 'uid', values: ['3f9a6c1e0b7d4e2a9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d'] },
    { type: 'name', values: [`User Number ${i}`] },
    { type: 'displayName', values: [`User Number ${i}`] },
    { type: 'sn', values: [`User Number ${i}`] },
    { type: 'mail', values: [`${name}@example.com`] },
    { type: 'objectClass', values: ['top', 'person', 'organizationalPerson', 'inetOrgPerson', 'user', 'posixAccount', 'goauthentik.io/ldap/user'] },
    { type: 'memberOf', values: ['cn=staff,ou=groups,dc=example,dc=com', 'cn=vpn,ou=groups,dc=example,dc=com'] },
    { type: 'uidNumber', values: [String(2000 + i)] },
    { type: 'gidNumber', values: [String(2000 + i)] },
    { type: 'homeDirectory', values: [`/home/${name}`] },
    { type: 'ak-active', values: ['TRUE'] },
    { type: 'ak-superuser', values: ['FALSE'] },
    { type: 'createTimestamp', values: ['20240101120000Z'] },
    { type: 'modifyTimestamp', values: ['20240301120000Z'] },
  ];
}

const ENTRIES = 10_000;
const users = Array.from({ length: ENTRIES }, (_, i) => ({ dn: `cn=user${i},ou=users,dc=example,dc=com`, attributes: userAttributes(i) }));
const entryOps = users.map((u) => encodeEntryOp(u.dn, u.attributes));
const entryBytes = entryOps.reduce((sum, op) => sum + framedSize(2, op.length), 0);
const doneSize = encodeSearchDone(2, 0).length;

console.log(`node ${process.version}; ${ENTRIES} entries of ~${Math.round(entryBytes / ENTRIES)} bytes framed`);

bench('nextFrame (search request)', 1, () => nextFrame(searchFrame, 0, LDAP_DECODE_LIMITS));
bench('decodeMessage (paged search request, ldapsearch)', 1, () => decodeMessage(searchFrame));
bench('parseFilter (&(objectClass=user)(|(cn=al*)(mail=*@x.com)))', 1, () =>
  parseFilter('(&(objectClass=user)(|(cn=al*)(mail=*@x.com)))'),
);
bench('encodeSearchDone', 1, () => encodeSearchDone(2, 0));

let i = 0;
bench('encodeEntryOp (per entry, refresh time)', 1, () => {
  const u = users[i++ % ENTRIES]!;
  return encodeEntryOp(u.dn, u.attributes);
});
i = 0;
bench('encodeMessage SearchResultEntry (generic path, per entry)', 1, () => {
  const u = users[i++ % ENTRIES]!;
  const message: LdapMessage = {
    messageID: 2,
    op: {
      kind: 'SearchResultEntry',
      objectName: u.dn,
      attributes: u.attributes.map((a) => ({ type: a.type, values: a.values.map((v) => (typeof v === 'string' ? Buffer.from(v) : v)) })),
    },
    controls: [],
  };
  return encodeMessage(message);
});

bench(`search response: frame ${ENTRIES} pre-encoded entries + done (entries)`, ENTRIES, () => {
  const batch = new MessageBatch(entryBytes + doneSize);
  for (const op of entryOps) batch.append(2, op);
  batch.appendSearchDone(2, 0);
  return batch.take();
});

bench(`search response: ${ENTRIES} entries in 256 KiB chunks (entries)`, ENTRIES, () => {
  const batch = new MessageBatch(256 * 1024 + 4096);
  const chunks: Buffer[] = [];
  for (const op of entryOps) {
    batch.append(2, op);
    if (batch.length >= 256 * 1024) chunks.push(batch.take());
  }
  batch.appendSearchDone(2, 0);
  chunks.push(batch.take());
  return chunks;
});

// Attribute selection (e.g. "cn mail"): entries assembled from per-attribute parts.
const parts = users.map((u) => ({
  name: encodeLdapString(u.dn),
  byType: new Map(u.attributes.map((a) => [a.type.toLowerCase(), encodePartialAttribute(a.type, a.values)])),
}));
bench(`search response: ${ENTRIES} entries, attributes "cn mail" (entries)`, ENTRIES, () => {
  const batch = new MessageBatch(ENTRIES * 128);
  for (const p of parts) batch.appendEntry(2, p.name, [p.byType.get('cn')!, p.byType.get('mail')!]);
  batch.appendSearchDone(2, 0);
  return batch.take();
});
