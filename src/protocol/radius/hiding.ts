/**
 * Values hidden with the shared secret: User-Password (RFC 2865 section 5.2) and the salted scheme of
 * Tunnel-Password (RFC 2868 section 3.5) and MS-MPPE-Send-Key / MS-MPPE-Recv-Key (RFC 2548 sections 2.4.2-2.4.3).
 * Both are an MD5 keystream chained over 16-octet blocks, seeded with the Request Authenticator of the
 * Access-Request (for replies too: the reply carries the request's).
 */
import { Buffer } from 'node:buffer';
import { createHash, randomBytes } from 'node:crypto';
import { Attr, MsAttr, Vendor } from './dictionary.js';
import { AUTHENTICATOR_BYTES, RadiusDecodeError, RadiusEncodeError, type RadiusAttribute, type Secret } from './packet.js';
import { vendorSpecificAttribute } from './values.js';

const BLOCK = 16;
const MAX_USER_PASSWORD = 128;
/** Salted values: 2 salt octets + blocks must fit 253 octets (Tunnel-Password also has a tag: 250). */
const MAX_SALTED_PLAINTEXT = 239;

function checkAuthenticator(authenticator: Buffer): void {
  if (authenticator.length !== AUTHENTICATOR_BYTES) throw new RangeError('a Request Authenticator has 16 octets');
}

/**
 * XORs `input` (a whole number of blocks) with MD5(secret + seed), MD5(secret + c1), ... where c(i) is the
 * ciphertext block: when hiding, the output block; when revealing, the input block.
 */
function md5Chain(input: Buffer, secret: Secret, seed: Buffer, hide: boolean): Buffer {
  const out = Buffer.allocUnsafe(input.length);
  let previous = seed;
  for (let offset = 0; offset < input.length; offset += BLOCK) {
    const key = createHash('md5').update(secret).update(previous).digest();
    for (let i = 0; i < BLOCK; i++) out[offset + i] = input[offset + i]! ^ key[i]!;
    previous = (hide ? out : input).subarray(offset, offset + BLOCK);
  }
  return out;
}

function padToBlocks(data: Buffer, minimum: number): Buffer {
  const length = Math.max(minimum, Math.ceil(data.length / BLOCK) * BLOCK);
  const padded = Buffer.alloc(length);
  data.copy(padded);
  return padded;
}

/** The User-Password value for `password` (at most 128 octets). */
export function hideUserPassword(password: Buffer | string, secret: Secret, requestAuthenticator: Buffer): Buffer {
  checkAuthenticator(requestAuthenticator);
  const plain = typeof password === 'string' ? Buffer.from(password, 'utf8') : password;
  if (plain.length > MAX_USER_PASSWORD) throw new RadiusEncodeError(`User-Password of ${plain.length} octets exceeds 128`);
  return md5Chain(padToBlocks(plain, BLOCK), secret, requestAuthenticator, true);
}

/**
 * The password in a User-Password value: 16..128 octets in whole blocks, else RadiusDecodeError. The NUL
 * padding is stripped from the end only, so a password is never shortened to a prefix of what was sent.
 */
export function unhideUserPassword(value: Buffer, secret: Secret, requestAuthenticator: Buffer): Buffer {
  checkAuthenticator(requestAuthenticator);
  if (value.length < BLOCK || value.length > MAX_USER_PASSWORD || value.length % BLOCK !== 0) {
    throw new RadiusDecodeError('bad_value', `User-Password of ${value.length} octets is not 16..128 in blocks of 16`);
  }
  const plain = md5Chain(value, secret, requestAuthenticator, false);
  let end = plain.length;
  while (end > 0 && plain[end - 1] === 0) end--;
  return plain.subarray(0, end);
}

/** Random salts for one packet: high bit set (RFC 2868, RFC 2548) and each different from the others. */
export function newSalts(count: number, random: (size: number) => Buffer = randomBytes): Buffer[] {
  if (count > 0x8000) throw new RangeError('at most 32768 distinct salts');
  const salts: Buffer[] = [];
  const bytes = random(2 * count);
  for (let i = 0; i < count; i++) {
    let n = 0x8000 | ((bytes[2 * i]! << 8) | bytes[2 * i + 1]!);
    // A repeat takes the next free value, so a poor random source cannot make this loop forever.
    while (salts.some((s) => s.readUInt16BE(0) === n)) n = 0x8000 | ((n + 1) & 0x7fff);
    const salt = Buffer.allocUnsafe(2);
    salt.writeUInt16BE(n, 0);
    salts.push(salt);
  }
  return salts;
}

