/** The EAP server's conversation handling without TLS: Identity, Nak, the State map's cap and idle expiry. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { createSecureContext } from 'node:tls';
import { EapServer, type EapAnswer, type EapRequestInput } from '../../../src/providers/radius/eap.js';
import { EapCode, EapType, decodeEap, decodeTlsPayload, eapNak, encodeEap } from '../../../src/protocol/eap/index.js';

const context = createSecureContext({});
let states = 0;

function input(eap: Buffer, state?: Buffer, withContext = true): EapRequestInput {
  return {
    provider: 1,
    context: withContext ? context : undefined,
    eap,
    state,
    framedMtu: undefined,
    authenticate: () => Promise.reject(new Error('no flow in these tests')),
    newState: () => Buffer.from(`state-${states++}`),
  };
}

const identity = (id: number, name = 'alice'): Buffer => encodeEap({ code: EapCode.Response, identifier: id, type: EapType.Identity, data: Buffer.from(name) });

function challenge(answer: EapAnswer): { state: Buffer; identifier: number; type: number } {
  assert.equal(answer.kind, 'challenge');
  if (answer.kind !== 'challenge') throw new Error('unreachable');
  const eap = decodeEap(answer.eap);
  assert.ok('type' in eap);
  assert.equal(decodeTlsPayload(eap.data).start, true);
  return { state: answer.state, identifier: eap.identifier, type: eap.type };
}

function rejected(answer: EapAnswer, reason: string): void {
  assert.equal(answer.kind, 'reject');
  if (answer.kind !== 'reject') throw new Error('unreachable');
  assert.equal(answer.reason, reason);
  assert.equal(decodeEap(answer.eap).code, EapCode.Failure);
}

test('Identity starts EAP-TTLS; a Nak moves to the first other method the peer lists', async () => {
  const server = new EapServer();
  const first = challenge(await server.handle(input(identity(7))));
  assert.equal(first.type, EapType.Ttls);
  assert.equal(first.identifier, 8);
  const second = challenge(await server.handle(input(eapNak(8, [EapType.MsChapV2, EapType.Tls, EapType.Peap]), first.state)));
  assert.equal(second.type, EapType.Peap);
  assert.equal(second.identifier, 9);
});

test('a Nak listing none of TTLS, PEAP and TLS (MD5, MSCHAPv2) ends in EAP-Failure', async () => {
  const server = new EapServer();
  const first = challenge(await server.handle(input(identity(1))));
  rejected(await server.handle(input(eapNak(2, [EapType.Md5Challenge, EapType.MsChapV2]), first.state)), 'eap_no_common_method');
  assert.equal(server.size, 0);
});

test('without a certificate EAP is refused at the Identity', async () => {
  const server = new EapServer();
  rejected(await server.handle(input(identity(1), undefined, false)), 'eap_no_certificate');
  assert.equal(server.size, 0);
});

test('a response that is not an answer to our last request is discarded', async () => {
  const server = new EapServer();
  const first = challenge(await server.handle(input(identity(1))));
  assert.equal((await server.handle(input(eapNak(9, [EapType.Peap]), first.state))).kind, 'discard');
  assert.equal(server.size, 1);
});

test('conversations are capped and expire when idle', async () => {
  let now = 1_000_000;
  const server = new EapServer({ maxConversations: 2, idleMs: 60_000, now: () => now });
  const a = challenge(await server.handle(input(identity(1))));
  challenge(await server.handle(input(identity(1))));
  rejected(await server.handle(input(identity(1))), 'eap_too_many_conversations');
  now += 60_001;
  rejected(await server.handle(input(eapNak(2, [EapType.Peap]), a.state)), 'eap_unknown_state');
  assert.equal(server.size, 0);
  challenge(await server.handle(input(identity(1))));
});
