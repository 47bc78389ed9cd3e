/** Identifiers the embedded core derives the way authentik does, or deterministically where authentik is random. */
import { createHash } from 'node:crypto';

/** Namespace for name-based UUIDs of this project (itself a v5 UUID of "ak-outpost embedded core"). */
const NAMESPACE = Buffer.from('6f1c2a4e8d3b5f7a9c0e1d2b3a4f5e6d', 'hex');

/** RFC 4122 version-5 UUID of `<kind>:<name>`: stable across loads, so reloading never renames objects. */
export function nameUuid(kind: string, name: string): string {
  const hash = createHash('sha1').update(NAMESPACE).update(`${kind}:${name}`, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** authentik's Group.num_pk: the first five decimal digits of the UUID read as a 128-bit integer. */
export function groupNumPk(uuid: string): number {
  const digits = BigInt(`0x${uuid.replace(/-/g, '')}`).toString(10);
  return Number(digits.slice(0, 5));
}

/** authentik's User.uid: hex sha256 of "<pk>-<install id>". */
export function userUid(pk: number, installId: string): string {
  return createHash('sha256').update(`${pk}-${installId}`, 'utf8').digest('hex');
}