/** Salt + ciphertext of `data` (length octet, data, zero padding), the value layout of RFC 2868 / RFC 2548. */
export function saltEncrypt(data: Buffer, secret: Secret, requestAuthenticator: Buffer, salt: Buffer): Buffer {
  checkAuthenticator(requestAuthenticator);
  if (salt.length !== 2 || (salt[0]! & 0x80) === 0) throw new RadiusEncodeError('a salt is 2 octets with the high bit set');
  if (data.length > MAX_SALTED_PLAINTEXT) throw new RadiusEncodeError(`salted value of ${data.length} octets exceeds ${MAX_SALTED_PLAINTEXT}`);
  const plain = padToBlocks(Buffer.concat([Buffer.from([data.length]), data]), BLOCK);
  return Buffer.concat([salt, md5Chain(plain, secret, Buffer.concat([requestAuthenticator, salt]), true)]);
}

/** The data in a salt + ciphertext value; RadiusDecodeError when the layout or the length octet is wrong. */
export function saltDecrypt(value: Buffer, secret: Secret, requestAuthenticator: Buffer): Buffer {
  checkAuthenticator(requestAuthenticator);
  const cipherLength = value.length - 2;
  if (cipherLength < BLOCK || cipherLength % BLOCK !== 0) {
    throw new RadiusDecodeError('bad_value', `salted value of ${value.length} octets is not a salt and blocks of 16`);
  }
  const salt = value.subarray(0, 2);
  const plain = md5Chain(value.subarray(2), secret, Buffer.concat([requestAuthenticator, salt]), false);
  const length = plain[0]!;
  if (length > plain.length - 1) throw new RadiusDecodeError('bad_value', `salted value claims ${length} octets in ${plain.length - 1}`);
  return plain.subarray(1, 1 + length);
}

/** Tunnel-Password (69) with `tag` (0 when unused) and a fresh salt unless one is given. */
export function tunnelPasswordAttribute(
  tag: number,
  password: Buffer | string,
  secret: Secret,
  requestAuthenticator: Buffer,
  salt: Buffer = newSalts(1)[0]!,
): RadiusAttribute {
  if (!Number.isInteger(tag) || tag < 0 || tag > 0x1f) throw new RadiusEncodeError(`tag ${tag} outside 0..31`);
  const data = typeof password === 'string' ? Buffer.from(password, 'utf8') : password;
  const encrypted = saltEncrypt(data, secret, requestAuthenticator, salt);
  return { type: Attr.TunnelPassword, value: Buffer.concat([Buffer.from([tag]), encrypted]) };
}

export function tunnelPasswordValue(value: Buffer, secret: Secret, requestAuthenticator: Buffer): { tag: number; password: Buffer } {
  if (value.length < 1 || value[0]! > 0x1f) throw new RadiusDecodeError('bad_value', 'Tunnel-Password without a tag octet');
  return { tag: value[0]!, password: saltDecrypt(value.subarray(1), secret, requestAuthenticator) };
}

const MPPE_KEY_BYTES = 32;

/**
 * MS-MPPE-Recv-Key = MSK[0..31] and MS-MPPE-Send-Key = MSK[32..63] (RFC 5216 section 2.3, as FreeRADIUS does),
 * each in a Vendor-Specific attribute of Microsoft (311), salt-encrypted with distinct salts.
 */
export function mppeKeyAttributes(
  msk: Buffer,
  secret: Secret,
  requestAuthenticator: Buffer,
  random: (size: number) => Buffer = randomBytes,
): RadiusAttribute[] {
  if (msk.length < 2 * MPPE_KEY_BYTES) throw new RangeError('an MSK has at least 64 octets');
  const [recvSalt, sendSalt] = newSalts(2, random) as [Buffer, Buffer];
  const key = (vendorType: number, data: Buffer, salt: Buffer): RadiusAttribute =>
    vendorSpecificAttribute(Vendor.Microsoft, [{ vendorType, value: saltEncrypt(data, secret, requestAuthenticator, salt) }]);
  return [
    key(MsAttr.MppeRecvKey, msk.subarray(0, MPPE_KEY_BYTES), recvSalt),
    key(MsAttr.MppeSendKey, msk.subarray(MPPE_KEY_BYTES, 2 * MPPE_KEY_BYTES), sendSalt),
  ];
}
