/**
 * EAP-TTLS phase 2 data: Diameter-style AVPs (RFC 5281 section 10): Code (4 octets), flags (V = vendor id present,
 * M = mandatory), Length (3 octets, header included, padding excluded), optional Vendor-ID, data, zero padding
 * to a multiple of 4. AVP codes without a vendor are RADIUS attribute types.
 */
import { Buffer, isUtf8 } from 'node:buffer';
import { EapDecodeError } from './packet.js';

export const AvpFlag = Object.freeze({ Vendor: 0x80, Mandatory: 0x40 } as const);
export const AvpCode = Object.freeze({ UserName: 1, UserPassword: 2, ReplyMessage: 18, EapMessage: 79 } as const);

/** AVPs accepted in one TTLS message: far more than any inner method sends. */
export const MAX_AVPS = 64;
/** RADIUS bounds a User-Password to 128 octets; TTLS does not, so we allow a full attribute's worth. */
const MAX_PASSWORD_BYTES = 253;

export interface DiameterAvp {
  readonly code: number;
  /** Present when the V flag is set. */
  readonly vendorId?: number;
  readonly mandatory: boolean;
  /** A view of the input. */
  readonly data: Buffer;
}

export function decodeAvps(buf: Buffer, maxAvps: number = MAX_AVPS): DiameterAvp[] {
  const avps: DiameterAvp[] = [];
  let pos = 0;
  while (pos < buf.length) {
    if (avps.length >= maxAvps) throw new EapDecodeError('too_large', `more than ${maxAvps} AVPs`);
    if (pos + 8 > buf.length) throw new EapDecodeError('bad_data', `AVP header at ${pos} runs past the data`);
    const code = buf.readUInt32BE(pos);
    const flags = buf[pos + 4]!;
    const length = buf.readUIntBE(pos + 5, 3);
    const hasVendor = (flags & AvpFlag.Vendor) !== 0;
    const headerBytes = hasVendor ? 12 : 8;
    if (length < headerBytes || pos + length > buf.length) throw new EapDecodeError('bad_data', `AVP ${code} has bad length ${length}`);
    const avp: DiameterAvp = {
      code,
      mandatory: (flags & AvpFlag.Mandatory) !== 0,
      data: buf.subarray(pos + headerBytes, pos + length),
      ...(hasVendor ? { vendorId: buf.readUInt32BE(pos + 8) } : {}),
    };
    avps.push(avp);
    // Padding is skipped unread; the last AVP may come without it.
    pos = Math.min(pos + ((length + 3) & ~3), buf.length);
  }
  return avps;
}

export function encodeAvps(avps: readonly DiameterAvp[]): Buffer {
  const sizes = avps.map((avp) => (avp.vendorId !== undefined ? 12 : 8) + avp.data.length);
  const out = Buffer.alloc(sizes.reduce((sum, size) => sum + ((size + 3) & ~3), 0));
  let pos = 0;
  avps.forEach((avp, i) => {
    const size = sizes[i]!;
    if (size > 0xffffff) throw new RangeError(`AVP ${avp.code} of ${size} octets is too long`);
    out.writeUInt32BE(avp.code, pos);
    out[pos + 4] = (avp.vendorId !== undefined ? AvpFlag.Vendor : 0) | (avp.mandatory ? AvpFlag.Mandatory : 0);
    out.writeUIntBE(size, pos + 5, 3);
    if (avp.vendorId !== undefined) out.writeUInt32BE(avp.vendorId, pos + 8);
    avp.data.copy(out, pos + (avp.vendorId !== undefined ? 12 : 8));
    pos += (size + 3) & ~3;
  });
  return out;
}

export interface TtlsPapCredentials {
  readonly userName: string;
  readonly password: Buffer;
}

/**
 * Inner PAP (RFC 5281 section 11.2.5): User-Name and User-Password AVPs; the password's NUL padding is stripped
 * from the end. Undefined when either is missing; EapDecodeError for a mandatory AVP we do not understand (the
 * M flag's meaning), an invalid UTF-8 name or an oversized password.
 */
export function ttlsPapCredentials(avps: readonly DiameterAvp[]): TtlsPapCredentials | undefined {
  let userName: Buffer | undefined;
  let password: Buffer | undefined;
  for (const avp of avps) {
    const known = avp.vendorId === undefined && (avp.code === AvpCode.UserName || avp.code === AvpCode.UserPassword);
    if (!known) {
      if (avp.mandatory) throw new EapDecodeError('bad_data', `unsupported mandatory AVP ${avp.code}${avp.vendorId !== undefined ? ` of vendor ${avp.vendorId}` : ''}`);
      continue;
    }
    if (avp.code === AvpCode.UserName) userName ??= avp.data;
    else password ??= avp.data;
  }
  if (userName === undefined || password === undefined) return undefined;
  if (!isUtf8(userName)) throw new EapDecodeError('bad_data', 'User-Name AVP is not valid UTF-8');
  if (password.length > MAX_PASSWORD_BYTES) throw new EapDecodeError('bad_data', `User-Password AVP of ${password.length} octets`);
  let end = password.length;
  while (end > 0 && password[end - 1] === 0) end--;
  return { userName: userName.toString('utf8'), password: password.subarray(0, end) };
}
