/**
 * URL -> handler for everything under /api/v3. Mirrors DRF's order: authenticate, check that the caller is
 * authenticated where the view requires it (403 otherwise), then 405 for an unsupported method, then the view.
 */
import type { Generation } from '../model.js';
import * as admin from './admin.js';
import type { ApiContext } from './context.js';
import { certificateRoute } from './crypto.js';
import type { ApiRequest, ApiResponse } from './http.js';
import { detail, json, methodNotAllowed, NOT_AUTHENTICATED, routeNotFound } from './http.js';
import * as outposts from './outposts.js';
import { rootConfigJson } from './serialize.js';
import * as directoryRoutes from './users-groups.js';

type Handler = (req: ApiRequest, params: string[]) => ApiResponse | Promise<ApiResponse>;

interface Route {
  pattern: RegExp;
  methods: Partial<Record<string, Handler>>;
  /** Views open to anonymous callers (root config, flow executor). */
  allowAnonymous?: boolean;
  /** Generations that have this path (default: all). */
  generations?: readonly Generation[];
}

export interface RouterOptions {
  ctx: ApiContext;
  /** GET/POST /flows/executor/{slug}/ */
  executor: Handler;
}

const SEG = '([^/]+)';

export function createRouter(options: RouterOptions): (req: ApiRequest) => Promise<ApiResponse> {
  const { ctx } = options;
  const dir = (): ReturnType<ApiContext['directory']> => ctx.directory();
  const routes: Route[] = [
    { pattern: /^\/root\/config\/$/, allowAnonymous: true, methods: { GET: (req) => json(200, rootConfigJson(dir(), req.generation)) } },
    {
      pattern: /^\/outposts\/instances\/$/,
      methods: { GET: (req) => outposts.listOutposts(req, ctx), POST: (req) => outposts.createOutpost(req, ctx) },
    },
    { pattern: /^\/outposts\/instances\/default_settings\/$/, methods: { GET: (req) => outposts.outpostDefaultSettings(req) } },
    {
      pattern: new RegExp(`^/outposts/instances/${SEG}/$`),
      methods: {
        GET: (req, [uuid]) => outposts.retrieveOutpost(req, ctx, uuid ?? ''),
        PUT: (req, [uuid]) => outposts.updateOutpost(req, ctx, uuid ?? '', false),
        PATCH: (req, [uuid]) => outposts.updateOutpost(req, ctx, uuid ?? '', true),
        DELETE: (req, [uuid]) => outposts.deleteOutpost(req, ctx, uuid ?? ''),
      },
    },
    { pattern: new RegExp(`^/outposts/instances/${SEG}/health/$`), methods: { GET: (req, [uuid]) => outposts.outpostHealth(req, ctx, uuid ?? '') } },
    { pattern: /^\/outposts\/ldap\/$/, methods: { GET: (req) => outposts.listLdapProviders(req, ctx) } },
    {
      pattern: new RegExp(`^/outposts/ldap/${SEG}/check_access/$`),
      generations: ['2026.2'],
      methods: { GET: (req, [id]) => outposts.ldapCheckAccess(req, ctx, id ?? '') },
    },
    { pattern: /^\/outposts\/radius\/$/, methods: { GET: (req) => outposts.listRadiusProviders(req, ctx) } },
    {
      pattern: new RegExp(`^/outposts/radius/${SEG}/check_access/$`),
      generations: ['2026.2'],
      methods: { GET: (req, [id]) => outposts.radiusCheckAccess(req, ctx, id ?? '') },
    },
    { pattern: /^\/core\/users\/$/, methods: { GET: (req) => directoryRoutes.listUsers(req, dir()) } },
    { pattern: /^\/core\/users\/me\/$/, methods: { GET: (req) => directoryRoutes.me(req, dir()) } },
    { pattern: new RegExp(`^/core/users/${SEG}/$`), methods: { GET: (req, [id]) => directoryRoutes.retrieveUser(req, dir(), id ?? '') } },
    { pattern: /^\/core\/groups\/$/, methods: { GET: (req) => directoryRoutes.listGroups(req, dir()) } },
    { pattern: new RegExp(`^/core/groups/${SEG}/$`), methods: { GET: (req, [uuid]) => directoryRoutes.retrieveGroup(req, dir(), uuid ?? '') } },
    {
      pattern: new RegExp(`^/core/applications/${SEG}/check_access/$`),
      methods: { GET: (req, [slug]) => outposts.applicationCheckAccess(req, ctx, slug ?? '') },
    },
    { pattern: new RegExp(`^/flows/executor/${SEG}/$`), allowAnonymous: true, methods: { GET: options.executor, POST: options.executor } },
    {
      pattern: new RegExp(`^/crypto/certificatekeypairs/${SEG}/$`),
      methods: { GET: (req, [uuid]) => certificateRoute(req, dir(), uuid ?? '', 'retrieve') },
    },
    {
      pattern: new RegExp(`^/crypto/certificatekeypairs/${SEG}/view_certificate/$`),
      methods: { GET: (req, [uuid]) => certificateRoute(req, dir(), uuid ?? '', 'certificate') },
    },
    {
      pattern: new RegExp(`^/crypto/certificatekeypairs/${SEG}/view_private_key/$`),
      methods: { GET: (req, [uuid]) => certificateRoute(req, dir(), uuid ?? '', 'private_key') },
    },
    { pattern: new RegExp(`^/core/tokens/${SEG}/view_key/$`), methods: { GET: (req, [id]) => admin.viewTokenKey(req, ctx, id ?? '') } },
    {
      pattern: new RegExp(`^/core/authenticated_sessions/${SEG}/$`),
      methods: { DELETE: (req, [uuid]) => admin.deleteAuthenticatedSession(req, ctx, uuid ?? '') },
    },
    { pattern: /^\/ak-embedded\/reload\/$/, methods: { POST: (req) => admin.reloadDirectory(req, ctx) } },
    { pattern: /^\/ak-embedded\/end-sessions\/$/, methods: { POST: (req) => admin.endSessionsOfUser(req, ctx) } },
    { pattern: /^\/ak-embedded\/outposts\/connected\/$/, methods: { GET: (req) => admin.connectedOutposts(req, ctx) } },
    { pattern: /^\/ak-embedded\/sessions\/$/, methods: { GET: (req) => admin.listSessions(req, ctx) } },
  ];

  return async (req) => {
    for (const route of routes) {
      const match = route.pattern.exec(req.path);
      if (!match) continue;
      if (route.generations && !route.generations.includes(req.generation)) return routeNotFound();
      const p = req.principal;
      if (p.kind === 'invalid') return detail(403, p.detail);
      if (p.kind === 'anonymous' && !route.allowAnonymous) return detail(403, NOT_AUTHENTICATED);
      const method = req.method === 'HEAD' ? 'GET' : req.method;
      const handler = route.methods[method];
      if (!handler) return methodNotAllowed(req.method);
      return handler(req, match.slice(1));
    }
    return routeNotFound();
  };
}
