/**
 * Whole packets ready to send: replies to a received request, and requests (for clients and tests). The
 * builders own Message-Authenticator: a reply to an Access-Request or a Status-Server always carries one, as the
 * FIRST attribute (BlastRADIUS, CVE-2024-3596: nothing an attacker chooses may precede it), whatever the request
 * carried; a reply to any other request carries one when the request did.
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { checkMessageAuthenticator, hasRandomAuthenticator, signRequest, signResponse } from './authenticators.js';
import { Attr, Code } from './dictionary.js';
import {
  AUTHENTICATOR_BYTES,
  HEADER_BYTES,
  RadiusEncodeError,
  allocatePacket,
  attributesLength,
  writeAttributes,
  type RadiusAttribute,
  type RadiusPacket,
  type Secret,
} from './packet.js';

const MESSAGE_AUTHENTICATOR_ATTRIBUTE_BYTES = 18;

/** Writes a zeroed Message-Authenticator attribute at `offset`; returns the offset after it. */
function writeMessageAuthenticatorPlaceholder(out: Buffer, offset: number): number {
  out[offset] = Attr.MessageAuthenticator;
  out[offset + 1] = MESSAGE_AUTHENTICATOR_ATTRIBUTE_BYTES;
  out.fill(0, offset + 2, offset + MESSAGE_AUTHENTICATOR_ATTRIBUTE_BYTES);
  return offset + MESSAGE_AUTHENTICATOR_ATTRIBUTE_BYTES;
}

function withoutMessageAuthenticator(attributes: readonly RadiusAttribute[]): readonly RadiusAttribute[] {
  return attributes.some((a) => a.type === Attr.MessageAuthenticator) ? attributes.filter((a) => a.type !== Attr.MessageAuthenticator) : attributes;
}

/**
 * Encodes and signs the reply `code` to `request`: same Identifier, Message-Authenticator first (see above),
 * then `attributes` in order (any Message-Authenticator among them is dropped: the builder places its own), then
 * the request's Proxy-State attributes in order (RFC 2865 section 5.33), then the Response Authenticator.
 * Throws RadiusEncodeError when the reply would exceed 4096 octets.
 */
export function encodeResponse(request: RadiusPacket, code: number, attributes: readonly RadiusAttribute[], secret: Secret): Buffer {
  const own = withoutMessageAuthenticator(attributes);
  const proxyStates = request.attributes.filter((a) => a.type === Attr.ProxyState);
  const withMessageAuthenticator =
    hasRandomAuthenticator(request.code) || request.attributes.some((a) => a.type === Attr.MessageAuthenticator);
  const length =
    HEADER_BYTES + (withMessageAuthenticator ? MESSAGE_AUTHENTICATOR_ATTRIBUTE_BYTES : 0) + attributesLength(own) + attributesLength(proxyStates);
  const out = allocatePacket(code, request.identifier, length);
  let offset = HEADER_BYTES;
  if (withMessageAuthenticator) offset = writeMessageAuthenticatorPlaceholder(out, offset);
  offset = writeAttributes(out, offset, own);
  writeAttributes(out, offset, proxyStates);
  signResponse(out, request.authenticator, secret);
  return out;
}

export interface RequestSpec {
  readonly code: number;
  readonly identifier: number;
  /**
   * Access-Request and Status-Server: the random Request Authenticator (hide User-Password with the same one);
   * a fresh one when left out. Ignored for Accounting, Disconnect and CoA requests, whose authenticator is computed.
   */
  readonly authenticator?: Buffer;
  readonly attributes: readonly RadiusAttribute[];
}

/**
 * Encodes and signs a request. Message-Authenticator goes first when `messageAuthenticator` is true (the default
 * for Access-Request and Status-Server, which RFC 5997 requires it in).
 */
export function encodeRequest(spec: RequestSpec, secret: Secret, messageAuthenticator = hasRandomAuthenticator(spec.code)): Buffer {
  const own = withoutMessageAuthenticator(spec.attributes);
  const length = HEADER_BYTES + (messageAuthenticator ? MESSAGE_AUTHENTICATOR_ATTRIBUTE_BYTES : 0) + attributesLength(own);
  const out = allocatePacket(spec.code, spec.identifier, length);
  if (hasRandomAuthenticator(spec.code)) {
    const authenticator = spec.authenticator ?? randomBytes(AUTHENTICATOR_BYTES);
    if (authenticator.length !== AUTHENTICATOR_BYTES) throw new RadiusEncodeError('authenticator must be 16 octets');
    authenticator.copy(out, 4);
  } else {
    out.fill(0, 4, HEADER_BYTES);
  }
  let offset = HEADER_BYTES;
  if (messageAuthenticator) offset = writeMessageAuthenticatorPlaceholder(out, offset);
  writeAttributes(out, offset, own);
  signRequest(out, secret);
  return out;
}

/** Which port a Status-Server arrived on: its reply is Access-Accept (authentication) or Accounting-Response. */
export type RadiusService = 'authentication' | 'accounting';

/**
 * RFC 5997: the reply to a decoded Status-Server `request` (received as `datagram`), or undefined when it must be
 * dropped because its Message-Authenticator is missing or wrong.
 */
export function answerStatusServer(datagram: Buffer, request: RadiusPacket, secret: Secret, service: RadiusService): Buffer | undefined {
  if (checkMessageAuthenticator(datagram, secret) !== 'valid') return undefined;
  return statusServerReply(request, secret, service);
}

/** The reply to a Status-Server whose Message-Authenticator the caller has already found valid. */
export function statusServerReply(request: RadiusPacket, secret: Secret, service: RadiusService): Buffer {
  if (request.code !== Code.StatusServer) throw new RangeError('not a Status-Server');
  return encodeResponse(request, service === 'authentication' ? Code.AccessAccept : Code.AccountingResponse, [], secret);
}
