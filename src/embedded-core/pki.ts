/**
 * The embedded core's private PKI: a CA generated on first start under certsDir, and server certificates it signs
 * for the directory's certificate specs that carry no PEM files. Everything is reused while still valid, so
 * outposts and clients that trust ca.pem keep working across restarts.
 *
 * Layout: <certsDir>/ca.pem, ca.key, <name>.pem, <name>.key (keys 0600). EC P-256 keys; all synchronous
 * (EC key generation takes about a millisecond) so the directory loader can call it inline.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { isIP } from 'node:net';
import { createCertificatePem, generateKeyPairSync, ipv6Bytes, privateKeyPem } from '../lib/x509.js';
import type { CertificateAndKey } from '../lib/x509.js';
import type { CertificateSpec } from './directory/types.js';

const DAY_MS = 86_400_000;
const CA_DAYS = 3650;
const LEAF_DAYS = 365;
/** Re-issue when less than this is left, so a long-running demo never serves an expired certificate. */
const CA_RENEW_MS = 30 * DAY_MS;
const LEAF_RENEW_MS = 7 * DAY_MS;
/** Always present on generated server certificates: the demo runs on loopback. */
// OpenLDAP's client checks the name 127.0.0.1 resolves back to (often the machine's host name), not the URI's.
const DEFAULT_SANS = [...new Set(['localhost', '127.0.0.1', '::1', hostname()].filter((n) => n !== ''))];

export const CA_COMMON_NAME = 'ak-outpost embedded core CA';

export interface EmbeddedPki {
  readonly certsDir: string;
  readonly caCertificatePem: string;
  readonly caPath: string;
  /** A server certificate named `name` with the given SANs (plus localhost, loopback and this host's name); reused when valid. */
  serverCertificate(name: string, subjectAltNames: readonly string[]): CertificateAndKey;
  /** For the directory loader: a generated certificate for a spec without PEM files. */
  resolveCertificate(spec: CertificateSpec): CertificateAndKey;
}

/** File-safe form of a certificate name; never a path. */
export function certificateFileStem(name: string): string {
  const stem = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  if (stem === '' || stem === 'ca') return `cert-${stem}`;
  return stem.slice(0, 100);
}

function writeAtomic(path: string, data: string, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

function readPair(certPath: string, keyPath: string): { cert: X509Certificate; key: KeyObject; certPem: string; keyPem: string } | null {
  if (!existsSync(certPath) || !existsSync(keyPath)) return null;
  try {
    const certPem = readFileSync(certPath, 'utf8');
    const keyPem = readFileSync(keyPath, 'utf8');
    const cert = new X509Certificate(certPem);
    const key = createPrivateKey(keyPem);
    if (!cert.checkPrivateKey(key)) return null;
    return { cert, key, certPem, keyPem };
  } catch {
    return null;
  }
}

function normalisedSan(entry: string): string {
  const version = isIP(entry);
  if (version === 4) return `IP:${entry}`;
  if (version === 6) return `IP:${ipv6Bytes(entry).toString('hex')}`;
  return `DNS:${entry.toLowerCase()}`;
}

/** The SANs node reports, normalised like normalisedSan. */
function certificateSans(cert: X509Certificate): Set<string> {
  const out = new Set<string>();
  for (const part of (cert.subjectAltName ?? '').split(', ')) {
    if (part.startsWith('DNS:')) out.add(`DNS:${part.slice(4).toLowerCase()}`);
    else if (part.startsWith('IP Address:')) out.add(normalisedSan(part.slice('IP Address:'.length)));
  }
  return out;
}

function notExpiringWithin(cert: X509Certificate, marginMs: number): boolean {
  return new Date(cert.validTo).getTime() - Date.now() > marginMs && new Date(cert.validFrom).getTime() <= Date.now() + 60_000;
}

export function openPki(certsDir: string): EmbeddedPki {
  mkdirSync(certsDir, { recursive: true, mode: 0o700 });
  const caPath = join(certsDir, 'ca.pem');
  const caKeyPath = join(certsDir, 'ca.key');

  let ca = readPair(caPath, caKeyPath);
  if (!ca || !ca.cert.ca || !notExpiringWithin(ca.cert, CA_RENEW_MS)) {
    const { publicKey, privateKey } = generateKeyPairSync('ec-p256');
    const now = Date.now();
    const certPem = createCertificatePem({
      subject: { commonName: CA_COMMON_NAME, organization: 'ak-outpost' },
      subjectPublicKey: publicKey,
      signingKey: privateKey,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + CA_DAYS * DAY_MS),
      isCa: true,
    });
    const keyPem = privateKeyPem(privateKey);
    writeAtomic(caKeyPath, keyPem, 0o600);
    writeAtomic(caPath, certPem, 0o644);
    ca = { cert: new X509Certificate(certPem), key: privateKey, certPem, keyPem };
  }
  const caPair = ca;

  function serverCertificate(name: string, subjectAltNames: readonly string[]): CertificateAndKey {
    const stem = certificateFileStem(name);
    const certPath = join(certsDir, `${stem}.pem`);
    const keyPath = join(certsDir, `${stem}.key`);
    const wanted = [...new Set([...subjectAltNames, ...DEFAULT_SANS])];
    const existing = readPair(certPath, keyPath);
    if (
      existing &&
      existing.cert.checkIssued(caPair.cert) &&
      existing.cert.verify(caPair.cert.publicKey) &&
      notExpiringWithin(existing.cert, LEAF_RENEW_MS)
    ) {
      const have = certificateSans(existing.cert);
      if (wanted.every((san) => have.has(normalisedSan(san)))) {
        return { certificatePem: existing.certPem, privateKeyPem: existing.keyPem };
      }
    }
    const { publicKey, privateKey } = generateKeyPairSync('ec-p256');
    const now = Date.now();
    const certificatePem = createCertificatePem({
      subject: { commonName: name, organization: 'ak-outpost' },
      subjectPublicKey: publicKey,
      issuerCertificate: caPair.cert,
      signingKey: caPair.key,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + LEAF_DAYS * DAY_MS),
      subjectAltNames: wanted,
      extendedKeyUsage: ['serverAuth', 'clientAuth'],
    });
    const keyPem = privateKeyPem(privateKey);
    writeAtomic(keyPath, keyPem, 0o600);
    writeAtomic(certPath, certificatePem, 0o644);
    return { certificatePem, privateKeyPem: keyPem };
  }

  return {
    certsDir,
    caCertificatePem: caPair.certPem,
    caPath,
    serverCertificate,
    resolveCertificate: (spec) => serverCertificate(spec.name, spec.subject_alt_names ?? []),
  };
}
