/**
 * EAP packet codec (RFC 3748 section 4-5): Request/Response with a Type and its data, Success/Failure, and the
 * data of the simple types (Identity, Notification, legacy Nak, GTC).
 */
import { Buffer, isUtf8 } from 'node:buffer';
import { ProtocolError } from '../../errors.js';

export const EapCode = Object.freeze({ Request: 1, Response: 2, Success: 3, Failure: 4 } as const);

export const EapType = Object.freeze({
  Identity: 1,
  Notification: 2,
  Nak: 3,
  Md5Challenge: 4,
  Gtc: 6,
  Tls: 13,
  Ttls: 21,
  Peap: 25,
  MsChapV2: 26,
  /** EAP TLV Extensions (PEAP's Result TLV). */
  Extensions: 33,
  Expanded: 254,
} as const);

export const EAP_HEADER_BYTES = 4;
/** The Length field is 16 bits. */
export const MAX_EAP_BYTES = 0xffff;

export interface EapRequestResponse {
  readonly code: typeof EapCode.Request | typeof EapCode.Response;
  readonly identifier: number;
  readonly type: number;
  /** Type-Data (may be empty); a view of the decoded input. */
  readonly data: Buffer;
}

export interface EapResult {
  readonly code: typeof EapCode.Success | typeof EapCode.Failure;
  readonly identifier: number;
}

export type EapPacket = EapRequestResponse | EapResult;

export type EapDecodeReason =
  | 'short_packet' // fewer than 4 octets, or a Request/Response without a Type
  | 'bad_length' // Length below the minimum, above the octets received, or not 4 for Success/Failure
  | 'unknown_code'
  | 'bad_data' // type data that does not fit its type
  | 'fragment' // TLS fragmentation rules broken (tls-framing.ts)
  | 'too_large'; // a bound was exceeded

export class EapDecodeError extends ProtocolError {
  readonly reason: EapDecodeReason;
  constructor(reason: EapDecodeReason, message: string) {
    super(`EAP: ${message}`);
    this.name = 'EapDecodeError';
    this.reason = reason;
  }
}

/** Decodes one EAP packet. Octets after Length are link padding and ignored (RFC 3748 section 4.1). */
export function decodeEap(buf: Buffer): EapPacket {
  if (buf.length < EAP_HEADER_BYTES) throw new EapDecodeError('short_packet', `packet of ${buf.length} octets`);
  const code = buf[0]!;
  const identifier = buf[1]!;
  const length = buf.readUInt16BE(2);
  if (length > buf.length) throw new EapDecodeError('bad_length', `Length ${length} but ${buf.length} octets received`);
  if (code === EapCode.Success || code === EapCode.Failure) {
    if (length !== EAP_HEADER_BYTES) throw new EapDecodeError('bad_length', `Success/Failure with Length ${length}`);
    return { code, identifier };
  }
  if (code !== EapCode.Request && code !== EapCode.Response) throw new EapDecodeError('unknown_code', `code ${code}`);
  if (length < EAP_HEADER_BYTES + 1) throw new EapDecodeError('short_packet', `Request/Response with Length ${length}`);
  return { code, identifier, type: buf[4]!, data: buf.subarray(5, length) };
}

/** What an EAP server accepts from a peer: a Response; any other code is refused. */
export function decodeEapResponse(buf: Buffer): EapRequestResponse {
  const packet = decodeEap(buf);
  if (packet.code !== EapCode.Response) throw new EapDecodeError('unknown_code', `code ${packet.code} from a peer`);
  return packet;
}

export function encodeEap(packet: EapPacket): Buffer {
  if (!Number.isInteger(packet.identifier) || packet.identifier < 0 || packet.identifier > 255) {
    throw new RangeError(`EAP identifier ${packet.identifier} outside 0..255`);
  }
  if (!('type' in packet)) return Buffer.from([packet.code, packet.identifier, 0, EAP_HEADER_BYTES]);
  const length = EAP_HEADER_BYTES + 1 + packet.data.length;
  if (length > MAX_EAP_BYTES) throw new RangeError(`EAP packet of ${length} octets exceeds 65535`);
  const out = Buffer.allocUnsafe(length);
  out[0] = packet.code;
  out[1] = packet.identifier;
  out.writeUInt16BE(length, 2);
  out[4] = packet.type;
  packet.data.copy(out, 5);
  return out;
}

export function isRequestOrResponse(packet: EapPacket): packet is EapRequestResponse {
  return 'type' in packet;
}

export function eapRequest(identifier: number, type: number, data: Buffer = Buffer.alloc(0)): Buffer {
  return encodeEap({ code: EapCode.Request, identifier, type, data });
}

export function eapSuccess(identifier: number): Buffer {
  return encodeEap({ code: EapCode.Success, identifier });
}

export function eapFailure(identifier: number): Buffer {
  return encodeEap({ code: EapCode.Failure, identifier });
}

function utf8(data: Buffer, what: string): string {
  if (!isUtf8(data)) throw new EapDecodeError('bad_data', `${what} is not valid UTF-8`);
  return data.toString('utf8');
}

function expectType(packet: EapRequestResponse, type: number, what: string): void {
  if (packet.type !== type) throw new RangeError(`not an EAP ${what} packet (type ${packet.type})`);
}

/** Identity (type 1) as text; may be empty (RFC 3748 section 5.1). */
export function identityOf(packet: EapRequestResponse): string {
  expectType(packet, EapType.Identity, 'Identity');
  return utf8(packet.data, 'Identity');
}

/** Notification (type 2) text. */
export function notificationOf(packet: EapRequestResponse): string {
  expectType(packet, EapType.Notification, 'Notification');
  return utf8(packet.data, 'Notification');
}

/** The types a legacy Nak (type 3) asks for, in the peer's order; 0 means "none" (RFC 3748 section 5.3.1). */
export function nakTypes(packet: EapRequestResponse): number[] {
  expectType(packet, EapType.Nak, 'Nak');
  if (packet.data.length === 0) throw new EapDecodeError('bad_data', 'Nak without a desired type');
  return [...packet.data];
}

/** A legacy Nak response proposing `desired` (0 alone when the peer has no alternative). */
export function eapNak(identifier: number, desired: readonly number[]): Buffer {
  if (desired.length === 0 || desired.some((t) => !Number.isInteger(t) || t < 0 || t > 255)) throw new RangeError('a Nak lists 1.. types of 0..255');
  return encodeEap({ code: EapCode.Response, identifier, type: EapType.Nak, data: Buffer.from(desired) });
}

/** EAP-GTC (type 6) request with a prompt (RFC 3748 section 5.6). */
export function gtcRequest(identifier: number, prompt = 'Password: '): Buffer {
  return eapRequest(identifier, EapType.Gtc, Buffer.from(prompt, 'utf8'));
}

/** The response of EAP-GTC: the password or token typed, as sent. */
export function gtcResponseOf(packet: EapRequestResponse): Buffer {
  expectType(packet, EapType.Gtc, 'GTC');
  return packet.data;
}
