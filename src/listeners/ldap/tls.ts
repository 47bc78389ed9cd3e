/**
 * TLS parameters for LDAPS and StartTLS (reference §4.2: TLS >= 1.2, X25519/P-256/P-384, server cipher
 * preference, no client certificate request).
 */
import tls from 'node:tls';

export const LDAP_TLS_MIN_VERSION = 'TLSv1.2';
const ECDH_CURVES = 'X25519:P-256:P-384';
/** Protocols refused even if a context passed in allowed them. */
const REFUSED_PROTOCOLS: ReadonlySet<string> = new Set(['SSLv2', 'SSLv3', 'TLSv1', 'TLSv1.1']);

/** Picks the certificate for a handshake; `servername` is the SNI, undefined when the client sent none. */
export type SelectCertificate = (servername: string | undefined) => tls.SecureContext;

/** A secure context with the listener's TLS parameters, for the provider layer's SelectCertificate. */
export function createLdapSecureContext(keyPair: { key: string | Buffer; cert: string | Buffer }): tls.SecureContext {
  return tls.createSecureContext({
    key: keyPair.key,
    cert: keyPair.cert,
    minVersion: LDAP_TLS_MIN_VERSION,
    ecdhCurve: ECDH_CURVES,
    honorCipherOrder: true,
  });
}

/** False for a negotiated protocol below TLS 1.2 (a backstop for contexts not made by createLdapSecureContext). */
export function isAcceptedTlsProtocol(protocol: string | null): boolean {
  return protocol !== null && !REFUSED_PROTOCOLS.has(protocol);
}
