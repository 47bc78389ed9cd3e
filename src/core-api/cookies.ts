/**
 * The cookie jar of one flow attempt: the RFC 6265 subset the core needs. Name/value, Path, Expires/Max-Age,
 * Secure (sent only over https, like Go's jar), host-only (a Domain attribute is accepted only when it matches
 * the request host, and the cookie still only goes back to that host). Bounded in count and size.
 */

export interface CookieJarLimits {
  maxCookies: number;
  /** name + value bytes of one cookie. */
  maxCookieBytes: number;
}

export const DEFAULT_COOKIE_LIMITS: CookieJarLimits = { maxCookies: 32, maxCookieBytes: 8192 };

interface StoredCookie {
  name: string;
  value: string;
  host: string;
  path: string;
  secure: boolean;
  /** Epoch ms; undefined = session cookie. */
  expiresAt: number | undefined;
  /** Insertion order, to find the newest value of a name. */
  seq: number;
}

export interface StoreResult {
  /** Cookies stored or updated (deletions included). */
  stored: number;
  /** Secure cookies received over plain http: kept, but they will never be sent back (a common misconfiguration). */
  secureOverHttp: string[];
  /** Cookies dropped as malformed, oversized, for another domain, or beyond the count limit. */
  rejected: number;
}

export class CookieJar {
  readonly #cookies = new Map<string, StoredCookie>();
  #seq = 0;

  readonly #limits: CookieJarLimits;

  constructor(limits: CookieJarLimits = DEFAULT_COOKIE_LIMITS) {
    this.#limits = limits;
  }

  /** Store every Set-Cookie of a response to `url` (call for each redirect hop too). */
  storeFromResponse(url: URL, setCookieHeaders: readonly string[], now: number = Date.now()): StoreResult {
    const result: StoreResult = { stored: 0, secureOverHttp: [], rejected: 0 };
    for (const header of setCookieHeaders) {
      const parsed = parseSetCookie(header, url, now);
      if (parsed === undefined || byteLength(parsed.name) + byteLength(parsed.value) > this.#limits.maxCookieBytes) {
        result.rejected++;
        continue;
      }
      const key = `${parsed.name}\u0000${parsed.path}`;
      if (parsed.expiresAt !== undefined && parsed.expiresAt <= now) {
        this.#cookies.delete(key);
        result.stored++;
        continue;
      }
      if (!this.#cookies.has(key)) {
        this.#evictExpired(now);
        if (this.#cookies.size >= this.#limits.maxCookies) {
          result.rejected++;
          continue;
        }
      }
      this.#cookies.set(key, { ...parsed, seq: ++this.#seq });
      result.stored++;
      if (parsed.secure && url.protocol !== 'https:') result.secureOverHttp.push(parsed.name);
    }
    return result;
  }

  /** Seed a host-only session cookie with path '/' (e.g. the bound user's authentik_session). */
  set(url: URL, name: string, value: string): void {
    const key = `${name}\u0000/`;
    if (!this.#cookies.has(key) && this.#cookies.size >= this.#limits.maxCookies) return;
    this.#cookies.set(key, { name, value, host: url.hostname, path: '/', secure: false, expiresAt: undefined, seq: ++this.#seq });
  }

  /** The Cookie header for a request to `url`, or undefined when nothing applies. */
  header(url: URL, now: number = Date.now()): string | undefined {
    const matching: StoredCookie[] = [];
    for (const cookie of this.#cookies.values()) {
      if (cookie.expiresAt !== undefined && cookie.expiresAt <= now) continue;
      if (cookie.host !== url.hostname) continue;
      if (cookie.secure && url.protocol !== 'https:') continue;
      if (!pathMatches(url.pathname, cookie.path)) continue;
      matching.push(cookie);
    }
    if (matching.length === 0) return undefined;
    // RFC 6265 5.4: longer paths first, then earlier creation.
    matching.sort((a, b) => b.path.length - a.path.length || a.seq - b.seq);
    return matching.map((c) => `${c.name}=${c.value}`).join('; ');
  }

  /** The newest live value stored under `name` (any path). */
  get(name: string, now: number = Date.now()): string | undefined {
    let newest: StoredCookie | undefined;
    for (const cookie of this.#cookies.values()) {
      if (cookie.name !== name) continue;
      if (cookie.expiresAt !== undefined && cookie.expiresAt <= now) continue;
      if (newest === undefined || cookie.seq > newest.seq) newest = cookie;
    }
    return newest?.value;
  }

  get size(): number {
    return this.#cookies.size;
  }

  #evictExpired(now: number): void {
    for (const [key, cookie] of this.#cookies) {
      if (cookie.expiresAt !== undefined && cookie.expiresAt <= now) this.#cookies.delete(key);
    }
  }
}

type ParsedCookie = Omit<StoredCookie, 'seq'>;

// RFC 6265 token characters for the cookie name.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function parseSetCookie(header: string, url: URL, now: number): ParsedCookie | undefined {
  const parts = header.split(';');
  const pair = parts[0] ?? '';
  const eq = pair.indexOf('=');
  if (eq <= 0) return undefined;
  const name = pair.slice(0, eq).trim();
  const value = pair.slice(eq + 1).trim();
  // eslint-disable-next-line no-control-regex -- RFC 6265 cookie-octets exclude control characters
  if (!TOKEN.test(name) || /[\u0000-\u001f\u007f;]/.test(value)) return undefined;

  let path: string | undefined;
  let secure = false;
  let expires: number | undefined;
  let maxAge: number | undefined;
  for (const raw of parts.slice(1)) {
    const i = raw.indexOf('=');
    const attr = (i < 0 ? raw : raw.slice(0, i)).trim().toLowerCase();
    const attrValue = i < 0 ? '' : raw.slice(i + 1).trim();
    switch (attr) {
      case 'path':
        path = attrValue.startsWith('/') ? attrValue : undefined;
        break;
      case 'secure':
        secure = true;
        break;
      case 'expires': {
        const t = Date.parse(attrValue);
        if (!Number.isNaN(t)) expires = t;
        break;
      }
      case 'max-age':
        if (/^-?\d+$/.test(attrValue)) {
          const seconds = Number(attrValue);
          maxAge = seconds <= 0 ? 0 : now + Math.min(seconds, 400 * 86400) * 1000;
        }
        break;
      case 'domain': {
        const domain = attrValue.replace(/^\./, '').toLowerCase();
        if (domain !== '' && !domainMatches(url.hostname.toLowerCase(), domain)) return undefined;
        break;
      }
      default:
        break; // HttpOnly, SameSite, Partitioned...: no meaning for us
    }
  }
  return {
    name,
    value,
    host: url.hostname,
    path: path ?? defaultPath(url.pathname),
    secure,
    // Max-Age wins over Expires (RFC 6265 5.3 step 3); 0 means "delete now".
    expiresAt: maxAge !== undefined ? (maxAge === 0 ? now - 1 : maxAge) : expires,
  };
}

function domainMatches(host: string, domain: string): boolean {
  return host === domain || (host.endsWith(`.${domain}`) && !/^[\d.]+$/.test(host));
}

function defaultPath(requestPath: string): string {
  if (!requestPath.startsWith('/')) return '/';
  const last = requestPath.lastIndexOf('/');
  return last <= 0 ? '/' : requestPath.slice(0, last);
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath.charAt(cookiePath.length) === '/';
}

function byteLength(s: string): number {
  return Buffer.byteLength(s);
}
