/**
 * Synthetic directories for benchmarks and tests: users `user00001`… with passwords `pass00001`…, nested groups,
 * one LDAP provider/outpost (cached search and bind) and one RADIUS provider/outpost, plus an admin user holding
 * search_full_directory. Deterministic for a given seed.
 *
 * Password hashes use a deliberately tiny PBKDF2 work factor (default 100 iterations, ~30 µs per hash) so that
 * 100,000 users hash in about a second and a bind costs the outpost, not the hash. Never use these hashes, or
 * this work factor, for real credentials. Hashing runs on the thread pool in parallel.
 */
import type { Generation } from '../model.js';
import type { DirectoryFile, GroupSpec, UserSpec } from './types.js';
import { hashPassword } from './passwords.js';
import { mulberry32 } from '../../lib/random.js';

export interface GenerateOptions {
  users: number;
  groups: number;
  /** Direct groups per user (distinct, random); default 3, capped at `groups`. */
  groupsPerUser?: number;
  /** PRNG seed; default 1. */
  seed?: number;
  /** PBKDF2 iterations of every password hash; default 100 (see the file comment). */
  iterations?: number;
  /** API generation the directory declares; default '2026.2'. */
  generation?: Generation;
}

export const GENERATED_ADMIN = Object.freeze({ username: 'admin', password: 'admin-password' });
export const GENERATED_LDAP_OUTPOST_TOKEN = 'generated-ldap-outpost-token';
export const GENERATED_RADIUS_OUTPOST_TOKEN = 'generated-radius-outpost-token';
export const GENERATED_RADIUS_SECRET = 'generated-radius-secret';
export const GENERATED_DEFAULT_ITERATIONS = 100;
/** Children per group in the generated tree: groups 1-10 are roots, group k's parent is group floor((k-1)/10). */
const GROUP_FANOUT = 10;
/** Hashes in flight; enough to keep the thread pool busy without queueing 100k promises at once. */
const HASH_CONCURRENCY = 16;

export function generatedUsername(index: number): string {
  return `user${String(index).padStart(5, '0')}`;
}

export function generatedPassword(index: number): string {
  return `pass${String(index).padStart(5, '0')}`;
}

export function generatedGroupName(index: number): string {
  return `group${String(index).padStart(5, '0')}`;
}

/** Parent of generated group `index` (1-based), or undefined for the roots. */
export function generatedGroupParent(index: number): number | undefined {
  return index > GROUP_FANOUT ? Math.floor((index - 1) / GROUP_FANOUT) : undefined;
}

const SALT_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const DEPARTMENTS = ['engineering', 'sales', 'support', 'finance', 'operations', 'research'];

export async function generateDirectory(options: GenerateOptions): Promise<DirectoryFile> {
  const { users: userCount, groups: groupCount } = options;
  if (!Number.isInteger(userCount) || userCount < 0) throw new RangeError('users must be a non-negative integer');
  if (!Number.isInteger(groupCount) || groupCount < 0) throw new RangeError('groups must be a non-negative integer');
  const perUser = Math.min(options.groupsPerUser ?? 3, groupCount);
  const iterations = options.iterations ?? GENERATED_DEFAULT_ITERATIONS;
  // mulberry32: quality is plenty for picking groups and salts.
  const random = mulberry32(options.seed ?? 1);

  const groups: GroupSpec[] = [];
  for (let g = 1; g <= groupCount; g++) {
    const parent = generatedGroupParent(g);
    const spec: GroupSpec = { name: generatedGroupName(g), attributes: { generated: true, level: groupDepth(g) } };
    if (parent !== undefined) spec.parents = [generatedGroupName(parent)];
    groups.push(spec);
  }

  const salt = (): string => {
    let s = '';
    for (let i = 0; i < 22; i++) s += SALT_CHARS[Math.floor(random() * SALT_CHARS.length)];
    return s;
  };

  const users: UserSpec[] = [];
  const plain: Array<{ password: string; salt: string }> = [];
  for (let i = 1; i <= userCount; i++) {
    const username = generatedUsername(i);
    const picked = new Set<number>();
    while (picked.size < perUser) picked.add(1 + Math.floor(random() * groupCount));
    users.push({
      username,
      name: `User ${String(i).padStart(5, '0')}`,
      email: `${username}@example.com`,
      attributes: {
        employeeNumber: String(i),
        department: DEPARTMENTS[i % DEPARTMENTS.length]!,
        upn: `${username}@corp.example.com`,
      },
      groups: [...picked].sort((a, b) => a - b).map(generatedGroupName),
    });
    plain.push({ password: generatedPassword(i), salt: salt() });
  }
  users.push({
    username: GENERATED_ADMIN.username,
    name: 'Generated Admin',
    email: 'admin@example.com',
    is_superuser: true,
    search_full_directory: true,
  });
  plain.push({ password: GENERATED_ADMIN.password, salt: salt() });

  // Deterministic salts keep generated files reproducible; hashing fans out over the libuv pool.
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < users.length) {
      const index = next++;
      const entry = plain[index]!;
      users[index]!.password = await hashPassword(entry.password, iterations, entry.salt);
    }
  };
  await Promise.all(Array.from({ length: Math.min(HASH_CONCURRENCY, Math.max(1, users.length)) }, worker));

  return {
    version: 1,
    core: { generation: options.generation ?? '2026.2', install_id: `generated-${options.seed ?? 1}` },
    users,
    groups,
    providers: [
      { type: 'ldap', name: 'ldap', search_mode: 'cached', bind_mode: 'cached' },
      { type: 'radius', name: 'radius', shared_secret: GENERATED_RADIUS_SECRET },
    ],
    applications: [
      { slug: 'ldap', name: 'LDAP', provider: 'ldap' },
      { slug: 'radius', name: 'RADIUS', provider: 'radius' },
    ],
    outposts: [
      { name: 'ldap-outpost', type: 'ldap', providers: ['ldap'], token: GENERATED_LDAP_OUTPOST_TOKEN },
      { name: 'radius-outpost', type: 'radius', providers: ['radius'], token: GENERATED_RADIUS_OUTPOST_TOKEN },
    ],
  };
}

function groupDepth(index: number): number {
  let depth = 0;
  for (let g: number | undefined = index; g !== undefined; g = generatedGroupParent(g)) depth++;
  return depth;
}
