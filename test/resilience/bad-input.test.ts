/**
 * Bad input over the network (issue 13, part 1), against the real listeners and the embedded core: mutated LDAP
 * messages (alone and after valid pipelined requests) and crafted ones (truncated and oversized lengths, deep
 * filters, huge attribute lists), mutated and forged RADIUS datagrams. Each bad connection or packet gets a
 * protocol error or is dropped; a canary client bound before the storm is served throughout; nothing hangs
 * (every bad connection is closed by the server or answered once we stop sending) and nothing crashes.
 * The codec-level fuzzers (test/protocol/*\/fuzz.test.ts) cover the decoders themselves with far more inputs.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import net from 'node:net';
import { encodeMessage, type LdapOp } from '../../src/protocol/ldap/messages.js';
import { parseFilter, type Filter } from '../../src/protocol/ldap/filter.js';
import { Attr, Code, decodePacket, encodeRequest, hideUserPassword, textAttribute } from '../../src/protocol/radius/index.js';
import { BASE_DN, RADIUS_OUTPOST_TOKEN, RADIUS_SECRET } from '../helpers/directories.js';
import { figure } from '../helpers/figures.js';
import { LdapTestClient } from '../helpers/ldap-client.js';
import { fuzzIterations, fuzzer } from '../helpers/mutation-fuzzer.js';
import { ask, exchange, papRequest } from '../helpers/radius-client.js';
import { startStack, type Stack } from '../helpers/stack.js';

const SUITE = 'resilience: bad input';
const userDn = (name: string): string => `cn=${name},ou=users,${BASE_DN}`;

/** Sends `bytes` on a fresh connection, half-closes, and resolves with what came back once the server closed. */
function sendRaw(port: number, bytes: Buffer, deadlineMs = 10_000): Promise<{ closedByServer: boolean; received: Buffer }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ port, host: '127.0.0.1' }, () => socket.end(bytes));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ closedByServer: false, received: Buffer.concat(chunks) });
    }, deadlineMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ closedByServer: true, received: Buffer.concat(chunks) });
    });
  });
}

function search(messageID: number, filter: Filter | string, attributes: string[] = []): Buffer {
  const op: LdapOp = {
    kind: 'SearchRequest',
    baseObject: BASE_DN,
    scope: 2,
    derefAliases: 0,
    sizeLimit: 0,
    timeLimit: 0,
    typesOnly: false,
    filter: typeof filter === 'string' ? parseFilter(filter) : filter,
    attributes,
  };
  return encodeMessage({ messageID, op, controls: [] });
}

function nested(depth: number): Filter {
  let filter: Filter = { kind: 'present', type: 'cn' };
  for (let i = 0; i < depth; i++) filter = { kind: 'not', filter };
  return filter;
}

