/**
 * Server-side sessions, like authentik's Django sessions: a random 32-character key, a flow plan while a flow runs,
 * the logged-in user after user_login. The `authentik_session` cookie carries an HS256 JWT
 * `{sid, iss: "authentik", sub, authenticated, acr}` signed with the store's key.
 *
 * Bounded: at most `maxSessions` live sessions, least recently used evicted first; expired sessions are removed
 * when touched and by a periodic sweep.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { preciseNowMs } from '../time.js';
import type { FlowPlan } from './plan.js';

export const SESSION_COOKIE_NAME = 'authentik_session';
/** authentik's `acr` claim for sessions it issues. */
export const ACR_AUTHENTIK_SESSION = 'goauthentik.io/core/default';
export const DEFAULT_MAX_SESSIONS = 20_000;
/** authentik's sessions.unauthenticated_age default ("days=1"), also the server-side age of browser sessions. */
export const DEFAULT_SESSION_TTL_MS = 24 * 3600 * 1000;
const MAX_COOKIE_LENGTH = 4096;
const SWEEP_EVERY_CREATES = 1024;
const KEY_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789';

export type SessionEndReason = 'logout' | 'expired' | 'evicted';

export interface Session {
  /** Django-style session key: 32 characters of [a-z0-9]. Changes on login (rotate). */
  key: string;
  readonly createdAt: number;
  /** Server-side expiry (ms since epoch). */
  expiresAt: number;
  /** True once a session_duration fixed the expiry; otherwise it slides with every modification. */
  fixedExpiry: boolean;
  /** authentik session_duration "seconds=0": the cookie has no Expires (ends with the browser). */
  browserSession: boolean;
  userPk: number | null;
  userUid: string | null;
  authenticatedAt: number | null;
  lastIp: string | null;
  /** The running flow's plan (authentik's SESSION_KEY_PLAN). */
  plan: FlowPlan | undefined;
}

export interface SessionStoreOptions {
  /** HMAC key for the cookie JWT (authentik uses sha512(SECRET_KEY)); at least 32 bytes. */
  signingKey: string | Buffer;
  maxSessions?: number;
  /** Age of sessions without a session_duration, sliding with each modification. */
  defaultTtlMs?: number;
  now?: () => number;
  /**
   * Called when an authenticated session ends other than through endSession()/endSessionsOfUser() (whose callers
   * get the keys back): a user_logout stage, expiry, or eviction. The server broadcasts SESSION_END for these.
   */
  onSessionEnd?: (key: string, reason: SessionEndReason) => void;
}

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

/** Django's get_random_string(32) over [a-z0-9], without modulo bias. */
function newSessionKey(): string {
  let key = '';
  while (key.length < 32) {
    for (const byte of randomBytes(48)) {
      if (byte < 252) key += KEY_CHARS[byte % 36];
      if (key.length === 32) break;
    }
  }
  return key;
}

const SESSION_KEY_RE = /^[a-z0-9]{32}$/;
const JWT_HEADER = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

export class SessionStore {
  readonly #sessions = new Map<string, Session>();
  readonly #key: Buffer;
  readonly #maxSessions: number;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #onSessionEnd: ((key: string, reason: SessionEndReason) => void) | undefined;
  #createsSinceSweep = 0;

