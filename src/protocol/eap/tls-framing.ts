/**
 * Framing shared by the TLS-based methods, EAP-TLS (RFC 5216 section 3.1), EAP-TTLS (RFC 5281 section 9.1) and
 * PEAP (MS-PEAP section 2.2.2): a flags octet (L, M, S and, for TTLS and PEAP, a 3-bit version), an optional
 * 4-octet TLS Message Length, then TLS data. Outgoing flights are cut into fragments; incoming fragments are
 * put back together by TlsReassembler, one fragment per round trip.
 */
import { Buffer } from 'node:buffer';
import { EapDecodeError } from './packet.js';

export const TlsFlag = Object.freeze({ Length: 0x80, More: 0x40, Start: 0x20 } as const);
const VERSION_MASK = 0x07;
/** EAP header, Type, flags and TLS Message Length in front of each fragment's TLS data. */
export const TLS_FRAGMENT_OVERHEAD = 10;
/** TLS data per outgoing fragment: the reference's 1,000 octets (FreeRADIUS: 1,024, lowered by Framed-MTU). */
export const DEFAULT_FRAGMENT_BYTES = 1000;
/** Largest reassembled TLS message accepted from a peer. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024;

/** Type-Data of a TLS-based method. */
export interface TlsPayload {
  readonly start: boolean;
  readonly more: boolean;
  /** TTLS/PEAP version bits; reserved (and ignored) in EAP-TLS. */
  readonly version: number;
  /** TLS Message Length, when the L flag is set. */
  readonly messageLength: number | undefined;
  /** A view of the input. */
  readonly data: Buffer;
}

export function decodeTlsPayload(typeData: Buffer): TlsPayload {
  if (typeData.length < 1) throw new EapDecodeError('short_packet', 'TLS-based method without a flags octet');
  const flags = typeData[0]!;
  const hasLength = (flags & TlsFlag.Length) !== 0;
  if (hasLength && typeData.length < 5) throw new EapDecodeError('short_packet', 'L flag set but no TLS Message Length');
  return {
    start: (flags & TlsFlag.Start) !== 0,
    more: (flags & TlsFlag.More) !== 0,
    version: flags & VERSION_MASK,
    messageLength: hasLength ? typeData.readUInt32BE(1) : undefined,
    data: typeData.subarray(hasLength ? 5 : 1),
  };
}

export interface TlsPayloadSpec {
  readonly start?: boolean;
  readonly more?: boolean;
  readonly version?: number;
  readonly messageLength?: number;
  readonly data?: Buffer;
}

export function encodeTlsPayload(spec: TlsPayloadSpec): Buffer {
  const version = spec.version ?? 0;
  if (!Number.isInteger(version) || version < 0 || version > VERSION_MASK) throw new RangeError(`version ${version} outside 0..7`);
  const data = spec.data ?? Buffer.alloc(0);
  const hasLength = spec.messageLength !== undefined;
  const out = Buffer.allocUnsafe(1 + (hasLength ? 4 : 0) + data.length);
  out[0] = (hasLength ? TlsFlag.Length : 0) | (spec.more === true ? TlsFlag.More : 0) | (spec.start === true ? TlsFlag.Start : 0) | version;
  if (hasLength) out.writeUInt32BE(spec.messageLength, 1);
  data.copy(out, hasLength ? 5 : 1);
  return out;
}

/** The Start request's Type-Data: S flag (and version), no data. */
export function tlsStartPayload(version = 0): Buffer {
  return encodeTlsPayload({ start: true, version });
}

/** The empty payload that acknowledges a fragment (both directions). */
export function tlsAckPayload(version = 0): Buffer {
  return encodeTlsPayload({ version });
}

/** A fragment acknowledgement: no data and none of L, M, S. */
export function isTlsAck(payload: TlsPayload): boolean {
  return payload.data.length === 0 && !payload.start && !payload.more && payload.messageLength === undefined;
}

/**
 * TLS data per fragment for a NAS that sent Framed-MTU: the EAP packet must fit the MTU, so the fragment
 * overhead comes off it; never above the configured size, never below 64 octets.
 */
export function fragmentBytesFor(configured: number, framedMtu: number | undefined): number {
  if (framedMtu === undefined || framedMtu - TLS_FRAGMENT_OVERHEAD >= configured) return configured;
  return Math.max(64, framedMtu - TLS_FRAGMENT_OVERHEAD);
}