describe('LDAP listener under a storm of bad input', () => {
  let stack: Stack;
  let canary: LdapTestClient;
  let canaryRuns = 0;
  let canaryFailures = 0;
  let canaryTimer: NodeJS.Timeout | undefined;
  let stopped = false;

  before(async () => {
    stack = await startStack();
    canary = await LdapTestClient.connect(stack.ldapPort);
    assert.equal((await canary.bind(userDn('akadmin'), 'akadmin-pw')).resultCode, 0);
    const tick = async (): Promise<void> => {
      try {
        const { done, entries } = await canary.search(BASE_DN, '(cn=alice)');
        canaryRuns++;
        if (done.resultCode !== 0 || entries.length === 0) canaryFailures++;
      } catch {
        canaryFailures++;
      }
      if (!stopped) canaryTimer = setTimeout(() => void tick(), 20);
    };
    void tick();
  });
  after(async () => {
    stopped = true;
    clearTimeout(canaryTimer);
    canary.destroy();
    await stack.stop();
  });

  test('mutated messages, alone and after valid pipelined requests: each connection ends, the canary is served', async () => {
    const bindAlice = encodeMessage({ messageID: 1, op: { kind: 'BindRequest', version: 3, name: userDn('alice'), auth: { type: 'simple', password: Buffer.from('alice-pw') } }, controls: [] });
    const corpus = [
      bindAlice,
      search(2, '(&(objectClass=user)(|(cn=a*)(memberOf=cn=staff,ou=groups,DC=ldap,DC=goauthentik,DC=io)))', ['cn', 'mail']),
      search(3, '(!(uid>=x))'),
      encodeMessage({ messageID: 4, op: { kind: 'ExtendedRequest', requestName: '1.3.6.1.4.1.4203.1.11.3' }, controls: [] }),
      encodeMessage({ messageID: 5, op: { kind: 'UnbindRequest' }, controls: [] }),
    ];
    const f = fuzzer(0x5eed0013, corpus, [0x00, 0x01, 0x7f, 0x80, 0x81, 0x84, 0x85, 0xff, 0x30, 0x04, 0x0a, 0x60, 0x63, 0xa0, 0x87]);
    const inputs = fuzzIterations(600);
    const serverClosedOrAnswered = { closed: 0, answered: 0 };
    const batch = 25;
    for (let start = 0; start < inputs; start += batch) {
      const results = await Promise.all(
        Array.from({ length: Math.min(batch, inputs - start) }, () => {
          const bad = f.mutate(f.pick(corpus));
          // Half the time the bad message follows a valid bind and search on the same connection.
          const bytes = f.chance(0.5) ? Buffer.concat([bindAlice, search(2, '(cn=bob)'), bad]) : bad;
          return sendRaw(stack.ldapPort, bytes);
        }),
      );
      for (const r of results) {
        assert.ok(r.closedByServer, 'the server closed the connection after our end');
        serverClosedOrAnswered.closed++;
        if (r.received.length > 0) serverClosedOrAnswered.answered++;
      }
    }
    assert.equal(canaryFailures, 0, `the canary failed ${canaryFailures} of ${canaryRuns} searches`);
    assert.ok(canaryRuns > 0);
    figure(SUITE, 'mutated LDAP messages over TCP', `${inputs} connections, all closed by the server, ${serverClosedOrAnswered.answered} with an answer first; canary ${canaryRuns} searches, 0 failed`);
  });

  test('crafted: truncated and oversized lengths, deep filters, huge attribute lists, garbage mid-pipeline', async () => {
    const noticeOrError = (received: Buffer): boolean => received.length > 0;
    // A length that promises more than arrives: the server waits for the rest, our FIN ends it.
    const truncated = await sendRaw(stack.ldapPort, Buffer.from('308400000100020101', 'hex'));
    assert.ok(truncated.closedByServer);
    // A length beyond the message cap: Notice of Disconnection before the bytes even come.
    const oversized = await sendRaw(stack.ldapPort, Buffer.from('30847fffffff020101', 'hex'));
    assert.ok(oversized.closedByServer && noticeOrError(oversized.received), 'oversized length gets a notice');

    const client = await LdapTestClient.connect(stack.ldapPort);
    assert.equal((await client.bind(userDn('akadmin'), 'akadmin-pw')).resultCode, 0);
    const deep = await client.search(BASE_DN, nested(200));
    assert.equal(deep.done.resultCode, 2, 'a filter nested 200 deep is protocolError');
    const many = await client.search(BASE_DN, '(cn=alice)', { attributes: Array.from({ length: 5_000 }, (_, i) => `attr${i}`) });
    assert.equal(many.done.resultCode, 2, '5,000 requested attributes is protocolError');
    const fine = await client.search(BASE_DN, '(cn=alice)');
    assert.equal(fine.done.resultCode, 0, 'the same connection still serves after those');
    assert.equal(fine.entries.length >= 1, true);
    client.destroy();

    // Garbage between two valid pipelined searches: the first is answered, the connection ends at the garbage.
    const pipelined = await sendRaw(
      stack.ldapPort,
      Buffer.concat([
        encodeMessage({ messageID: 1, op: { kind: 'BindRequest', version: 3, name: userDn('akadmin'), auth: { type: 'simple', password: Buffer.from('akadmin-pw') } }, controls: [] }),
        Buffer.from('30050201', 'hex'),
        Buffer.from('ffffffffffffffff', 'hex'),
        search(3, '(cn=alice)'),
      ]),
    );
    assert.ok(pipelined.closedByServer && pipelined.received.length > 0);
    assert.equal(canaryFailures, 0);
  });
});

