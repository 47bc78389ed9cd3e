/**
 * EAP-TLS through the handler with an in-memory peer (node's TLS client): the client certificate reaches the flow
 * attempt (sent as X-Authentik-Outpost-Certificate) and the flow's refusal is an Access-Reject with EAP-Failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { X509Certificate } from 'node:crypto';
import { duplexPair } from 'node:stream';
import { connect, createSecureContext } from 'node:tls';
import { createCertificatePem, generateKeyPairSync } from '../../../src/lib/x509.js';
import { MetricsRegistry } from '../../../src/observability/metrics.js';
import { EapCode, EapType, decodeEap, decodeTlsPayload, eapNak, encodeEap, encodeTlsPayload, tlsAckPayload } from '../../../src/protocol/eap/index.js';
import { Code, decodePacket, eapMessageAttributes, encodeRequest, getState, joinEapMessage, stateAttribute } from '../../../src/protocol/radius/index.js';
import { RadiusRequestHandler, type RadiusProvider } from '../../../src/providers/radius/handler.js';
import { radiusMetrics } from '../../../src/providers/radius/metrics.js';
import { FakeCore, fakeRadiusProvider, fakeUser } from '../../helpers/fake-core.js';
import { LogCapture } from '../../helpers/log-capture.js';

const SECRET = 'radius-shared-secret';

function pemPair(commonName: string, issuer?: { cert: string; key: ReturnType<typeof generateKeyPairSync>['privateKey'] }) {
  const pair = generateKeyPairSync('ec-p256');
  const now = Date.now();
  const cert = createCertificatePem({
    subject: { commonName },
    subjectPublicKey: pair.publicKey,
    signingKey: issuer?.key ?? pair.privateKey,
    ...(issuer === undefined ? {} : { issuerCertificate: new X509Certificate(issuer.cert) }),
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 3_600_000),
  });
  return { cert, key: pair.privateKey, keyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

test('EAP-TLS: the client certificate goes to the flow; a refused flow is Access-Reject with EAP-Failure', async () => {
  const core = new FakeCore();
  core.users = [fakeUser({ pk: 1, username: 'alice' })];
  core.passwords.set('alice', 'alice-pw');
  const handler = new RadiusRequestHandler({
    api: core,
    outpostName: () => 'radius-outpost',
    timeoutMs: 5_000,
    logger: new LogCapture('debug').root.child('authentik.outpost.radius'),
    metrics: radiusMetrics(new MetricsRegistry()),
  });
  const server = pemPair('radius.test');
  const client = pemPair('alice', server);
  const provider: RadiusProvider = {
    config: fakeRadiusProvider(),
    secret: SECRET,
    eapContext: createSecureContext({ cert: server.cert, key: server.keyPem }),
  };
  let state: Buffer | undefined;
  let radiusId = 0;
  const exchange = async (eap: Buffer) => {
    const attributes = [...eapMessageAttributes(eap), ...(state === undefined ? [] : [stateAttribute(state)])];
    const datagram = encodeRequest({ code: Code.AccessRequest, identifier: radiusId++, attributes }, SECRET);
    const answer = decodePacket((await handler.handle({ service: 'authentication', source: { address: '10.1.2.3', port: 5000 }, client: provider, packet: decodePacket(datagram) }))!);
    state = getState(answer) ?? state;
    return { code: answer.code, eap: decodeEap(joinEapMessage(answer)!) };
  };

  const [peerSide, wire] = duplexPair();
  const fromPeer: Buffer[] = [];
  wire.on('data', (chunk: Buffer) => fromPeer.push(chunk));
  const peer = connect({ socket: peerSide, cert: client.cert, key: client.keyPem, rejectUnauthorized: false, maxVersion: 'TLSv1.2' });
  peer.on('error', () => undefined);
  const peerFlight = async (): Promise<Buffer> => {
    for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
    return Buffer.concat(fromPeer.splice(0));
  };

  let reply = await exchange(encodeEap({ code: EapCode.Response, identifier: 1, type: EapType.Identity, data: Buffer.from('alice') }));
  assert.ok('type' in reply.eap && reply.eap.type === EapType.Ttls);
  reply = await exchange(eapNak(reply.eap.identifier, [EapType.Tls]));
  for (let round = 0; round < 20 && reply.code === Code.AccessChallenge; round++) {
    assert.ok('type' in reply.eap && reply.eap.type === EapType.Tls);
    const payload = decodeTlsPayload(reply.eap.data);
    if (payload.data.length > 0) wire.write(payload.data);
    const records = payload.more ? Buffer.alloc(0) : await peerFlight();
    const data = records.length > 0 ? encodeTlsPayload({ messageLength: records.length, data: records }) : tlsAckPayload();
    reply = await exchange(encodeEap({ code: EapCode.Response, identifier: reply.eap.identifier, type: EapType.Tls, data }));
  }
  peer.destroy();
  assert.equal(reply.code, Code.AccessReject);
  assert.equal(reply.eap.code, EapCode.Failure);
  assert.equal(core.flowRuns.length, 1);
  assert.equal(core.flowRuns[0]!.username, 'alice');
  assert.equal(core.flowRuns[0]!.clientCertificatePem?.trim(), new X509Certificate(client.cert).toString().trim());
});
