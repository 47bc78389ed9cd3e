import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { derInteger, derOid, derRead, derChildren, derUtcTime, derX509Time } from '../../../src/lib/der.js';
import { generateSelfSigned, ipv6Bytes } from '../../../src/lib/x509.js';
import { certificateFileStem, openPki } from '../../../src/embedded-core/pki.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ak-pki-'));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('der writer', () => {
  test('integers are minimal and positive', () => {
    assert.equal(derInteger(0).toString('hex'), '020100');
    assert.equal(derInteger(127).toString('hex'), '02017f');
    assert.equal(derInteger(128).toString('hex'), '02020080');
    assert.equal(derInteger(256).toString('hex'), '02020100');
    assert.equal(derInteger(Buffer.from([0, 0, 0x7f])).toString('hex'), '02017f');
    assert.equal(derInteger(Buffer.from([0xff])).toString('hex'), '020200ff');
  });

  test('OIDs encode base-128 arcs', () => {
    assert.equal(derOid('1.2.840.113549.1.1.11').toString('hex'), '06092a864886f70d01010b');
    assert.equal(derOid('2.5.29.17').toString('hex'), '0603551d11');
  });

  test('times switch to GeneralizedTime from 2050', () => {
    assert.equal(derUtcTime(new Date(Date.UTC(2026, 0, 2, 3, 4, 5))).toString('latin1').slice(2), '260102030405Z');
    assert.equal(derX509Time(new Date(Date.UTC(2050, 0, 1))).subarray(0, 1).toString('hex'), '18');
  });

  test('long lengths and reading back', () => {
    const big = Buffer.alloc(300, 1);
    const tlv = Buffer.concat([Buffer.from([0x04, 0x82, 0x01, 0x2c]), big]);
    const el = derRead(tlv, 0);
    assert.equal(el.contentStart, 4);
    assert.equal(el.end, 304);
    assert.throws(() => derRead(tlv.subarray(0, 100), 0), RangeError);
    assert.deepEqual(derChildren(Buffer.from('3006020101020102', 'hex'), derRead(Buffer.from('3006020101020102', 'hex'), 0)).length, 2);
  });

  test('IPv6 text to bytes', () => {
    assert.equal(ipv6Bytes('::1').toString('hex'), '00000000000000000000000000000001');
    assert.equal(ipv6Bytes('fe80::1:2').toString('hex'), 'fe800000000000000000000000010002');
    assert.equal(ipv6Bytes('::ffff:10.0.0.1').toString('hex'), '00000000000000000000ffff0a000001');
  });
});

