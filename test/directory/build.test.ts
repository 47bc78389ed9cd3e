import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSnapshot, type BuildProgress } from '../../src/directory/build.js';
import { SnapshotHolder } from '../../src/directory/holder.js';
import type { DirectorySnapshot } from '../../src/directory/snapshot.js';
import type { CoreApi } from '../../src/core-api/port.js';
import { CoreError } from '../../src/errors.js';
import { encodeEntryOp } from '../../src/protocol/ldap/search-response.js';
import type { SearchResult } from '../../src/directory/types.js';
import { compileFilter, TRUE, type MatchContext } from '../../src/directory/compile.js';
import { parseFilter } from '../../src/protocol/ldap/filter.js';
import { BASE, FULL, PROVIDER, generatedCore, query, smallDirectory } from './fixtures.js';

const USERS = 2000;
const GROUPS = 200;
const PER_USER = 5;
const G = `ou=groups,${BASE}`;
const U = `ou=users,${BASE}`;
const groupName = (i: number): string => `group-${String(i).padStart(5, '0')}`;
/** Same formula as generatedCore. */
const groupsOfUser = (u: number): number[] => Array.from({ length: PER_USER }, (_, k) => (u * 7 + k * 13) % GROUPS);
const dns = (r: SearchResult): string[] => Array.from({ length: r.count }, (_, i) => r.entry(i).dn);

let snapshot: DirectorySnapshot;
const progress: BuildProgress[] = [];

before(async () => {
  snapshot = await buildSnapshot(generatedCore(USERS, GROUPS, PER_USER, 300), PROVIDER, {
    pageSize: 300,
    progressEvery: 500,
    onProgress: (p) => progress.push({ ...p }),
  });
});

