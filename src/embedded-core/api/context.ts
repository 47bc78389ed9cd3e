/** What route handlers need from the running core (core.ts implements it). */
import type { Directory } from '../model.js';
import type { OutpostHub } from '../ws.js';
import type { CoreLogger } from './logger.js';

export interface ApiContext {
  directory(): Directory;
  hub: OutpostHub;
  logger: CoreLogger;
  /** The core's version and build hash (outpost health `version_should` / `build_hash_should`). */
  version(): string;
  buildHash: string;
  /** A fresh outpost API token. */
  newToken(): string;
  reload(): Promise<void>;
  /** Ends every session of a user; returns how many ended. */
  endUserSessions(username: string): Promise<number>;
  /** Ends one authenticated session by its authentik uuid; false when unknown. */
  endSessionByUuid(uuid: string): boolean;
  /** Authenticated sessions (uuid as used by DELETE /core/authenticated_sessions/{uuid}/). */
  listSessions(): Array<{ uuid: string; userPk: number | null; lastIp: string | null; authenticatedAt: number | null }>;
}
