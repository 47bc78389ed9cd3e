/**
 * Packet authenticators: the Request Authenticator of Accounting-Request, Disconnect-Request and CoA-Request
 * (RFC 2866 section 3, RFC 5176 section 3.5), the Response Authenticator (RFC 2865 section 3) and
 * Message-Authenticator (RFC 3579 section 3.2, HMAC-MD5). Checks work on the raw datagram and compare in
 * constant time (crypto.timingSafeEqual).
 */
import { Buffer } from 'node:buffer';
import { timingSafeEqual } from 'node:crypto';
import { Attr, Code } from './dictionary.js';
import { hmacMd5, md5 } from './md5.js';
import { AUTHENTICATOR_BYTES, HEADER_BYTES, MAX_PACKET_BYTES, type Secret } from './packet.js';

const ZERO_16: Readonly<Buffer> = Buffer.alloc(16);
const MESSAGE_AUTHENTICATOR_BYTES = 16;

/** Requests whose authenticator is computed from the packet rather than random. */
const COMPUTED_REQUEST_CODES: ReadonlySet<number> = new Set([Code.AccountingRequest, Code.DisconnectRequest, Code.CoaRequest]);

/** Requests whose authenticator is random (Access-Request, Status-Server). */
export function hasRandomAuthenticator(code: number): boolean {
  return code === Code.AccessRequest || code === Code.StatusServer;
}

/** The packet's declared length, if the datagram holds that much (otherwise the codec would refuse it anyway). */
function packetLength(datagram: Buffer): number | undefined {
  if (datagram.length < HEADER_BYTES) return undefined;
  const length = datagram.readUInt16BE(2);
  return length >= HEADER_BYTES && length <= MAX_PACKET_BYTES && length <= datagram.length ? length : undefined;
}

type MessageAuthenticatorLocation = { kind: 'absent' } | { kind: 'malformed' } | { kind: 'at'; offset: number };

/** Offset of the one Message-Authenticator value; a second one, a wrong length or a bad attribute walk is malformed. */
function locateMessageAuthenticator(datagram: Buffer, length: number): MessageAuthenticatorLocation {
  let found = -1;
  for (let pos = HEADER_BYTES; pos < length; ) {
    if (pos + 2 > length) return { kind: 'malformed' };
    const attrLength = datagram[pos + 1]!;
    if (attrLength < 2 || pos + attrLength > length) return { kind: 'malformed' };
    if (datagram[pos] === Attr.MessageAuthenticator) {
      if (found >= 0 || attrLength !== 2 + MESSAGE_AUTHENTICATOR_BYTES) return { kind: 'malformed' };
      found = pos + 2;
    }
    pos += attrLength;
  }
  return found < 0 ? { kind: 'absent' } : { kind: 'at', offset: found };
}

/** HMAC-MD5 over the packet with `authenticator` in the header and the Message-Authenticator value zeroed. */
function hmacOver(packet: Buffer, length: number, authenticator: Buffer, maOffset: number, secret: Secret): Buffer {
  return hmacMd5(secretBytes(secret), [
    packet.subarray(0, 4),
    authenticator,
    packet.subarray(HEADER_BYTES, maOffset),
    ZERO_16,
    packet.subarray(maOffset + MESSAGE_AUTHENTICATOR_BYTES, length),
  ]);
}

/** MD5 over the packet with `authenticator` in the header, then the secret. */
function md5Over(packet: Buffer, length: number, authenticator: Buffer, secret: Secret): Buffer {
  return md5([packet.subarray(0, 4), authenticator, packet.subarray(HEADER_BYTES, length), secretBytes(secret)]);
}

function secretBytes(secret: Secret): Buffer {
  return typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
}

/**
 * The authenticator the Message-Authenticator HMAC of a packet with this code is computed over, when the packet
 * is a request: its own for Access-Request and Status-Server, sixteen zeros for Accounting, Disconnect and CoA
 * requests (RFC 5176 section 3.3). Replies use the request's, which the caller passes.
 */
function hmacAuthenticatorOfRequest(datagram: Buffer): Buffer {
  return COMPUTED_REQUEST_CODES.has(datagram[0]!) ? ZERO_16 : datagram.subarray(4, HEADER_BYTES);
}

