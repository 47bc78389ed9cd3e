/**
 * The LDAP directory model: the entries of one provider's tree, the schema, filter evaluation, attribute
 * selection and the indexed, immutable snapshot searched by both search modes. It imports nothing of the
 * providers (test/architecture.test.ts): the LDAP provider uses it.
 *
 * Cached mode
 *   const holder = new SnapshotHolder((signal) => buildSnapshot(core, provider, { pageSize, onProgress, signal }));
 *   await holder.refresh();                      // at start, on the refresh interval, on a websocket trigger
 *   const result = holder.current?.search(request, { userPk, canSearch });
 *
 *   buildSnapshot(core, provider, options) fetches all groups, then all users (streamed page by page), and
 *   resolves to an immutable DirectorySnapshot or rejects (CoreError, abort); it never touches a live snapshot.
 *   SnapshotHolder serialises refreshes, swaps one reference on success and keeps the last good snapshot on
 *   failure (RefreshOutcome tells which; log it there).
 *
 * Direct mode (providers/ldap/search/direct.ts) fetches what a filter needs from the core, then searches
 *   buildSnapshotFromData(provider, users, groups, { preEncode: false }).search(request, viewer).
 *
 * Compare: snapshot.compare(dn, attribute, value, viewer) -> 6 / 5 / 16 / 17 / 32 / 34.
 *
 * Request: { baseObject, scope (0 base, 1 one, 2 sub, 3 subordinates), filter (codec AST), attributes (as sent:
 * `*`, `+`, `1.1`, names, comma-separated lists), typesOnly, sizeLimit (0 = none) } — a decoded SearchRequest fits.
 * Viewer: { userPk, canSearch }; without canSearch the user sees the base, the containers, itself, its virtual
 * group and its direct groups (each listing only the user as member, no parents).
 *
 * Result (SearchResult): resultCode 0 success, 4 sizeLimitExceeded (send the `count` entries, then Done(4)),
 * 32 noSuchObject (with matchedDn), 34 invalidDNSyntax; `count` entries, each as `encoded(i)` (the
 * SearchResultEntry protocolOp: pass it to MessageBatch.append / frameOp with the messageID) or `entry(i)`
 * (typed, selected attributes). Results are computed eagerly (ids), encoded lazily: page them with paged results
 * by index. A result keeps its snapshot alive, so keep it only as long as a paging cookie needs it.
 *
 * Design
 * - One interned attribute table per snapshot; entries store value slots (a string, or an array for several
 *   values) in one chunked array (it grows without multi-megabyte copies), by position in a shared shape; no
 *   per-entry maps. DNs and memberships share strings. 100,000 users x 5 groups + 10,000 groups: ~140 MB heap +
 *   up to 64 MB of encoded entries.
 * - Entries are encoded for `*` and kept up to BuildOptions.preEncodeBytes (DIRECTORY_LIMITS: 64 MiB): by
 *   buildSnapshot when a search first sends them (the build stays short and memory follows what clients read),
 *   by buildSnapshotFromData at build time in id order; the rest, and other selections, are encoded per request.
 * - Equality on cn, uid, sAMAccountName, mail, objectClass, uidNumber, gidNumber, member, memberOf and entryDN
 *   resolves through indexes (candidates are re-checked); AND intersects, OR unites; anything else scans the
 *   scope with the filter compiled once per request. Kinds come from the whole filter, never the "last
 *   objectClass". In-chain membership (1.2.840.113556.1.4.1941) is computed per target and memoized (LRU 256).
 * - Semantics of entries and filters: see entries.ts and compile.ts.
 */
export { buildSnapshot, buildSnapshotFromData, SnapshotBuilder } from './build.js';
export type { BuildOptions, BuildProgress, SnapshotProvider } from './build.js';
export { SnapshotHolder } from './holder.js';
export type { RefreshOutcome, SnapshotBuild } from './holder.js';
export { DirectorySnapshot, EntryKind } from './snapshot.js';
export type { EntryKindValue } from './snapshot.js';
export type { SearchQuery, SearchResult, Viewer } from './types.js';
export { subschemaEntry, SUBSCHEMA_DN } from './schema.js';
export type { LdapAttribute, LdapEntry } from './entries.js';
