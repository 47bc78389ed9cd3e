/**
 * Django password hashes (`<algorithm>$<iterations>$<salt>$<base64 digest>`), the format authentik stores.
 * Only the PBKDF2 hashers are implemented; any other algorithm (argon2, bcrypt, scrypt, unusable "!..."
 * passwords) never verifies. Hashing runs on the libuv thread pool so a bind never blocks the event loop.
 */
import { pbkdf2, randomInt, timingSafeEqual } from 'node:crypto';

/** Django 4.2's PBKDF2 work factor (authentik 2023.10 ships Django 4.2; later Django versions raise it). */
export const DJANGO_DEFAULT_ITERATIONS = 600_000;
/** Upper bound accepted from a directory file: one verification must not occupy a pool thread for minutes. */
export const MAX_ITERATIONS = 10_000_000;
/** Plain passwords longer than this are refused without hashing (Django has no limit; this bounds CPU). */
export const MAX_PASSWORD_LENGTH = 4096;

const ALGORITHMS = { pbkdf2_sha256: { digest: 'sha256', length: 32 }, pbkdf2_sha1: { digest: 'sha1', length: 20 } } as const;
type Algorithm = keyof typeof ALGORITHMS;

const SALT_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

export interface ParsedHash {
  algorithm: Algorithm;
  iterations: number;
  salt: string;
  digest: Buffer;
}

/** Parses a supported Django hash; undefined for anything else (including unusable passwords). */
export function parseDjangoHash(encoded: string): ParsedHash | undefined {
  const parts = encoded.split('$');
  if (parts.length !== 4) return undefined;
  const [algorithm, iterText, salt, b64] = parts as [string, string, string, string];
  if (algorithm !== 'pbkdf2_sha256' && algorithm !== 'pbkdf2_sha1') return undefined;
  if (!/^[1-9]\d{0,8}$/.test(iterText)) return undefined;
  const iterations = Number(iterText);
  if (iterations > MAX_ITERATIONS) return undefined;
  // Django refuses salts containing '$'; the split above already guarantees that.
  if (salt.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return undefined;
  const digest = Buffer.from(b64, 'base64');
  if (digest.length !== ALGORITHMS[algorithm].length) return undefined;
  return { algorithm, iterations, salt, digest };
}

/** True when `encoded` is a hash this module can verify (used by the loader to reject typos early). */
export function isSupportedHash(encoded: string): boolean {
  return parseDjangoHash(encoded) !== undefined;
}

function derive(plain: string, salt: string, iterations: number, algorithm: Algorithm): Promise<Buffer> {
  const { digest, length } = ALGORITHMS[algorithm];
  return new Promise((resolve, reject) => {
    pbkdf2(Buffer.from(plain, 'utf8'), Buffer.from(salt, 'utf8'), iterations, length, digest, (err, key) => {
      if (err) reject(err);
      else resolve(key);
    });
  });
}

/** Verifies `plain` against a Django hash in constant time; false for null, unknown formats and wrong passwords. */
export async function verifyPassword(plain: string, encoded: string | null): Promise<boolean> {
  if (encoded === null || plain.length > MAX_PASSWORD_LENGTH) return false;
  const parsed = parseDjangoHash(encoded);
  if (parsed === undefined) return false;
  const computed = await derive(plain, parsed.salt, parsed.iterations, parsed.algorithm);
  // Both digests have the algorithm's fixed length (checked in parseDjangoHash).
  return timingSafeEqual(computed, parsed.digest);
}

/** A Django-style salt: 22 characters from [a-zA-Z0-9] (about 131 bits), like Django's `salt()`. */
export function randomSalt(): string {
  let salt = '';
  for (let i = 0; i < 22; i++) salt += SALT_CHARS[randomInt(SALT_CHARS.length)];
  return salt;
}

/**
 * Hashes a password in Django's `pbkdf2_sha256` format. The default work factor matches Django 4.2; the demo
 * directory and generated benchmark directories pass far lower counts so binds stay cheap (documented there).
 */
export async function hashPassword(plain: string, iterations: number = DJANGO_DEFAULT_ITERATIONS, salt?: string): Promise<string> {
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_ITERATIONS) {
    throw new RangeError(`iterations must be an integer between 1 and ${MAX_ITERATIONS}`);
  }
  const useSalt = salt ?? randomSalt();
  if (useSalt.length === 0 || useSalt.includes('$')) throw new RangeError('salt must be non-empty and must not contain "$"');
  const key = await derive(plain, useSalt, iterations, 'pbkdf2_sha256');
  return `pbkdf2_sha256$${iterations}$${useSalt}$${key.toString('base64')}`;
}
