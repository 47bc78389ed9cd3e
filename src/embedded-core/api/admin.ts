/**
 * Admin operations.
 *
 * authentik paths (same shapes as authentik):
 *   GET    /core/tokens/{identifier}/view_key/          -> {"key": …}. authentik creates an outpost's token
 *          server-side (identifier ak-outpost-<uuid>-api) and never returns it in the Outpost serializer; this is
 *          how an admin reads it. The outpost itself may read its own token, as the token's owner can.
 *   DELETE /core/authenticated_sessions/{uuid}/         -> 204; pushes SESSION_END to all outposts.
 *
 * Embedded-core extensions (ours, admin token only; not in authentik's schema):
 *   POST   /ak-embedded/reload/                         -> re-read the directory file, TRIGGER_UPDATE to all.
 *   POST   /ak-embedded/end-sessions/  {"username": …}  -> end every session of a user, SESSION_END per session.
 *   GET    /ak-embedded/outposts/connected/             -> connected outpost instances (uuid, instance, attempts).
 *   GET    /ak-embedded/sessions/                       -> authenticated sessions (uuid, user, last IP).
 */
import { Instant } from '../time.js';
import type { ApiContext } from './context.js';
import type { ApiRequest, ApiResponse } from './http.js';
import { canonicalUuid, detail, json, noContent, objectNotFound, permissionDenied, validationError } from './http.js';
import { outpostTokenIdentifier } from './serialize.js';

export function viewTokenKey(req: ApiRequest, ctx: ApiContext, identifier: string): ApiResponse {
  const p = req.principal;
  if (p.kind !== 'admin' && p.kind !== 'outpost') return permissionDenied();
  for (const outpost of ctx.directory().outposts.values()) {
    if (outpostTokenIdentifier(outpost) !== identifier) continue;
    if (p.kind === 'outpost' && p.outpost.uuid !== outpost.uuid) break;
    return json(200, { key: outpost.token });
  }
  return objectNotFound(req.generation, 'Token');
}

export function deleteAuthenticatedSession(req: ApiRequest, ctx: ApiContext, uuid: string): ApiResponse {
  if (req.principal.kind !== 'admin') return permissionDenied();
  const key = canonicalUuid(uuid);
  if (key === null || !ctx.endSessionByUuid(key)) return objectNotFound(req.generation, 'AuthenticatedSession');
  return noContent();
}

export async function reloadDirectory(req: ApiRequest, ctx: ApiContext): Promise<ApiResponse> {
  if (req.principal.kind !== 'admin') return permissionDenied();
  try {
    await ctx.reload();
  } catch (err) {
    return detail(400, `directory reload failed: ${(err as Error).message}`);
  }
  return json(200, { reloaded: true });
}

export async function endSessionsOfUser(req: ApiRequest, ctx: ApiContext): Promise<ApiResponse> {
  if (req.principal.kind !== 'admin') return permissionDenied();
  const body = req.body;
  const username = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>).username : undefined;
  if (typeof username !== 'string' || username === '') return validationError({ username: ['This field is required.'] });
  if (!ctx.directory().userByUsername(username)) return validationError({ username: [`No user named "${username}".`] });
  const ended = await ctx.endUserSessions(username);
  return json(200, { ended });
}

export function connectedOutposts(req: ApiRequest, ctx: ApiContext): ApiResponse {
  if (req.principal.kind !== 'admin') return permissionDenied();
  return json(
    200,
    ctx.hub.connected().map((c) => ({
      outpost: c.outpostUuid,
      instance: c.instanceUuid,
      remote_address: c.remoteAddress,
      connected_at: c.connectedAt.toDrf(),
      last_seen: c.state?.lastSeen.toDrf() ?? null,
      version: c.state?.version ?? null,
      attempts: c.attempts,
    })),
  );
}

export function listSessions(req: ApiRequest, ctx: ApiContext): ApiResponse {
  if (req.principal.kind !== 'admin') return permissionDenied();
  const directory = ctx.directory();
  return json(
    200,
    ctx.listSessions().map((s) => ({
      uuid: s.uuid,
      user: s.userPk,
      username: s.userPk !== null ? directory.users.get(s.userPk)?.username ?? null : null,
      last_ip: s.lastIp,
      authenticated_at: s.authenticatedAt !== null ? Instant.fromEpochMs(s.authenticatedAt).toDrf() : null,
    })),
  );
}