describe('generateSelfSigned', () => {
  test('authentik-style default certificate: RSA-2048, CN/O, SAN *, serverAuth, self-verifying', async () => {
    const pair = await generateSelfSigned({ commonName: 'authentik default certificate', organization: 'authentik', sans: ['*'] });
    const cert = new X509Certificate(pair.certificatePem);
    assert.equal(cert.subject, 'O=authentik\nCN=authentik default certificate');
    assert.equal(cert.issuer, cert.subject);
    assert.equal(cert.subjectAltName, 'DNS:*');
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1']);
    assert.equal(cert.publicKey.asymmetricKeyType, 'rsa');
    assert.equal(cert.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
    assert.ok(cert.verify(cert.publicKey));
    assert.ok(cert.checkPrivateKey(createPrivateKey(pair.privateKeyPem)));
    assert.equal(cert.ca, false);
    const days = (new Date(cert.validTo).getTime() - new Date(cert.validFrom).getTime()) / 86_400_000;
    assert.ok(days > 364 && days < 367, `validity ${days} days`);
  });

  test('IP SANs and EC keys', async () => {
    const pair = await generateSelfSigned({ commonName: 'x', sans: ['127.0.0.1', '::1', 'ldap.example'], keyAlgorithm: 'ec-p256', days: 2 });
    const cert = new X509Certificate(pair.certificatePem);
    assert.ok(cert.checkIP('127.0.0.1'));
    assert.ok(cert.checkIP('::1'));
    assert.equal(cert.checkHost('ldap.example'), 'ldap.example');
    assert.equal(cert.publicKey.asymmetricKeyType, 'ec');
  });
});

describe('embedded PKI', () => {
  test('creates a CA and server certificates it signs, with SANs, EKU and 0600 keys', () => {
    const dir = tempDir();
    const pki = openPki(dir);
    const ca = new X509Certificate(readFileSync(join(dir, 'ca.pem')));
    assert.equal(ca.ca, true);
    assert.ok(ca.verify(ca.publicKey));
    const caYears = (new Date(ca.validTo).getTime() - Date.now()) / (365 * 86_400_000);
    assert.ok(caYears > 9.9 && caYears < 10.1);
    assert.equal(statSync(join(dir, 'ca.key')).mode & 0o777, 0o600);

    const pair = pki.serverCertificate('ldap server', ['ldap.example.com']);
    const leaf = new X509Certificate(pair.certificatePem);
    assert.ok(leaf.checkIssued(ca));
    assert.ok(leaf.verify(ca.publicKey));
    assert.equal(leaf.ca, false);
    // The host name is there because OpenLDAP clients check the name 127.0.0.1 resolves back to.
    const hostSan = hostname() === '' || hostname() === 'localhost' ? '' : `, DNS:${hostname()}`;
    assert.equal(leaf.subjectAltName, `DNS:ldap.example.com, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1${hostSan}`);
    assert.deepEqual(leaf.keyUsage, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    assert.ok(leaf.checkPrivateKey(createPrivateKey(pair.privateKeyPem)));
    assert.equal(statSync(join(dir, 'ldap_server.key')).mode & 0o777, 0o600);
    assert.equal(readFileSync(join(dir, 'ldap_server.pem'), 'utf8'), pair.certificatePem);

    const verify = spawnSync('openssl', ['verify', '-CAfile', join(dir, 'ca.pem'), join(dir, 'ldap_server.pem')], { encoding: 'utf8' });
    if (verify.error === undefined) assert.match(verify.stdout, /: OK/);
  });

  test('reuses valid material across restarts and re-issues when SANs change or the CA changes', () => {
    const dir = tempDir();
    const first = openPki(dir);
    const a = first.serverCertificate('svc', ['a.example']);
    const second = openPki(dir);
    assert.equal(second.caCertificatePem, first.caCertificatePem);
    assert.equal(second.serverCertificate('svc', ['a.example']).certificatePem, a.certificatePem);
    const widened = second.serverCertificate('svc', ['a.example', 'b.example']);
    assert.notEqual(widened.certificatePem, a.certificatePem);
    assert.match(new X509Certificate(widened.certificatePem).subjectAltName ?? '', /DNS:b\.example/);

    // A corrupted CA is replaced, and leaves signed by the old one are re-issued.
    writeFileSync(join(dir, 'ca.pem'), 'garbage');
    const third = openPki(dir);
    assert.notEqual(third.caCertificatePem, first.caCertificatePem);
    const reissued = new X509Certificate(third.serverCertificate('svc', ['a.example', 'b.example']).certificatePem);
    assert.ok(reissued.checkIssued(new X509Certificate(third.caCertificatePem)));
  });

  test('resolveCertificate serves the loader; names never escape the folder', () => {
    const dir = tempDir();
    const pki = openPki(dir);
    const pair = pki.resolveCertificate({ name: '../../etc/passwd', subject_alt_names: ['x.example'] });
    assert.ok(new X509Certificate(pair.certificatePem).checkHost('x.example'));
    assert.equal(certificateFileStem('../../etc/passwd'), '__.._etc_passwd');
    assert.equal(certificateFileStem('ca'), 'cert-ca');
    assert.ok(statSync(join(dir, '__.._etc_passwd.pem')).isFile());
  });
});
