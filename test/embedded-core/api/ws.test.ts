/**
 * The outpost WebSocket (/ws/outpost/<uuid>/): upgrade authorization, ACK semantics, instance state and health,
 * TRIGGER_UPDATE and SESSION_END pushes. Ordering on one socket replaces sleeps: replies arrive in the order of
 * the messages that caused them.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ADMIN_TOKEN, connectOutpost, LDAP_OUTPOST, LDAP_TOKEN, login, RADIUS_OUTPOST, RADIUS_TOKEN, sessionKeyOf, startHarness } from './harness.js';
import type { Harness } from './harness.js';

const ACK = { instruction: 0, args: {} };
const hello = (extra: Record<string, unknown> = {}): unknown => ({
  instruction: 1,
  args: {
    version: '2026.2.2',
    buildHash: 'abc123',
    uuid: 'instance-1',
    golangVersion: 'go1.24',
    opensslEnabled: true,
    opensslVersion: '3.5',
    fipsEnabled: false,
    hostname: 'outpost-host',
    ...extra,
  },
});

async function refusal(promise: Promise<unknown>): Promise<number | undefined> {
  try {
    await promise;
  } catch (err) {
    return (err as { status?: number }).status;
  }
  assert.fail('the upgrade was accepted');
}

describe('outpost websocket', () => {
  let h: Harness;
  let clock = Date.now();
  before(async () => {
    h = await startHarness('2026.2', { core: { now: () => clock } });
  });
  after(() => h.close());

  test('the upgrade needs a token that may view the outpost (else HTTP 403)', async () => {
    assert.equal(await refusal(connectOutpost(h, LDAP_OUTPOST, undefined)), 403);
    assert.equal(await refusal(connectOutpost(h, LDAP_OUTPOST, 'wrong-token')), 403);
    assert.equal(await refusal(connectOutpost(h, LDAP_OUTPOST, RADIUS_TOKEN)), 403, "another outpost's token");
    assert.equal(await refusal(connectOutpost(h, '00000000-0000-4000-8000-000000000000', ADMIN_TOKEN)), 403, 'unknown outpost');
    const own = await connectOutpost(h, LDAP_OUTPOST, LDAP_TOKEN);
    await own.close();
    const admin = await connectOutpost(h, LDAP_OUTPOST, ADMIN_TOKEN);
    await admin.close();
  });

  test('HELLO gets exactly one ACK; ACK and garbage get none', async () => {
    const s = await connectOutpost(h, LDAP_OUTPOST, LDAP_TOKEN, '?instance_uuid=acks');
    s.send(ACK);
    s.send('not json');
    s.send(hello());
    assert.deepEqual(await s.next(), ACK);
    s.send(hello());
    assert.deepEqual(await s.next(), ACK, 'the second HELLO is answered; nothing came for the ACK or the garbage');
    // Anything else non-ACK is also acknowledged, once.
    s.send({ instruction: 3, args: { hostname: 'h2' } });
    assert.deepEqual(await s.next(), ACK);
    h.core.triggerUpdate(LDAP_OUTPOST);
    assert.deepEqual(await s.next(), { instruction: 2, args: {} }, 'no stray ACK before the pushed update');
    assert.equal(s.pending(), 0);
    await s.close();
  });

  test('health reflects HELLOs, expires after 15 s and ends with the connection', async () => {
    const s = await connectOutpost(h, RADIUS_OUTPOST, RADIUS_TOKEN, '?instance_uuid=health-1');
    s.send(hello({ version: '2026.2.2', buildHash: '' }));
    await s.next();
    const health = await h.call('GET', `/api/v3/outposts/instances/${RADIUS_OUTPOST}/health/`, { token: ADMIN_TOKEN });
    assert.equal(health.status, 200);
    assert.equal(health.body.length, 1);
    const state = health.body[0];
    assert.deepEqual(
      [state.uid, state.version, state.version_should, state.version_outdated, state.build_hash, state.build_hash_should, state.golang_version, state.openssl_enabled, state.hostname, state.fips_enabled],
      ['health-1', '2026.2.2', '2026.2.2', false, '', '', 'go1.24', true, 'outpost-host', null],
    );
    // Same build hash as the core ("") and another version: outdated.
    s.send(hello({ version: '2025.10.1', buildHash: '' }));
    await s.next();
    assert.equal((await h.call('GET', `/api/v3/outposts/instances/${RADIUS_OUTPOST}/health/`, { token: RADIUS_TOKEN })).body[0].version_outdated, true);
    // A different build hash is never outdated (authentik's rule).
    s.send(hello({ version: '2025.10.1', buildHash: 'custom' }));
    await s.next();
    assert.equal((await h.call('GET', `/api/v3/outposts/instances/${RADIUS_OUTPOST}/health/`, { token: ADMIN_TOKEN })).body[0].version_outdated, false);

    clock += 15_001;
    assert.deepEqual((await h.call('GET', `/api/v3/outposts/instances/${RADIUS_OUTPOST}/health/`, { token: ADMIN_TOKEN })).body, []);
    s.send(hello());
    await s.next();
    assert.equal((await h.call('GET', `/api/v3/outposts/instances/${RADIUS_OUTPOST}/health/`, { token: ADMIN_TOKEN })).body.length, 1);
    await s.close();
    await waitFor(async () => (await h.call('GET', `/api/v3/outposts/instances/${RADIUS_OUTPOST}/health/`, { token: ADMIN_TOKEN })).body.length === 0);
  });

  test('instances are keyed by instance_uuid and their attempt values recorded', async () => {
    const first = await connectOutpost(h, LDAP_OUTPOST, LDAP_TOKEN, '?instance_uuid=inst-a');
    await first.close();
    const second = await connectOutpost(h, LDAP_OUTPOST, LDAP_TOKEN, '?attempt=1&instance_uuid=inst-a');
    const other = await connectOutpost(h, LDAP_OUTPOST, LDAP_TOKEN, '?instance_uuid=inst-b');
    assert.deepEqual(h.core.instanceAttempts(LDAP_OUTPOST, 'inst-a'), [null, '1']);
    const connected = h.core.connectedOutposts().filter((c) => c.outpostUuid === LDAP_OUTPOST).map((c) => c.instanceUuid).sort();
    assert.deepEqual(connected, ['inst-a', 'inst-b']);
    second.send(hello({ hostname: 'a' }));
    other.send(hello({ hostname: 'b' }));
    await Promise.all([second.next(), other.next()]);
    const health = await h.call('GET', `/api/v3/outposts/instances/${LDAP_OUTPOST}/health/`, { token: LDAP_TOKEN });
    assert.deepEqual(health.body.map((s: { uid: string }) => s.uid).sort(), ['inst-a', 'inst-b']);
    await Promise.all([second.close(), other.close()]);
  });

  test('TRIGGER_UPDATE goes to the one outpost; SESSION_END to all outposts', async () => {
    const ldap = await connectOutpost(h, LDAP_OUTPOST, LDAP_TOKEN, '?instance_uuid=push-ldap');
    const radius = await connectOutpost(h, RADIUS_OUTPOST, RADIUS_TOKEN, '?instance_uuid=push-radius');
    assert.equal(h.core.triggerUpdate(RADIUS_OUTPOST), 1);
    assert.deepEqual(await radius.next(), { instruction: 2, args: {} });

    const cookie = await login(h, 'alice', 'alice-pw');
    const sessionId = createHash('sha256').update(sessionKeyOf(cookie)).digest('hex');
    assert.equal(await h.core.endUserSessions('alice'), 1);
    const expected = { instruction: 4, args: { type: 'event.session.end', session_id: sessionId } };
    assert.deepEqual(await ldap.next(), expected, 'the LDAP outpost got no TRIGGER_UPDATE meant for the RADIUS one');
    assert.deepEqual(await radius.next(), expected);
    const me = await h.call('GET', '/api/v3/core/users/me/', { cookie });
    assert.equal(me.status, 403, 'the ended session is gone');
    await Promise.all([ldap.close(), radius.close()]);
  });

  test('oversized frames close the connection; other paths are 404', async () => {
    const s = await connectOutpost(h, LDAP_OUTPOST, LDAP_TOKEN);
    const closed = new Promise<number>((resolveClose) => s.ws.once('close', (code) => resolveClose(code)));
    s.send({ instruction: 1, args: { pad: 'x'.repeat(70 * 1024) } });
    assert.equal(await closed, 1009);
    assert.equal(await refusal(connectOutpost(h, `${LDAP_OUTPOST}/extra`, LDAP_TOKEN)), 404);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}
