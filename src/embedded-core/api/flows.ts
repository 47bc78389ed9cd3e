/**
 * GET/POST /flows/executor/{slug}/: unauthenticated (the session cookie is the state), delegated to the flow
 * engine. An outpost is recognised by `X-authentik-outpost-token` (a valid outpost token, owned by the outpost's
 * service account); only then is its
 * `X-authentik-remote-ip` honoured (authentik's ClientIPMiddleware), and an invalid IP there is ignored.
 * Set-Cookie and Location pass through unchanged (302 to the same raw path while stages remain).
 */
import { isIP } from 'node:net';
import type { ExecutorRequest, ExecutorResponse } from '../flows/engine.js';
import type { Directory } from '../model.js';
import { outpostByToken, parseCookies, SESSION_COOKIE } from './auth.js';
import type { ApiRequest, ApiResponse } from './http.js';
import type { CoreLogger } from './logger.js';

export interface FlowExecutor {
  handle(req: ExecutorRequest): Promise<ExecutorResponse>;
}

/** The peer address without the IPv4-mapped prefix. */
export function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

function header(req: ApiRequest, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : Array.isArray(value) ? value[0] : undefined;
}

export function createExecutorHandler(deps: {
  engine: () => FlowExecutor;
  directory: () => Directory;
  logger: CoreLogger;
}): (req: ApiRequest, params: string[]) => Promise<ApiResponse> {
  return async (req, [slug]) => {
    const directory = deps.directory();
    const outpostToken = header(req, 'x-authentik-outpost-token');
    const tokenOutpost = outpostToken !== undefined ? outpostByToken(directory, outpostToken.trim()) : undefined;
    // authentik honours the header only for a token whose owner is an active internal service account.
    const owner = tokenOutpost === undefined ? undefined : directory.outpostUser(tokenOutpost.uuid);
    const outpost = tokenOutpost !== undefined && owner?.type === 'internal_service_account' && owner.isActive ? tokenOutpost : null;
    let remoteIp = plainAddress(req.remoteAddress);
    const claimedIp = header(req, 'x-authentik-remote-ip')?.trim();
    if (outpost !== null && claimedIp !== undefined && isIP(claimedIp) !== 0) remoteIp = claimedIp;
    const cookie = parseCookies(header(req, 'cookie')).get(SESSION_COOKIE);
    const result = await deps.engine().handle({
      method: req.method === 'POST' ? 'POST' : 'GET',
      flowSlug: slug ?? '',
      rawQuery: req.rawQuery,
      body: req.body,
      sessionCookie: cookie,
      outpost,
      remoteIp,
      secure: false,
      // Location of the 302 is the same raw path the client asked for.
      path: req.rawPath,
    });
    const headers: Record<string, string | string[]> = {};
    if (result.setCookies.length > 0) headers['set-cookie'] = result.setCookies;
    if (result.location !== undefined) headers.location = result.location;
    return result.body === undefined ? { status: result.status, headers } : { status: result.status, body: result.body, headers };
  };
}