describe('RADIUS listener under a storm of bad datagrams', () => {
  let stack: Stack;

  before(async () => {
    stack = await startStack({ token: RADIUS_OUTPOST_TOKEN });
  });
  after(async () => {
    await stack.stop();
  });

  test('mutated and forged datagrams are never accepted; a valid PAP request between them always is', async () => {
    const pap = papRequest('alice', 'alice-pw', RADIUS_SECRET).datagram;
    const authenticator = Buffer.alloc(16, 7);
    const corpus = [
      pap,
      papRequest('bob', 'not-bobs-pw', RADIUS_SECRET, { messageAuthenticator: false }).datagram,
      encodeRequest({ code: Code.StatusServer, identifier: 9, authenticator, attributes: [] }, RADIUS_SECRET, true),
      encodeRequest(
        {
          code: Code.AccessRequest,
          identifier: 3,
          authenticator,
          attributes: [
            textAttribute(Attr.UserName, 'alice'),
            { type: Attr.EapMessage, value: Buffer.from('0201000a01616c696365', 'hex') },
          ],
        },
        RADIUS_SECRET,
        true,
      ),
      // Attributes overrunning the packet: a length byte past the end.
      Buffer.concat([pap.subarray(0, 20), Buffer.from('01ff616c696365', 'hex')]),
    ];
    const f = fuzzer(0x5eed1813, corpus, [0x00, 0x01, 0x02, 0x12, 0x4f, 0x50, 0xff]);
    const inputs = fuzzIterations(1_500);
    let accepted = 0;
    let answered = 0;
    let canaryRuns = 0;
    for (let start = 0; start < inputs; start += 100) {
      const round = Array.from({ length: Math.min(100, inputs - start) }, () => {
        const original = f.pick(corpus);
        let bad = f.mutate(original);
        // Octets past the Length field are padding (RFC 2865 section 3): the original plus a tail is the original.
        while (bad.length >= original.length && bad.subarray(0, original.length).equals(original)) bad = f.mutate(original);
        return bad;
      });
      const answers = await Promise.all(round.map((d) => exchange(d, { port: stack.radiusPort, waitMs: 300 })));
      for (const list of answers) {
        for (const a of list) {
          answered++;
          if (decodePacket(a).code === Code.AccessAccept) accepted++;
        }
      }
      const canary = await ask(papRequest('alice', 'alice-pw', RADIUS_SECRET).datagram, { port: stack.radiusPort, waitMs: 5_000 });
      assert.ok(canary !== undefined && decodePacket(canary).code === Code.AccessAccept, 'the canary is accepted');
      canaryRuns++;
    }
    assert.equal(accepted, 0, 'no mutated datagram was accepted');
    // A forged Message-Authenticator and a wrong secret: dropped, never an answer.
    const forged = Buffer.from(pap);
    forged[forged.length - 1]! ^= 1;
    assert.equal((await exchange(forged, { port: stack.radiusPort, waitMs: 500 })).length, 0, 'a forged request is not answered');
    const wrongSecret = papRequest('alice', 'alice-pw', 'not-the-secret').datagram;
    assert.equal((await exchange(wrongSecret, { port: stack.radiusPort, waitMs: 500 })).length, 0, 'a wrong secret is not answered');
    const noMa = encodeRequest(
      { code: Code.AccessRequest, identifier: 1, authenticator, attributes: [textAttribute(Attr.UserName, 'alice'), { type: Attr.UserPassword, value: hideUserPassword('alice-pw', 'not-the-secret', authenticator) }] },
      'not-the-secret',
      false,
    );
    assert.equal((await exchange(noMa, { port: stack.radiusPort, waitMs: 500 })).length, 0, 'required from this client once it sent one');
    figure(SUITE, 'mutated RADIUS datagrams', `${inputs} sent, ${answered} answered, none of them an Access-Accept; ${canaryRuns} canary PAP requests, all accepted`);
  });
});
