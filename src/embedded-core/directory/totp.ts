/**
 * RFC 6238 TOTP (HMAC-SHA1, 30 s steps, T0 = 0), verified the way django-otp does for authentik's TOTP devices:
 * a window of one step either side, and a code is only accepted for a step later than the last one used, so a
 * code (or an older one) cannot be replayed. django-otp compares codes as integers; so do we.
 */
import { createHmac } from 'node:crypto';
import type { TotpDevice } from '../model.js';
import { Instant } from '../time.js';

export const TOTP_STEP_SECONDS = 30;
export const TOTP_TOLERANCE_STEPS = 1;

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 decoding; case-insensitive, spaces and '=' padding ignored. Throws on other characters. */
export function base32Decode(text: string): Buffer {
  const clean = text.replace(/[\s=]/g, '').toUpperCase();
  const out: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const ch of clean) {
    const value = BASE32.indexOf(ch);
    if (value < 0) throw new RangeError(`invalid base32 character ${JSON.stringify(ch)}`);
    buffer = ((buffer << 5) | value) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((buffer >> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

export function base32Encode(data: Buffer): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of data) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32[(buffer >> bits) & 31];
    }
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  return out;
}

/** The HOTP value (RFC 4226) for one counter, as an integer below 10^digits. */
function hotpValue(key: Buffer, counter: number, digits: number): number {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', key).update(message).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return binary % 10 ** digits;
}

export function totpStep(timeMs: number): number {
  return Math.floor(timeMs / 1000 / TOTP_STEP_SECONDS);
}

/** The code for `timeMs`, zero-padded to `digits` (exported for tests and the demo tooling). */
export function totpCode(secretBase32: string, timeMs: number, digits: 6 | 8 = 6): string {
  const value = hotpValue(base32Decode(secretBase32), totpStep(timeMs), digits);
  return String(value).padStart(digits, '0');
}

/**
 * Checks `code` against a device at `nowMs`. On success records the matched step (so it and earlier steps are
 * refused from now on) and the time of use. The comparison runs over every candidate step regardless of where
 * a match is, so timing does not reveal which step matched.
 */
export function verifyTotp(device: TotpDevice, code: string, nowMs: number): boolean {
  const trimmed = code.trim();
  if (!/^[+-]?\d{1,10}$/.test(trimmed)) return false;
  const given = Number(trimmed);
  const current = totpStep(nowMs);
  let matched = -1;
  for (let offset = -TOTP_TOLERANCE_STEPS; offset <= TOTP_TOLERANCE_STEPS; offset++) {
    const step = current + offset;
    if (step < 0 || step <= device.lastUsedStep) continue;
    if (hotpValue(device.secret, step, device.digits) === given && matched < 0) matched = step;
  }
  if (matched < 0) return false;
  device.lastUsedStep = matched;
  device.lastUsed = Instant.fromEpochMs(nowMs);
  return true;
}
