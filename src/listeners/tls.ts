/**
 * The outpost's one TLS policy for the servers it runs (LDAPS and StartTLS, EAP's inner TLS), for generated and
 * core-supplied certificates alike (reference §4.2: TLS >= 1.2, X25519/P-256/P-384, server cipher preference).
 */
import tls from 'node:tls';

const TLS_MIN_VERSION = 'TLSv1.2';
const ECDH_CURVES = 'X25519:P-256:P-384';

export function createServerSecureContext(keyPair: { key: string | Buffer; cert: string | Buffer }): tls.SecureContext {
  return tls.createSecureContext({
    key: keyPair.key,
    cert: keyPair.cert,
    minVersion: TLS_MIN_VERSION,
    ecdhCurve: ECDH_CURVES,
    honorCipherOrder: true,
  });
}
