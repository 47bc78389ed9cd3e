/**
 * MSK and EMSK of the TLS-based methods, from the TLS keying material exporter (node:
 * tlsSocket.exportKeyingMaterial(length, label[, context])). 128 octets are exported in one call (with TLS 1.3 the
 * exporter output depends on the length asked for); MSK is octets 0-63 and EMSK 64-127.
 *
 * TLS 1.2 and earlier: label "client EAP encryption" for EAP-TLS (RFC 5216 section 2.3) and PEAPv0 (as Microsoft,
 * FreeRADIUS and hostapd do without crypto binding), "ttls keying material" for EAP-TTLS (RFC 5281 section 8);
 * no context. TLS 1.3: label "EXPORTER_EAP_TLS_Key_Material" with the EAP Type octet as context, for EAP-TLS
 * (RFC 9190 section 2.3) and for TTLS and PEAP alike (RFC 9427; hostapd does the same).
 */
import { Buffer } from 'node:buffer';
import { EapType } from './packet.js';

export type TlsMethod = 'tls' | 'ttls' | 'peap';

export interface ExporterInput {
  readonly label: string;
  /** Undefined means "no context", which differs from an empty one below TLS 1.3. */
  readonly context: Buffer | undefined;
}

/** The part of a tls.TLSSocket used here (a socket can be passed as is). */
export interface TlsSession {
  getProtocol(): string | null;
  /** Without `context`, the exporter runs with no context (node passes none to OpenSSL). */
  exportKeyingMaterial(length: number, label: string, context?: Buffer): Buffer;
}

export interface EapKeys {
  readonly msk: Buffer;
  readonly emsk: Buffer;
}

const KEYING_MATERIAL_BYTES = 128;
const TYPE_OCTET: Readonly<Record<TlsMethod, number>> = { tls: EapType.Tls, ttls: EapType.Ttls, peap: EapType.Peap };
const LEGACY_LABEL: Readonly<Record<TlsMethod, string>> = {
  tls: 'client EAP encryption',
  ttls: 'ttls keying material',
  peap: 'client EAP encryption',
};
const LEGACY_VERSIONS: ReadonlySet<string> = new Set(['TLSv1', 'TLSv1.1', 'TLSv1.2']);

/** Exporter label and context for `method` over `tlsVersion` as tlsSocket.getProtocol() names it. */
export function exporterInput(method: TlsMethod, tlsVersion: string): ExporterInput {
  if (tlsVersion === 'TLSv1.3') return { label: 'EXPORTER_EAP_TLS_Key_Material', context: Buffer.from([TYPE_OCTET[method]]) };
  if (LEGACY_VERSIONS.has(tlsVersion)) return { label: LEGACY_LABEL[method], context: undefined };
  throw new RangeError(`no EAP key derivation for TLS version ${tlsVersion}`);
}

/** MSK and EMSK of `method` from an established TLS session. */
export function deriveEapKeys(method: TlsMethod, session: TlsSession): EapKeys {
  const { label, context } = exporterInput(method, session.getProtocol() ?? 'none');
  const material = context === undefined ? session.exportKeyingMaterial(KEYING_MATERIAL_BYTES, label) : session.exportKeyingMaterial(KEYING_MATERIAL_BYTES, label, context);
  if (material.length !== KEYING_MATERIAL_BYTES) throw new RangeError('the exporter returned the wrong length');
  return { msk: material.subarray(0, 64), emsk: material.subarray(64, 128) };
}
