/**
 * Who is calling: authentik's API authentication, reduced to the principals the embedded core knows.
 *
 * - `Authorization: Bearer <token>`: the admin token (everything, incl. writes) or an outpost's token (its
 *   service account: its own outpost, its providers, users/groups read, its providers' certificates). A bearer
 *   header that matches nothing is a hard failure ("Token invalid/expired"), even with a valid session cookie,
 *   as in authentik (token authentication runs first and raises).
 * - Otherwise the `authentik_session` cookie: the session's user (used by /core/users/me/ and check_access).
 *
 * Secrets are compared as SHA-256 digests with timingSafeEqual.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { CoreOutpost, CoreUser, Directory } from '../model.js';

export const SESSION_COOKIE = 'authentik_session';

export type Principal =
  | { kind: 'anonymous' }
  | { kind: 'invalid'; detail: string }
  | { kind: 'admin' }
  | { kind: 'outpost'; outpost: CoreOutpost }
  | { kind: 'session'; user: CoreUser; sessionKey: string };

export interface SessionLookup {
  /** The authenticated user behind a session cookie value, or null. */
  (cookieValue: string): { user: CoreUser; sessionKey: string } | null;
}

export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export function digestsEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

const outpostDigests = new WeakMap<CoreOutpost, { token: string; digest: Buffer }>();

function outpostDigest(outpost: CoreOutpost): Buffer {
  const cached = outpostDigests.get(outpost);
  if (cached && cached.token === outpost.token) return cached.digest;
  const digest = tokenDigest(outpost.token);
  outpostDigests.set(outpost, { token: outpost.token, digest });
  return digest;
}

/** The outpost whose token this is. Compares against every outpost so timing does not reveal which matched. */
export function outpostByToken(directory: Directory, token: string): CoreOutpost | undefined {
  if (token === '') return undefined;
  const presented = tokenDigest(token);
  let found: CoreOutpost | undefined;
  for (const outpost of directory.outposts.values()) {
    if (outpost.token !== '' && digestsEqual(presented, outpostDigest(outpost)) && found === undefined) found = outpost;
  }
  return found;
}

/** Cookie header -> name/value pairs (first occurrence wins; bounded to 50 cookies). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(';').slice(0, 50)) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    if (name !== '' && !out.has(name)) out.set(name, value);
  }
  return out;
}

export interface AuthenticateOptions {
  directory: Directory;
  adminTokenDigest: Buffer;
  sessionLookup: SessionLookup;
}

export function authenticate(headers: IncomingHttpHeaders, options: AuthenticateOptions): Principal {
  const authorization = headers.authorization;
  if (typeof authorization === 'string' && authorization !== '') {
    const space = authorization.indexOf(' ');
    const scheme = (space < 0 ? authorization : authorization.slice(0, space)).toLowerCase();
    if (scheme === 'bearer') {
      const token = space < 0 ? '' : authorization.slice(space + 1).trim();
      if (token === '') return { kind: 'invalid', detail: 'Malformed header' };
      if (digestsEqual(tokenDigest(token), options.adminTokenDigest)) return { kind: 'admin' };
      const outpost = outpostByToken(options.directory, token);
      if (outpost) return { kind: 'outpost', outpost };
      return { kind: 'invalid', detail: 'Token invalid/expired' };
    }
    // Other schemes are not ours: fall through to the session, like authentik's token authentication.
  }
  const cookie = parseCookies(typeof headers.cookie === 'string' ? headers.cookie : undefined).get(SESSION_COOKIE);
  if (cookie !== undefined && cookie !== '') {
    const session = options.sessionLookup(cookie);
    if (session) return { kind: 'session', user: session.user, sessionKey: session.sessionKey };
  }
  return { kind: 'anonymous' };
}
