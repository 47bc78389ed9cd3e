import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import tls from 'node:tls';
import { deriveEapKeys, exporterInput, type TlsMethod } from '../../../src/protocol/eap/keys.js';
import { createCertificatePem, generateKeyPairSync } from '../../../src/lib/x509.js';
import { duplexPair } from '../../helpers/ldap-pair.js';

describe('exporter label and context per method and TLS version', () => {
  test('TLS 1.2 and earlier: the method\'s PRF label, no context', () => {
    for (const version of ['TLSv1', 'TLSv1.1', 'TLSv1.2']) {
      assert.deepEqual(exporterInput('tls', version), { label: 'client EAP encryption', context: undefined });
      assert.deepEqual(exporterInput('peap', version), { label: 'client EAP encryption', context: undefined });
      assert.deepEqual(exporterInput('ttls', version), { label: 'ttls keying material', context: undefined });
    }
  });

  test('TLS 1.3: one label, the EAP Type octet as context (RFC 9190, RFC 9427)', () => {
    const cases: Array<[TlsMethod, number]> = [['tls', 0x0d], ['ttls', 0x15], ['peap', 0x19]];
    for (const [method, type] of cases) {
      assert.deepEqual(exporterInput(method, 'TLSv1.3'), { label: 'EXPORTER_EAP_TLS_Key_Material', context: Buffer.from([type]) });
    }
    assert.throws(() => exporterInput('tls', 'SSLv3'), RangeError);
  });

  test('128 octets are exported once; MSK is 0-63, EMSK 64-127; no context argument below TLS 1.3', () => {
    const calls: unknown[][] = [];
    const material = Buffer.from(Array.from({ length: 128 }, (_, i) => i));
    const session = (protocol: string | null, output: Buffer) => ({
      getProtocol: () => protocol,
      exportKeyingMaterial: (...args: unknown[]) => {
        calls.push(args);
        return output;
      },
    });
    const keys = deriveEapKeys('ttls', session('TLSv1.2', material));
    assert.deepEqual(calls, [[128, 'ttls keying material']]);
    assert.deepEqual(keys.msk, material.subarray(0, 64));
    assert.deepEqual(keys.emsk, material.subarray(64));
    calls.length = 0;
    deriveEapKeys('peap', session('TLSv1.3', material));
    assert.deepEqual(calls, [[128, 'EXPORTER_EAP_TLS_Key_Material', Buffer.from([0x19])]]);
    assert.throws(() => deriveEapKeys('tls', session('TLSv1.2', Buffer.alloc(64))), RangeError);
    assert.throws(() => deriveEapKeys('tls', session(null, material)), RangeError);
  });
});

/** A TLS handshake in memory; returns both ends and the octets the server sent. */
async function handshake(options: tls.ConnectionOptions): Promise<{ server: tls.TLSSocket; client: tls.TLSSocket; serverBytes: Buffer[]; keylog: Buffer[] }> {
  const { privateKey, publicKey } = generateKeyPairSync('ec-p256');
  const now = Date.now();
  const cert = createCertificatePem({
    subject: { commonName: 'eap.test' },
    subjectPublicKey: publicKey,
    signingKey: privateKey,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 3_600_000),
  });
  const key = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const pair = duplexPair();
  const serverBytes: Buffer[] = [];
  const write = pair.server.write.bind(pair.server);
  pair.server.write = ((chunk: Buffer, ...rest: never[]) => {
    serverBytes.push(Buffer.from(chunk));
    return write(chunk, ...rest);
  }) as typeof pair.server.write;
  const server = new tls.TLSSocket(pair.server, { isServer: true, secureContext: tls.createSecureContext({ key, cert, ...options }) });
  const client = tls.connect({ socket: pair.client, rejectUnauthorized: false, ...options });
  const keylog: Buffer[] = [];
  client.on('keylog', (line) => keylog.push(line));
  await Promise.all([new Promise((r) => server.once('secure', r)), new Promise((r) => client.once('secureConnect', r))]);
  return { server, client, serverBytes, keylog };
}

/** TLS 1.2 PRF with SHA-256 (RFC 5246 section 5), written out to check the exporter independently. */
function prfSha256(secret: Buffer, label: string, seed: Buffer, length: number): Buffer {
  const labelSeed = Buffer.concat([Buffer.from(label, 'latin1'), seed]);
  const out: Buffer[] = [];
  let a = labelSeed;
  let total = 0;
  while (total < length) {
    a = createHmac('sha256', secret).update(a).digest();
    const block = createHmac('sha256', secret).update(a).update(labelSeed).digest();
    out.push(block);
    total += block.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

describe('with a real TLS session', () => {
  test('TLS 1.2: the MSK is RFC 5216\'s PRF(master secret, "client EAP encryption", randoms), on both ends', async () => {
    const { server, client, serverBytes, keylog } = await handshake({ maxVersion: 'TLSv1.2', minVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
    try {
      assert.equal(server.getProtocol(), 'TLSv1.2');
      const line = Buffer.concat(keylog).toString('latin1').split('\n').find((l) => l.startsWith('CLIENT_RANDOM '));
      assert.ok(line !== undefined, 'no CLIENT_RANDOM in the key log');
      const [, clientRandom, masterSecret] = line.trim().split(' ');
      const hello = Buffer.concat(serverBytes);
      assert.equal(hello[0], 0x16);
      assert.equal(hello[5], 0x02);
      const serverRandom = hello.subarray(11, 43);
      const expected = prfSha256(Buffer.from(masterSecret!, 'hex'), 'client EAP encryption', Buffer.concat([Buffer.from(clientRandom!, 'hex'), serverRandom]), 128);
      const serverKeys = deriveEapKeys('tls', server);
      const clientKeys = deriveEapKeys('tls', client);
      assert.deepEqual(serverKeys.msk, expected.subarray(0, 64));
      assert.deepEqual(serverKeys.emsk, expected.subarray(64));
      assert.deepEqual(clientKeys, serverKeys);
      const ttls = deriveEapKeys('ttls', server);
      assert.deepEqual(ttls.msk, prfSha256(Buffer.from(masterSecret!, 'hex'), 'ttls keying material', Buffer.concat([Buffer.from(clientRandom!, 'hex'), serverRandom]), 64));
    } finally {
      client.destroy();
      server.destroy();
    }
  });

  test('TLS 1.3: both ends agree, and the Type octet separates the methods', async () => {
    const { server, client } = await handshake({ minVersion: 'TLSv1.3' });
    try {
      assert.equal(server.getProtocol(), 'TLSv1.3');
      const keys = (socket: tls.TLSSocket, method: TlsMethod) => deriveEapKeys(method, socket);
      assert.deepEqual(keys(client, 'tls'), keys(server, 'tls'));
      assert.deepEqual(keys(client, 'peap'), keys(server, 'peap'));
      assert.notDeepEqual(keys(server, 'tls').msk, keys(server, 'ttls').msk);
      assert.notDeepEqual(keys(server, 'tls').msk, keys(server, 'peap').msk);
      assert.deepEqual(keys(server, 'tls').msk, server.exportKeyingMaterial(128, 'EXPORTER_EAP_TLS_Key_Material', Buffer.from([13])).subarray(0, 64));
    } finally {
      client.destroy();
      server.destroy();
    }
  });
});