describe('buildSnapshot from core pages', () => {
  test('reports progress every N users and at each phase', () => {
    assert.deepEqual(
      progress.map((p) => `${p.phase}:${p.users}`),
      ['groups:0', 'users:600', 'users:1200', 'users:1500', 'users:2000', 'finishing:2000', 'done:2000'],
    );
  });

  test('has every entry', () => {
    assert.equal(snapshot.size, 4 + USERS + GROUPS + USERS);
    assert.equal(snapshot.search(query(U, '(objectClass=user)', { attributes: ['1.1'] }), FULL).count, USERS);
  });

  test('equality through the indexes finds the user and its virtual group', () => {
    for (const n of [0, 1, 999, 1999]) {
      assert.deepEqual(dns(snapshot.search(query(BASE, `(cn=USER${n})`), FULL)), [`cn=user${n},${U}`, `cn=user${n},ou=virtual-groups,${BASE}`]);
      assert.deepEqual(dns(snapshot.search(query(BASE, `(&(objectClass=user)(uidNumber=${2000 + n + 1}))`), FULL)), [`cn=user${n},${U}`]);
      assert.deepEqual(dns(snapshot.search(query(BASE, `(mail=user${n}@EXAMPLE.com)`), FULL)), [`cn=user${n},${U}`]);
    }
  });

  test('memberOf and in-chain agree with the source data', () => {
    for (const g of [0, 1, 10, 57, 190]) {
      const direct = new Set<string>();
      const chained = new Set<string>();
      for (let u = 0; u < USERS; u++) {
        const mine = groupsOfUser(u);
        if (mine.includes(g)) direct.add(`cn=user${u},${U}`);
        // Group i (i % 10 == 1) is a child of group i - 1.
        if (mine.includes(g) || (g % 10 === 0 && mine.includes(g + 1))) chained.add(`cn=user${u},${U}`);
      }
      if (g % 10 === 0 && g + 1 < GROUPS) {
        direct.add(`cn=${groupName(g + 1)},${G}`);
        chained.add(`cn=${groupName(g + 1)},${G}`);
      }
      const found = (filter: string): Set<string> => new Set(dns(snapshot.search(query(BASE, filter, { attributes: ['1.1'] }), FULL)));
      assert.deepEqual(found(`(memberOf=cn=${groupName(g)},${G})`), direct, `memberOf ${g}`);
      assert.deepEqual(found(`(memberOf:1.2.840.113556.1.4.1941:=cn=${groupName(g)},${G})`), chained, `in-chain ${g}`);
    }
  });

  test('index-planned searches agree with a full scan', () => {
    const unindexed: MatchContext = {
      attribute: (d) => snapshot.attribute(d),
      values: (e, a) => snapshot.values(e, a),
      attributesOf: (e) => snapshot.attributesOf(e),
      entryDn: (e) => snapshot.entryDn(e),
      equalityIndex: () => undefined,
      inChain: () => undefined,
    };
    const filters = [
      '(cn=user17)',
      '(|(cn=user17)(sAMAccountName=user18)(uid=' + (20).toString(16).padStart(64, 'a') + '))',
      '(&(objectClass=posixGroup)(gidNumber=2005))',
      '(&(objectClass=user)(!(memberOf=cn=group-00003,' + G + ')))',
      '(member=cn=user3,' + U + ')',
      '(|(member=cn=user4,' + U + ')(memberOf=cn=group-00010,' + G + '))',
      '(&(uidNumber=2010)(mail=user9@example.com))',
      '(!(objectClass=goauthentik.io/ldap/virtual-group))',
      '(entryDN=cn=group-00007,' + G + ')',
      '(|(objectClass=group)(cn=user1))',
    ];
    for (const text of filters) {
      const filter = parseFilter(text);
      const viaIndex = dns(snapshot.search(query(BASE, text, { attributes: ['1.1'] }), FULL));
      const compiled = compileFilter(filter, unindexed);
      const scanned: string[] = [];
      for (let id = 0; id < snapshot.size; id++) if (compiled.test(id) === TRUE) scanned.push(snapshot.entryDn(id));
      assert.deepEqual(viaIndex, scanned, text);
      assert.ok(scanned.length > 0, text);
    }
  });

  test('nested custom attributes are flattened', () => {
    const r = snapshot.search(query(`cn=user100,${U}`, '(settings-theme=dark)', { scope: 0, attributes: ['locale', 'settings-theme'] }), FULL);
    assert.deepEqual(r.entry(0).attributes, [
      { type: 'locale', values: ['en'] },
      { type: 'settings-theme', values: ['dark'] },
    ]);
  });

  test('pre-encoded entries equal the codec encoding', () => {
    const r = snapshot.search(query(BASE, '(|(cn=user5)(cn=group-00005))'), FULL);
    assert.equal(r.count, 3);
    for (let i = 0; i < r.count; i++) assert.deepEqual(r.encoded(i), encodeEntryOp(r.entry(i).dn, r.entry(i).attributes));
  });

  test('duplicate users across pages are kept once', async () => {
    const { users, groups } = smallDirectory();
    const core: Pick<CoreApi, 'forEachUserPage' | 'forEachGroupPage'> = {
      async forEachGroupPage(_q, onPage) {
        await onPage(groups);
      },
      async forEachUserPage(_q, onPage) {
        await onPage(users.slice(0, 3));
        await onPage(users.slice(2));
      },
    };
    const s = await buildSnapshot(core, PROVIDER);
    assert.equal(s.userCount, 4);
  });

  test('a failing fetch rejects', async () => {
    const core: Pick<CoreApi, 'forEachUserPage' | 'forEachGroupPage'> = {
      ...generatedCore(10, 2, 1),
      async forEachUserPage() {
        throw new CoreError('http_status', 'HTTP 502', { status: 502 });
      },
    };
    await assert.rejects(buildSnapshot(core, PROVIDER), CoreError);
  });

  test('an aborted build rejects', async () => {
    const abort = new AbortController();
    abort.abort(new Error('stop'));
    await assert.rejects(buildSnapshot(generatedCore(10, 2, 1), PROVIDER, { signal: abort.signal }), /stop/);
  });
});

describe('SnapshotHolder', () => {
  test('swaps on success, keeps the last good snapshot on failure, one build at a time', async () => {
    let builds = 0;
    let fail = false;
    const holder = new SnapshotHolder(async () => {
      builds++;
      await new Promise((resolve) => setImmediate(resolve));
      if (fail) throw new CoreError('transport', 'connection refused');
      return buildSnapshot(generatedCore(3, 1, 1), PROVIDER);
    });
    assert.equal(holder.current, undefined);
    const [a, b] = await Promise.all([holder.refresh(), holder.refresh()]);
    assert.equal(builds, 1);
    assert.equal(a, b);
    assert.equal(a.ok, true);
    const first = holder.current;
    assert.ok(first !== undefined);
    fail = true;
    const failed = await holder.refresh();
    assert.equal(failed.ok, false);
    assert.ok(failed.error instanceof CoreError);
    assert.equal(holder.current, first);
    fail = false;
    assert.equal((await holder.refresh()).ok, true);
    assert.notEqual(holder.current, first);
    assert.equal(builds, 3);
  });

  test('close aborts a running build and drops the snapshot', async () => {
    let seen: AbortSignal | undefined;
    const holder = new SnapshotHolder(
      (signal) =>
        new Promise((_resolve, reject) => {
          seen = signal;
          signal.addEventListener('abort', () => reject(signal.reason as Error));
        }),
    );
    const running = holder.refresh();
    holder.close();
    const outcome = await running;
    assert.equal(seen?.aborted, true);
    assert.equal(outcome.ok, false);
    assert.equal(holder.current, undefined);
    assert.equal((await holder.refresh()).ok, false);
  });
});
