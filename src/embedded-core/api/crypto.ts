/**
 * /crypto/certificatekeypairs/{uuid}/ (+ view_certificate/, view_private_key/): what the outposts read to serve
 * LDAPS/StartTLS and EAP-TLS. The admin sees every keypair; an outpost token only those its providers use
 * (authentik grants view/cert/key on the provider's certificate to the outpost's service account).
 */
import { X509Certificate } from 'node:crypto';
import type { CoreCertificate, Directory } from '../model.js';
import type { ApiRequest, ApiResponse } from './http.js';
import { canonicalUuid, json, objectNotFound } from './http.js';
import { directoryIndex } from './indexes.js';
import { certificateKeyPairJson } from './serialize.js';

const keyTypes = new WeakMap<CoreCertificate, string | null>();

/** authentik's key_type: the certificate's public key algorithm. */
function keyAlgorithm(cert: CoreCertificate): string | null {
  if (keyTypes.has(cert)) return keyTypes.get(cert) ?? null;
  let type: string | null = null;
  try {
    const kind = new X509Certificate(cert.certificatePem).publicKey.asymmetricKeyType;
    type = kind === 'rsa' || kind === 'ec' || kind === 'dsa' || kind === 'ed25519' || kind === 'ed448' ? kind : null;
  } catch {
    type = null;
  }
  keyTypes.set(cert, type);
  return type;
}

function visibleCertificate(req: ApiRequest, directory: Directory, uuid: string): CoreCertificate | undefined {
  const key = canonicalUuid(uuid);
  const cert = key !== null ? directoryIndex(directory).certificateByUuid.get(key) : undefined;
  if (!cert) return undefined;
  const p = req.principal;
  if (p.kind === 'admin') return cert;
  if (p.kind !== 'outpost') return undefined;
  const self = directory.outposts.get(p.outpost.uuid);
  const used = (self?.providers ?? []).some((pk) => directory.providers.get(pk)?.certificate === cert.uuid);
  return used ? cert : undefined;
}

function fileName(cert: CoreCertificate, suffix: string): string {
  return `${cert.name.replace(/[^A-Za-z0-9._-]/g, '_')}_${suffix}.pem`;
}

export function certificateRoute(req: ApiRequest, directory: Directory, uuid: string, view: 'retrieve' | 'certificate' | 'private_key'): ApiResponse {
  const cert = visibleCertificate(req, directory, uuid);
  if (!cert) return objectNotFound(req.generation, 'CertificateKeyPair');
  if (view === 'retrieve') return json(200, certificateKeyPairJson(cert, req.generation, keyAlgorithm(cert)));
  const data = view === 'certificate' ? cert.certificatePem : cert.privateKeyPem;
  if (req.query.has('download')) {
    return {
      status: 200,
      text: { contentType: 'application/x-pem-file', data },
      headers: { 'content-disposition': `attachment; filename="${fileName(cert, view)}"` },
    };
  }
  return json(200, { data });
}