  constructor(options: SessionStoreOptions) {
    this.#key = Buffer.isBuffer(options.signingKey) ? Buffer.from(options.signingKey) : Buffer.from(options.signingKey, 'utf8');
    if (this.#key.length < 32) throw new RangeError('session signing key must be at least 32 bytes');
    this.#maxSessions = options.maxSessions ?? DEFAULT_MAX_SESSIONS;
    if (!Number.isInteger(this.#maxSessions) || this.#maxSessions < 1) throw new RangeError('maxSessions must be a positive integer');
    this.#ttlMs = options.defaultTtlMs ?? DEFAULT_SESSION_TTL_MS;
    this.#now = options.now ?? preciseNowMs;
    this.#onSessionEnd = options.onSessionEnd;
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** A new anonymous session (stored; evicts the least recently used one when full). */
  create(): Session {
    if (++this.#createsSinceSweep >= SWEEP_EVERY_CREATES) this.sweep();
    while (this.#sessions.size >= this.#maxSessions) {
      const oldest = this.#sessions.values().next().value;
      if (oldest === undefined) break;
      this.#drop(oldest, 'evicted');
    }
    const now = this.#now();
    const session: Session = {
      key: newSessionKey(),
      createdAt: now,
      expiresAt: now + this.#ttlMs,
      fixedExpiry: false,
      browserSession: false,
      userPk: null,
      userUid: null,
      authenticatedAt: null,
      lastIp: null,
      plan: undefined,
    };
    this.#sessions.set(session.key, session);
    return session;
  }

  /** The live session for a key (marks it recently used), or undefined when unknown or expired. */
  get(key: string): Session | undefined {
    const session = this.#sessions.get(key);
    if (session === undefined) return undefined;
    if (this.#now() >= session.expiresAt) {
      this.#drop(session, 'expired');
      return undefined;
    }
    this.#sessions.delete(key);
    this.#sessions.set(key, session);
    return session;
  }

  /** Verifies the cookie's signature in constant time and returns the live session, or undefined. */
  fromCookie(value: string | undefined): Session | undefined {
    if (value === undefined || value.length === 0 || value.length > MAX_COOKIE_LENGTH) return undefined;
    const parts = value.split('.');
    if (parts.length !== 3) return undefined;
    const [header, payload, signature] = parts as [string, string, string];
    const expected = this.#sign(`${header}.${payload}`);
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    let headerJson: unknown;
    let claims: unknown;
    try {
      headerJson = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    if (typeof headerJson !== 'object' || headerJson === null || (headerJson as { alg?: unknown }).alg !== 'HS256') return undefined;
    if (typeof claims !== 'object' || claims === null) return undefined;
    const { sid, iss } = claims as { sid?: unknown; iss?: unknown };
    if (iss !== 'authentik' || typeof sid !== 'string' || !SESSION_KEY_RE.test(sid)) return undefined;
    return this.get(sid);
  }

  /** The cookie value: an HS256 JWT over the session's current key and user. */
  cookieValue(session: Session): string {
    const claims = {
      sid: session.key,
      iss: 'authentik',
      sub: session.userUid ?? 'anonymous',
      authenticated: session.userPk !== null,
      acr: ACR_AUTHENTIK_SESSION,
    };
    const signingInput = `${JWT_HEADER}.${base64url(JSON.stringify(claims))}`;
    return `${signingInput}.${this.#sign(signingInput).toString('base64url')}`;
  }

  /**
   * Set-Cookie for a session. authentik sets SameSite=None on secure requests and Lax otherwise; browser
   * sessions (session_duration "seconds=0") get no Expires/Max-Age.
   */
  setCookieHeader(session: Session, options: { secure: boolean }): string {
    let header = `${SESSION_COOKIE_NAME}=${this.cookieValue(session)}; Path=/`;
    if (!session.browserSession) {
      const maxAge = Math.max(0, Math.floor((session.expiresAt - this.#now()) / 1000));
      header += `; Expires=${httpDate(session.expiresAt)}; Max-Age=${maxAge}`;
    }
    header += `; HttpOnly; SameSite=${options.secure ? 'None; Secure' : 'Lax'}`;
    return header;
  }

  /** Set-Cookie that removes the session cookie (sent when a request's session ended up empty). */
  clearCookieHeader(options: { secure: boolean }): string {
    return `${SESSION_COOKIE_NAME}=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; SameSite=${options.secure ? 'None; Secure' : 'Lax'}`;
  }

  /** Records a modification: sessions without a fixed duration slide their expiry (Django's SESSION_COOKIE_AGE). */
  touch(session: Session): void {
    if (!session.fixedExpiry) session.expiresAt = this.#now() + this.#ttlMs;
  }

  /** New key for the same session (Django's cycle_key, done at login). */
  rotate(session: Session): void {
    if (this.#sessions.get(session.key) === session) this.#sessions.delete(session.key);
    session.key = newSessionKey();
    this.#sessions.set(session.key, session);
  }

  /**
   * Logs a user in: rotates the key and sets the expiry. `durationMs` 0 means a browser session (server-side it
   * still ends after the default TTL, like Django with set_expiry(0)).
   */
  login(session: Session, user: { pk: number; uid: string }, durationMs: number, ip: string | null): void {
    this.rotate(session);
    const now = this.#now();
    session.userPk = user.pk;
    session.userUid = user.uid;
    session.authenticatedAt = now;
    session.lastIp = ip;
    if (durationMs > 0) {
      session.expiresAt = now + durationMs;
      session.fixedExpiry = true;
      session.browserSession = false;
    } else {
      session.expiresAt = now + this.#ttlMs;
      session.fixedExpiry = false;
      session.browserSession = true;
    }
  }

  /** Ends a session from inside a flow (user_logout): removed, and reported through onSessionEnd if authenticated. */
  terminate(session: Session, reason: SessionEndReason): void {
    if (this.#sessions.get(session.key) === session) this.#drop(session, reason);
  }

  /** Removes an anonymous session that holds nothing any more (no hook: outposts never saw it authenticated). */
  discard(session: Session): void {
    if (this.#sessions.get(session.key) === session) this.#sessions.delete(session.key);
  }

  /** Admin API: ends one session. No hook call; the caller broadcasts. */
  endSession(key: string): boolean {
    return this.#sessions.delete(key);
  }

  /** Admin API: ends every session of a user and returns their keys (the caller broadcasts SESSION_END). */
  endSessionsOfUser(userPk: number): string[] {
    const keys: string[] = [];
    for (const session of this.#sessions.values()) if (session.userPk === userPk) keys.push(session.key);
    for (const key of keys) this.#sessions.delete(key);
    return keys;
  }

  /** Live authenticated sessions (expired ones are left for the sweep). */
  authenticatedSessions(): Session[] {
    const now = this.#now();
    const out: Session[] = [];
    for (const session of this.#sessions.values()) if (session.userPk !== null && session.expiresAt > now) out.push(session);
    return out;
  }

  /** Removes every expired session; returns how many. */
  sweep(): number {
    this.#createsSinceSweep = 0;
    const now = this.#now();
    const expired: Session[] = [];
    for (const session of this.#sessions.values()) if (session.expiresAt <= now) expired.push(session);
    for (const session of expired) this.#drop(session, 'expired');
    return expired.length;
  }

  #drop(session: Session, reason: SessionEndReason): void {
    this.#sessions.delete(session.key);
    if (session.userPk !== null && this.#onSessionEnd !== undefined) {
      try {
        this.#onSessionEnd(session.key, reason);
      } catch {
        // A failing listener must not break session bookkeeping.
      }
    }
  }

  #sign(input: string): Buffer {
    return createHmac('sha256', this.#key).update(input).digest();
  }
}
