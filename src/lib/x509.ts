/**
 * X.509 v3 certificate writer on top of der.ts and node:crypto (keys and signatures). Enough for a private CA,
 * server/client certificates and self-signed defaults; no parsing beyond what issuing needs (node's
 * X509Certificate does the reading).
 */
import { createHash, generateKeyPair as generateKeyPairCb, generateKeyPairSync as nodeGenerateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import {
  derBitString,
  derBoolean,
  derChildren,
  derExplicit,
  derImplicitPrimitive,
  derInteger,
  derNull,
  derOctetString,
  derOid,
  derPrintableString,
  derRead,
  derSequence,
  derSet,
  derUtf8String,
  derX509Time,
  toPem,
} from './der.js';

export type KeyAlgorithm = 'ec-p256' | 'rsa-2048';

export interface NameAttributes {
  commonName: string;
  organization?: string;
  organizationalUnit?: string;
  /** Two-letter country code. */
  country?: string;
}

export type ExtendedKeyUsage = 'serverAuth' | 'clientAuth';

export interface CertificateOptions {
  subject: NameAttributes;
  subjectPublicKey: KeyObject;
  /** Who signs: omit for self-signed (then `signingKey` is the subject's own private key). */
  issuerCertificate?: X509Certificate;
  signingKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
  /** Positive serial; 16 random bytes when absent. */
  serialNumber?: Buffer;
  isCa?: boolean;
  /** DNS names and IP addresses (v4/v6) for subjectAltName. */
  subjectAltNames?: readonly string[];
  extendedKeyUsage?: readonly ExtendedKeyUsage[];
}

const OID = {
  commonName: '2.5.4.3',
  country: '2.5.4.6',
  organization: '2.5.4.10',
  organizationalUnit: '2.5.4.11',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  ed25519: '1.3.101.112',
} as const;

/** Encodes a distinguished name in the fixed order C, O, OU, CN. */
export function encodeName(name: NameAttributes): Buffer {
  const rdns: Buffer[] = [];
  const add = (oid: string, value: Buffer): void => {
    rdns.push(derSet(derSequence(derOid(oid), value)));
  };
  if (name.country !== undefined) add(OID.country, derPrintableString(name.country));
  if (name.organization !== undefined) add(OID.organization, derUtf8String(name.organization));
  if (name.organizationalUnit !== undefined) add(OID.organizationalUnit, derUtf8String(name.organizationalUnit));
  add(OID.commonName, derUtf8String(name.commonName));
  return derSequence(...rdns);
}

function spkiDer(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING value. */
export function keyIdentifier(publicKey: KeyObject): Buffer {
  const spki = spkiDer(publicKey);
  const [, bitString] = derChildren(spki, derRead(spki, 0));
  if (bitString === undefined || bitString.tag !== 0x03) throw new RangeError('keyIdentifier: unexpected SPKI');
  return createHash('sha1').update(spki.subarray(bitString.contentStart + 1, bitString.end)).digest();
}

/** The raw DER subject Name of a certificate, so an issued certificate's issuer matches byte for byte. */
export function certificateSubjectDer(cert: X509Certificate): Buffer {
  const raw = cert.raw;
  const [tbs] = derChildren(raw, derRead(raw, 0));
  if (tbs === undefined) throw new RangeError('certificateSubjectDer: no tbsCertificate');
  const fields = derChildren(raw, tbs);
  // version [0] is optional; subject is the 5th field after it.
  const start = fields[0]?.tag === 0xa0 ? 1 : 0;
  const subject = fields[start + 4];
  if (subject === undefined || subject.tag !== 0x30) throw new RangeError('certificateSubjectDer: no subject');
  return raw.subarray(subject.offset, subject.end);
}

function signatureAlgorithm(key: KeyObject): { algorithmIdentifier: Buffer; digest: string | null } {
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'secp384r1') return { algorithmIdentifier: derSequence(derOid(OID.ecdsaWithSha384)), digest: 'sha384' };
      return { algorithmIdentifier: derSequence(derOid(OID.ecdsaWithSha256)), digest: 'sha256' };
    }
    case 'rsa':
      return { algorithmIdentifier: derSequence(derOid(OID.sha256WithRsa), derNull()), digest: 'sha256' };
    case 'ed25519':
      return { algorithmIdentifier: derSequence(derOid(OID.ed25519)), digest: null };
    default:
      throw new RangeError(`unsupported signing key type ${String(key.asymmetricKeyType)}`);
  }
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return critical
    ? derSequence(derOid(oid), derBoolean(true), derOctetString(value))
    : derSequence(derOid(oid), derOctetString(value));
}

/** keyUsage named bits (0 = digitalSignature …) as a minimal DER BIT STRING. */
function keyUsageBits(bits: readonly number[]): Buffer {
  let value = 0;
  for (const bit of bits) value |= 0x80 >> bit;
  const highest = Math.max(...bits);
  return derBitString(Buffer.from([value]), 7 - highest);
}

/** IPv6 text (with `::` and an optional dotted IPv4 tail) to 16 bytes. */
export function ipv6Bytes(text: string): Buffer {
  let head = text;
  const tail: number[] = [];
  const dotted = /:(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1] !== undefined) {
    tail.push(...dotted[1].split('.').map(Number));
    head = text.slice(0, text.length - dotted[1].length) + '0:0';
  }
  const halves = head.split('::');
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const left = parse(halves[0] ?? '');
  const right = halves.length > 1 ? parse(halves[1] ?? '') : [];
  const groups = halves.length > 1 ? [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right] : left;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g & 0xffff, i * 2));
  if (tail.length === 4) Buffer.from(tail).copy(out, 12);
  return out;
}

