/**
 * Versions this outpost reports. The core flags an outpost as outdated when its reported version differs from
 * the core's own, so we report the authentik release we are compatible with, not our package version.
 */

/** The authentik release we target and report (HELLO `version`, User-Agent, vendorVersion). */
export const AUTHENTIK_VERSION = '2026.2.2';

/** Build hash reported next to the version; empty when not built from a known commit. */
export const BUILD_HASH: string = process.env['GIT_BUILD_HASH'] ?? '';

/** Our own package version (package.json `version`; a test keeps the two in step). */
export const PACKAGE_VERSION = '0.1.0';

/** `VERSION` or `VERSION+HASH`, as the Go outposts print it. */
export function fullVersion(version: string = AUTHENTIK_VERSION, buildHash: string = BUILD_HASH): string {
  return buildHash === '' ? version : `${version}+${buildHash}`;
}

/** User-Agent on every request to the core and on the websocket. */
export const USER_AGENT = `goauthentik.io/outpost/${fullVersion()}`;
