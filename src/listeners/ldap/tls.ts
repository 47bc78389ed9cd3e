/**
 * TLS for LDAPS and StartTLS: contexts come from createServerSecureContext (../tls.ts, the outpost's one policy);
 * no client certificate is requested. This checks what a handshake negotiated.
 */
import type tls from 'node:tls';

/** Protocols refused even if a context passed in allowed them. */
const REFUSED_PROTOCOLS: ReadonlySet<string> = new Set(['SSLv2', 'SSLv3', 'TLSv1', 'TLSv1.1']);

/** Picks the certificate for a handshake; `servername` is the SNI, undefined when the client sent none. */
export type SelectCertificate = (servername: string | undefined) => tls.SecureContext;

/** False for a negotiated protocol below TLS 1.2 (a backstop for contexts not made by createServerSecureContext). */
export function isAcceptedTlsProtocol(protocol: string | null): boolean {
  return protocol !== null && !REFUSED_PROTOCOLS.has(protocol);
}