export type MessageAuthenticatorCheck = 'valid' | 'invalid' | 'absent';

/**
 * Checks Message-Authenticator of a received datagram. For a request, leave `requestAuthenticator` out; for a
 * reply, pass the authenticator of the request it answers. A second Message-Authenticator, one of the wrong
 * length or a datagram the codec would refuse is 'invalid'. What to do with 'absent' is the caller's policy
 * (RFC 3579 section 3.3: drop an Access-Request with EAP-Message; RFC 5997: drop a Status-Server).
 */
export function checkMessageAuthenticator(datagram: Buffer, secret: Secret, requestAuthenticator?: Buffer): MessageAuthenticatorCheck {
  const length = packetLength(datagram);
  if (length === undefined) return 'invalid';
  const location = locateMessageAuthenticator(datagram, length);
  if (location.kind === 'absent') return 'absent';
  if (location.kind === 'malformed') return 'invalid';
  const authenticator = requestAuthenticator ?? hmacAuthenticatorOfRequest(datagram);
  const expected = hmacOver(datagram, length, authenticator, location.offset, secret);
  return timingSafeEqual(expected, datagram.subarray(location.offset, location.offset + MESSAGE_AUTHENTICATOR_BYTES)) ? 'valid' : 'invalid';
}

/** RFC 2866 section 3: an Accounting-Request (or Disconnect/CoA-Request) authenticator is MD5 over the packet. */
export function verifyRequestAuthenticator(datagram: Buffer, secret: Secret): boolean {
  const length = packetLength(datagram);
  if (length === undefined) return false;
  const expected = md5Over(datagram, length, ZERO_16, secret);
  return timingSafeEqual(expected, datagram.subarray(4, HEADER_BYTES));
}

/** Checks the Response Authenticator of a reply against the request's authenticator (client side, tests). */
export function verifyResponseAuthenticator(response: Buffer, requestAuthenticator: Buffer, secret: Secret): boolean {
  const length = packetLength(response);
  if (length === undefined || requestAuthenticator.length !== AUTHENTICATOR_BYTES) return false;
  const expected = md5Over(response, length, requestAuthenticator, secret);
  return timingSafeEqual(expected, response.subarray(4, HEADER_BYTES));
}

/** Writes the Message-Authenticator value (when the packet has one) computed with `authenticator` in the header. */
function fillMessageAuthenticator(packet: Buffer, authenticator: Buffer, secret: Secret): void {
  const location = locateMessageAuthenticator(packet, packet.length);
  if (location.kind === 'malformed') throw new RangeError('packet with a malformed Message-Authenticator');
  if (location.kind === 'at') hmacOver(packet, packet.length, authenticator, location.offset, secret).copy(packet, location.offset);
}

/**
 * Signs an encoded reply in place: Message-Authenticator (if the packet has one) over the packet with the
 * request's authenticator, then the Response Authenticator over the final bytes.
 */
export function signResponse(packet: Buffer, requestAuthenticator: Buffer, secret: Secret): void {
  if (requestAuthenticator.length !== AUTHENTICATOR_BYTES) throw new RangeError('a Request Authenticator has 16 octets');
  fillMessageAuthenticator(packet, requestAuthenticator, secret);
  md5Over(packet, packet.length, requestAuthenticator, secret).copy(packet, 4);
}

/**
 * Signs an encoded request in place. Access-Request and Status-Server keep their (random) authenticator and get
 * Message-Authenticator over it; Accounting, Disconnect and CoA requests get Message-Authenticator over a zero
 * authenticator and then their computed Request Authenticator.
 */
export function signRequest(packet: Buffer, secret: Secret): void {
  if (!COMPUTED_REQUEST_CODES.has(packet[0]!)) {
    fillMessageAuthenticator(packet, packet.subarray(4, HEADER_BYTES), secret);
    return;
  }
  ZERO_16.copy(packet, 4);
  fillMessageAuthenticator(packet, ZERO_16, secret);
  md5Over(packet, packet.length, ZERO_16, secret).copy(packet, 4);
}