/**
 * Cuts one outgoing TLS flight into Type-Data payloads of at most `fragmentBytes` TLS octets. Every payload
 * carries L with the total length (FreeRADIUS's include_length default, and the reference's); all but the last
 * carry M. Send them one per round trip, each after the peer's ACK.
 */
export function fragmentTlsMessage(message: Buffer, fragmentBytes: number = DEFAULT_FRAGMENT_BYTES, version = 0): Buffer[] {
  if (!Number.isInteger(fragmentBytes) || fragmentBytes < 1) throw new RangeError('fragment size must be a positive integer');
  if (message.length === 0) throw new RangeError('no TLS data to send (acknowledge with tlsAckPayload)');
  const payloads: Buffer[] = [];
  for (let offset = 0; offset < message.length; offset += fragmentBytes) {
    const end = Math.min(offset + fragmentBytes, message.length);
    payloads.push(encodeTlsPayload({ version, messageLength: message.length, more: end < message.length, data: message.subarray(offset, end) }));
  }
  return payloads;
}

export type ReassemblyResult =
  /** More fragments are due: answer with an ACK (tlsAckPayload). */
  | { readonly status: 'more' }
  /** The fragment last accepted, sent again (same identifier and data): repeat the last request. */
  | { readonly status: 'duplicate' }
  | { readonly status: 'complete'; readonly message: Buffer };

/**
 * Puts incoming fragments of one TLS message back together, a pure state machine fed one payload per EAP
 * Response. Fragmentation is lock-step (RFC 5216 section 2.1.5): each fragment answers the server's previous
 * request, so the only out-of-order input possible is the previous fragment again. Violations throw
 * EapDecodeError and leave the reassembler unusable for this message (call reset() to start over).
 */
export class TlsReassembler {
  readonly #maxMessageBytes: number;
  #parts: Buffer[] = [];
  #received = 0;
  #expected: number | undefined;
  #last: { identifier: number; data: Buffer } | undefined;

  constructor(maxMessageBytes: number = DEFAULT_MAX_MESSAGE_BYTES) {
    this.#maxMessageBytes = maxMessageBytes;
  }

  /** True between the first and the last fragment of a message. */
  get inProgress(): boolean {
    return this.#parts.length > 0;
  }

  reset(): void {
    this.#parts = [];
    this.#received = 0;
    this.#expected = undefined;
    this.#last = undefined;
  }

  /** Feeds the payload of an EAP Response with `identifier`. The data is copied; the input may be reused. */
  push(identifier: number, payload: TlsPayload): ReassemblyResult {
    if (this.#last !== undefined && identifier === this.#last.identifier) {
      if (payload.data.equals(this.#last.data)) return { status: 'duplicate' };
      throw new EapDecodeError('fragment', `fragment with identifier ${identifier} repeated with other data`);
    }
    if (payload.start) throw new EapDecodeError('fragment', 'Start flag from a peer');
    const first = this.#parts.length === 0;
    if (first) {
      if (payload.data.length === 0) throw new EapDecodeError('fragment', 'a message fragment without data');
      if (payload.more && payload.messageLength === undefined) throw new EapDecodeError('fragment', 'first fragment without the L flag');
      if (payload.messageLength !== undefined && payload.messageLength > this.#maxMessageBytes) {
        throw new EapDecodeError('too_large', `TLS message of ${payload.messageLength} octets exceeds ${this.#maxMessageBytes}`);
      }
      this.#expected = payload.messageLength;
    } else {
      if (payload.data.length === 0) throw new EapDecodeError('fragment', 'a message fragment without data');
      if (payload.messageLength !== undefined && payload.messageLength !== this.#expected) {
        throw new EapDecodeError('fragment', `TLS Message Length changed from ${this.#expected} to ${payload.messageLength}`);
      }
    }
    const received = this.#received + payload.data.length;
    const limit = this.#expected ?? this.#maxMessageBytes;
    if (received > limit) throw new EapDecodeError('fragment', `fragments carry ${received} octets, more than ${limit}`);
    if (!payload.more && this.#expected !== undefined && received !== this.#expected) {
      throw new EapDecodeError('fragment', `last fragment ends at ${received} octets of ${this.#expected}`);
    }
    const data = Buffer.from(payload.data);
    this.#last = { identifier, data };
    if (payload.more) {
      this.#parts.push(data);
      this.#received = received;
      return { status: 'more' };
    }
    const message = first ? data : Buffer.concat([...this.#parts, data], received);
    this.#parts = [];
    this.#received = 0;
    this.#expected = undefined;
    return { status: 'complete', message };
  }
}
