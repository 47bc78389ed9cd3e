/**
 * Which LDAP connections belong to which core session, so SESSION_END (sha256 hex of the session key) can close
 * them. Bounded: a connection is tracked under one session at a time and removed when it closes.
 */
import type { LdapConnectionView } from '../../listeners/ldap/handler.js';

export class SessionConnections {
  readonly #bySession = new Map<string, Set<LdapConnectionView>>();
  readonly #sessionOf = new Map<LdapConnectionView, string>();

  track(sessionHash: string, conn: LdapConnectionView): void {
    this.untrack(conn);
    let set = this.#bySession.get(sessionHash);
    if (set === undefined) this.#bySession.set(sessionHash, (set = new Set()));
    set.add(conn);
    this.#sessionOf.set(conn, sessionHash);
  }

  untrack(conn: LdapConnectionView): void {
    const hash = this.#sessionOf.get(conn);
    if (hash === undefined) return;
    this.#sessionOf.delete(conn);
    const set = this.#bySession.get(hash);
    set?.delete(conn);
    if (set?.size === 0) this.#bySession.delete(hash);
  }

  /** Removes and returns the connections of a session. */
  take(sessionHash: string): LdapConnectionView[] {
    const set = this.#bySession.get(sessionHash);
    if (set === undefined) return [];
    this.#bySession.delete(sessionHash);
    for (const conn of set) this.#sessionOf.delete(conn);
    return [...set];
  }

  get size(): number {
    return this.#sessionOf.size;
  }
}