function generalName(entry: string): Buffer {
  if (isIPv4(entry)) return derImplicitPrimitive(7, Buffer.from(entry.split('.').map(Number)));
  if (isIPv6(entry)) return derImplicitPrimitive(7, ipv6Bytes(entry));
  for (let i = 0; i < entry.length; i++) {
    if (entry.charCodeAt(i) > 0x7e || entry.charCodeAt(i) < 0x21) throw new RangeError(`invalid DNS name in subjectAltName: ${entry}`);
  }
  return derImplicitPrimitive(2, Buffer.from(entry, 'latin1'));
}

function randomSerial(): Buffer {
  const serial = randomBytes(16);
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x01; // positive and exactly 16 octets
  return serial;
}

/** Builds and signs a certificate; returns its DER. */
export function createCertificateDer(options: CertificateOptions): Buffer {
  const subjectName = encodeName(options.subject);
  const issuerName = options.issuerCertificate ? certificateSubjectDer(options.issuerCertificate) : subjectName;
  const issuerPublicKey = options.issuerCertificate ? options.issuerCertificate.publicKey : options.subjectPublicKey;
  const { algorithmIdentifier, digest } = signatureAlgorithm(options.signingKey);

  const extensions: Buffer[] = [];
  const isCa = options.isCa === true;
  extensions.push(extension(OID.basicConstraints, true, isCa ? derSequence(derBoolean(true)) : derSequence()));
  if (isCa) {
    extensions.push(extension(OID.keyUsage, true, keyUsageBits([0, 5, 6])));
  } else {
    const rsa = options.subjectPublicKey.asymmetricKeyType === 'rsa';
    extensions.push(extension(OID.keyUsage, true, keyUsageBits(rsa ? [0, 2] : [0])));
  }
  if (options.extendedKeyUsage && options.extendedKeyUsage.length > 0) {
    extensions.push(extension(OID.extKeyUsage, false, derSequence(...options.extendedKeyUsage.map((u) => derOid(OID[u])))));
  }
  if (options.subjectAltNames && options.subjectAltNames.length > 0) {
    extensions.push(extension(OID.subjectAltName, false, derSequence(...options.subjectAltNames.map(generalName))));
  }
  extensions.push(extension(OID.subjectKeyIdentifier, false, derOctetString(keyIdentifier(options.subjectPublicKey))));
  extensions.push(
    extension(OID.authorityKeyIdentifier, false, derSequence(derImplicitPrimitive(0, keyIdentifier(issuerPublicKey)))),
  );

  const tbs = derSequence(
    derExplicit(0, derInteger(2)),
    derInteger(options.serialNumber ?? randomSerial()),
    algorithmIdentifier,
    issuerName,
    derSequence(derX509Time(options.notBefore), derX509Time(options.notAfter)),
    subjectName,
    spkiDer(options.subjectPublicKey),
    derExplicit(3, derSequence(...extensions)),
  );
  const signature = sign(digest, tbs, options.signingKey);
  return derSequence(tbs, algorithmIdentifier, derBitString(signature));
}

export function createCertificatePem(options: CertificateOptions): string {
  return toPem('CERTIFICATE', createCertificateDer(options));
}

export function generateKeyPair(algorithm: KeyAlgorithm): Promise<{ publicKey: KeyObject; privateKey: KeyObject }> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, publicKey: KeyObject, privateKey: KeyObject): void => {
      if (err) reject(err);
      else resolve({ publicKey, privateKey });
    };
    if (algorithm === 'rsa-2048') generateKeyPairCb('rsa', { modulusLength: 2048 }, done);
    else generateKeyPairCb('ec', { namedCurve: 'prime256v1' }, done);
  });
}

/** Synchronous variant; cheap for EC keys (about a millisecond), slow for RSA. */
export function generateKeyPairSync(algorithm: KeyAlgorithm): { publicKey: KeyObject; privateKey: KeyObject } {
  return algorithm === 'rsa-2048'
    ? nodeGenerateKeyPairSync('rsa', { modulusLength: 2048 })
    : nodeGenerateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

/** PKCS#8 PEM of a private key (what node, openssl and Go's tls all read). */
export function privateKeyPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

export interface SelfSignedOptions {
  commonName: string;
  organization?: string;
  /** DNS names / IP addresses; `*` is allowed (authentik's default certificate uses it). */
  sans?: readonly string[];
  /** Validity in days from now (default 365). */
  days?: number;
  /** Default rsa-2048, like authentik's generated certificates. */
  keyAlgorithm?: KeyAlgorithm;
  extendedKeyUsage?: readonly ExtendedKeyUsage[];
}

export interface CertificateAndKey {
  certificatePem: string;
  privateKeyPem: string;
}

const DAY_MS = 86_400_000;

/**
 * A self-signed end-entity certificate, e.g. the outpost's default LDAP certificate
 * ({commonName: 'authentik default certificate', organization: 'authentik', sans: ['*']}).
 */
export async function generateSelfSigned(options: SelfSignedOptions): Promise<CertificateAndKey> {
  const { publicKey, privateKey } = await generateKeyPair(options.keyAlgorithm ?? 'rsa-2048');
  const now = Date.now();
  const certificatePem = createCertificatePem({
    subject: {
      commonName: options.commonName,
      ...(options.organization !== undefined ? { organization: options.organization } : {}),
    },
    subjectPublicKey: publicKey,
    signingKey: privateKey,
    // A minute of slack for clients whose clocks run slightly behind.
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + (options.days ?? 365) * DAY_MS),
    subjectAltNames: options.sans ?? [],
    extendedKeyUsage: options.extendedKeyUsage ?? ['serverAuth'],
  });
  return { certificatePem, privateKeyPem: privateKeyPem(privateKey) };
}
