import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { CertificateStore, parsePair } from '../../src/outpost/cert-store.js';
import { FakeCore } from '../helpers/fake-core.js';
import { captureLogs } from './helpers.js';

// Throw-away self-signed P-256 pairs made for these tests (CN=ako-test-a / ako-test-b).
const CERT_A = `-----BEGIN CERTIFICATE-----
MIIBgjCCASegAwIBAgIUKKO/OMzbELNVGJNIt0c4astRicUwCgYIKoZIzj0EAwIw
FTETMBEGA1UEAwwKYWtvLXRlc3QtYTAgFw0yNjExMjMxMTI5MDJaGA8yMTI2MTAz
MDExMjkwMlowFTETMBEGA1UEAwwKYWtvLXRlc3QtYTBZMBMGByqGSM49AgEGCCqG
SM49AwEHA0IABBn35D24fiGL9uX/W/VvuTwcE7Ilj+MPZm+N1Yhw1tMgIBPeJLBn
2uH1qUxz75mLjTgSss7hKTQV7nove1bQcC6jUzBRMB0GA1UdDgQWBBRzNZlOEx0Z
rxS79V0GJg3i/dSjtjAfBgNVHSMEGDAWgBRzNZlOEx0ZrxS79V0GJg3i/dSjtjAP
BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0kAMEYCIQCqojWTYAf4H7R0oyhS
9rxRN43OWoDbsScefcY6SO8f4gIhANiVnRHYG3UA7RdWtwbeP9SE2FxGseIzmj07
eI5uhQhg
-----END CERTIFICATE-----\n`;
const KEY_A = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgKYG+U2MVj17k/DuC
XXSiNSPEkRjk5M+zMBpX0b40EGOhRANCAAQZ9+Q9uH4hi/bl/1v1b7k8HBOyJY/j
D2ZvjdWIcNbTICAT3iSwZ9rh9alMc++Zi404ErLO4Sk0Fe56L3tW0HAu
-----END PRIVATE KEY-----\n`;
const CERT_B = `-----BEGIN CERTIFICATE-----
MIIBgTCCASegAwIBAgIUUFoEKujjLUqf0+kjQILY+zNNgo8wCgYIKoZIzj0EAwIw
FTETMBEGA1UEAwwKYWtvLXRlc3QtYjAgFw0yNjExMjMxMTI5MDJaGA8yMTI2MTAz
MDExMjkwMlowFTETMBEGA1UEAwwKYWtvLXRlc3QtYjBZMBMGByqGSM49AgEGCCqG
SM49AwEHA0IABD6C3RSheRRoOOqOQ1WieCqkip0xsXc3+3g9JVn5TPo8eWlP/Myv
IL0KdCCQIrcNxNgrg3wXo0XWCx4YlbwCxpijUzBRMB0GA1UdDgQWBBR8QiO3PJwn
CYatOtrzO/wmELj3bDAfBgNVHSMEGDAWgBR8QiO3PJwnCYatOtrzO/wmELj3bDAP
BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQC1qp+PakG8VoAh4tgN
/h/6F72t8TmeKCYxM+29UPnD7wIgKbgyu1MWtvU1hLtoecKneJ3fs7zapoybfoQu
HoWFxPc=
-----END CERTIFICATE-----\n`;
const KEY_B = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgU0jajwHuHQxNDJDY
ddtMPLseoOZoSMlS33DErvF0R6OhRANCAAQ+gt0UoXkUaDjqjkNVongqpIqdMbF3
N/t4PSVZ+Uz6PHlpT/zMryC9CnQgkCK3DcTYK4N8F6NF1gseGJW8AsaY
-----END PRIVATE KEY-----\n`;

function fingerprint(pem: string): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
}

const KP = '5b1c7e0a-2d3f-4e5a-9b8c-7d6e5f4a3b2c';

function setup() {
  const api = new FakeCore();
  api.certificates.set(KP, { fingerprintSha256: fingerprint(CERT_A), certificatePem: CERT_A, privateKeyPem: KEY_A });
  const logs = captureLogs('debug');
  const store = new CertificateStore(api, logs.root.child('authentik.outpost.cryptostore'));
  return { api, logs, store };
}

describe('certificate store', () => {
  test('fetches and parses a pair, then only the fingerprint while it is unchanged', async () => {
    const { api, store } = setup();
    const first = await store.get(KP);
    assert.ok(first);
    assert.equal(first.certificate.subject, 'CN=ako-test-a');
    assert.equal(first.privateKey.asymmetricKeyType, 'ec');
    assert.equal(first.fingerprintSha256, fingerprint(CERT_A));
    const again = await store.get(KP);
    assert.equal(again, first);
    assert.equal(api.calls.certificate, 2);
    assert.equal(api.calls.certificatePair, 1);
    assert.equal(store.cached(KP), first);
  });

  test('a changed fingerprint refetches the pair', async () => {
    const { api, store } = setup();
    await store.get(KP);
    api.certificates.set(KP, { fingerprintSha256: fingerprint(CERT_B), certificatePem: CERT_B, privateKeyPem: KEY_B });
    const next = await store.get(KP);
    assert.equal(next?.certificate.subject, 'CN=ako-test-b');
    assert.equal(api.calls.certificatePair, 2);
  });

  test('fetch errors and unusable pairs keep the previous pair', async () => {
    const { api, store, logs } = setup();
    const good = await store.get(KP);
    api.failNext('certificate');
    assert.equal(await store.get(KP), good);
    // New fingerprint, but the key does not match the certificate.
    api.certificates.set(KP, { fingerprintSha256: fingerprint(CERT_B), certificatePem: CERT_B, privateKeyPem: KEY_A });
    assert.equal(await store.get(KP), good);
    // No private key at all.
    api.certificates.set(KP, { fingerprintSha256: fingerprint(CERT_B), certificatePem: CERT_B, privateKeyPem: '' });
    assert.equal(await store.get(KP), good);
    api.certificates.set(KP, { fingerprintSha256: fingerprint(CERT_B), certificatePem: CERT_B, privateKeyPem: KEY_B });
    api.failNext('certificatePair');
    assert.equal(await store.get(KP), good);
    assert.equal((await store.get(KP))?.certificate.subject, 'CN=ako-test-b');
    assert.ok(!logs.text().includes('PRIVATE KEY'), 'key material never logged');
  });

  test('unknown key pair without a previous one gives undefined', async () => {
    const { store } = setup();
    assert.equal(await store.get('00000000-0000-4000-8000-000000000000'), undefined);
  });

  test('concurrent gets share one fetch', async () => {
    const { api, store } = setup();
    const [a, b, c] = await Promise.all([store.get(KP), store.get(KP), store.get(KP)]);
    assert.equal(a, b);
    assert.equal(b, c);
    assert.equal(api.calls.certificate, 1);
  });

  test('parsePair errors say what is wrong without echoing PEM', () => {
    assert.throws(() => parsePair(KP, 'garbage', KEY_A, null), /^Error: certificate is not valid PEM$/);
    assert.throws(() => parsePair(KP, CERT_A, 'garbage', null), /^Error: private key is not valid PEM$/);
    assert.throws(() => parsePair(KP, CERT_A, KEY_B, null), /does not match/);
    assert.equal(parsePair(KP, CERT_A, KEY_A, null).fingerprintSha256, fingerprint(CERT_A));
  });

  test('retain drops pairs no longer referenced', async () => {
    const { store } = setup();
    await store.get(KP);
    store.retain([]);
    assert.equal(store.cached(KP), undefined);
  });
});
