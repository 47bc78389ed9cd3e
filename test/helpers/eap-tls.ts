/** What an EAP-TLS test needs: a RADIUS provider whose flow names the user, and a client certificate. */
import { X509Certificate } from 'node:crypto';
import type { DirectoryFile } from '../../src/embedded-core/directory/types.js';
import { createCertificatePem, generateKeyPairSync } from '../../src/lib/x509.js';
import { testDirectory } from './directories.js';

/**
 * testDirectory() with the RADIUS provider on an identification-only flow: the embedded core has no Mutual TLS
 * stage, so the flow names the user by the EAP identity alone.
 */
export async function eapTlsDirectory(): Promise<DirectoryFile> {
  const directory = await testDirectory();
  directory.flows = [{ slug: 'eap-tls', stages: [{ kind: 'identification', user_fields: ['username'] }, { kind: 'user_login' }] }];
  for (const p of directory.providers ?? []) if (p.type === 'radius') p.authorization_flow = 'eap-tls';
  return directory;
}

/** A clientAuth certificate for `commonName` from a throwaway CA, valid for an hour: PEM certificate and PKCS#8 key. */
export function clientCertificate(commonName: string): { certPem: string; keyPem: string } {
  const now = Date.now();
  const validity = { notBefore: new Date(now - 60_000), notAfter: new Date(now + 3_600_000) };
  const ca = generateKeyPairSync('ec-p256');
  const caPem = createCertificatePem({ subject: { commonName: 'EAP test CA' }, subjectPublicKey: ca.publicKey, signingKey: ca.privateKey, isCa: true, ...validity });
  const client = generateKeyPairSync('ec-p256');
  const certPem = createCertificatePem({
    subject: { commonName },
    subjectPublicKey: client.publicKey,
    issuerCertificate: new X509Certificate(caPem),
    signingKey: ca.privateKey,
    extendedKeyUsage: ['clientAuth'],
    ...validity,
  });
  return { certPem, keyPem: client.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}
