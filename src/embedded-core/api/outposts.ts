/**
 * /outposts/…: instances (list/CRUD/health/default_settings), the LDAP and RADIUS provider configs an outpost
 * reads, and the post-flow check_access endpoints (2024.8+ paths, so 2026.2 only).
 *
 * Visibility: the admin sees every outpost; an outpost token only its own (others answer 404, like authentik's
 * object permissions); writes need the admin (403 otherwise, as DRF's model permissions answer before lookup).
 * Outpost changes push TRIGGER_UPDATE to that outpost's connected instances.
 */
import { randomUUID } from 'node:crypto';
import type { CoreLdapProvider, CoreOutpost, CoreProvider, CoreRadiusProvider, CoreUser, Directory, Generation } from '../model.js';
import type { ApiContext } from './context.js';
import type { ApiRequest, ApiResponse } from './http.js';
import { canonicalUuid, json, noContent, objectNotFound, permissionDenied, queryBoolean, validationError } from './http.js';
import { directoryIndex } from './indexes.js';
import { validateOutpostWrite } from './outpost-validation.js';
import { isPage, paginate } from './pagination.js';
import { applicationAccess, ldapSearchPermission } from './policy.js';
import { RadiusAttributeError, radiusAttributesFor } from './radius-attributes.js';
import {
  defaultOutpostConfig,
  ldapOutpostConfigJson,
  outpostJson,
  policyTestResultJson,
  radiusOutpostConfigJson,
} from './serialize.js';
import type { InstanceState } from '../ws.js';

function visibleOutposts(req: ApiRequest, directory: Directory): CoreOutpost[] {
  const p = req.principal;
  if (p.kind === 'admin') return [...directory.outposts.values()];
  if (p.kind === 'outpost') {
    const self = directory.outposts.get(p.outpost.uuid);
    return self ? [self] : [];
  }
  return [];
}

function findVisibleOutpost(req: ApiRequest, directory: Directory, uuid: string): CoreOutpost | undefined {
  const key = canonicalUuid(uuid);
  return key === null ? undefined : visibleOutposts(req, directory).find((o) => o.uuid === key);
}

function byName<T extends { name: string }>(a: T, b: T): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export function listOutposts(req: ApiRequest, ctx: ApiContext): ApiResponse {
  const directory = ctx.directory();
  const q = req.query;
  let outposts = visibleOutposts(req, directory).sort(byName);
  const providerPks = q.getAll('providers_by_pk');
  for (const raw of providerPks) {
    if (!/^\d+$/.test(raw)) return validationError({ providers_by_pk: [`“${raw}” is not a valid value.`] });
    if (!directory.providers.has(Number(raw))) {
      return validationError({ providers_by_pk: [`Select a valid choice. ${raw} is not one of the available choices.`] });
    }
  }
  if (providerPks.length > 0) outposts = outposts.filter((o) => o.providers.some((pk) => providerPks.includes(String(pk))));
  const nameExact = q.get('name__iexact');
  if (nameExact !== null) outposts = outposts.filter((o) => o.name.toLowerCase() === nameExact.toLowerCase());
  const nameContains = q.get('name__icontains');
  if (nameContains !== null) outposts = outposts.filter((o) => o.name.toLowerCase().includes(nameContains.toLowerCase()));
  const managedExact = q.get('managed__iexact');
  if (managedExact !== null) outposts = outposts.filter((o) => (o.managed ?? '').toLowerCase() === managedExact.toLowerCase());
  const managedContains = q.get('managed__icontains');
  if (managedContains !== null) outposts = outposts.filter((o) => (o.managed ?? '').toLowerCase().includes(managedContains.toLowerCase()));
  const providersNull = queryBoolean(q, 'providers__isnull');
  if (providersNull !== undefined) outposts = outposts.filter((o) => (o.providers.length === 0) === providersNull);
  const search = q.get('search');
  if (search !== null && search !== '') {
    const needle = search.toLowerCase();
    outposts = outposts.filter(
      (o) =>
        o.name.toLowerCase().includes(needle) ||
        o.providers.some((pk) => directory.providers.get(pk)?.name.toLowerCase().includes(needle) === true),
    );
  }
  const page = paginate(outposts, q, req.generation);
  if (!isPage(page)) return page;
  return json(200, page.envelope(page.items.map((o) => outpostJson(directory, o, req.generation))));
}

export function retrieveOutpost(req: ApiRequest, ctx: ApiContext, uuid: string): ApiResponse {
  const directory = ctx.directory();
  const outpost = findVisibleOutpost(req, directory, uuid);
  if (!outpost) return objectNotFound(req.generation, 'Outpost');
  return json(200, outpostJson(directory, outpost, req.generation));
}

export function createOutpost(req: ApiRequest, ctx: ApiContext): ApiResponse {
  if (req.principal.kind !== 'admin') return permissionDenied();
  const directory = ctx.directory();
  const result = validateOutpostWrite(req.body, { directory, generation: req.generation, partial: false });
  if ('errors' in result) return validationError(result.errors);
  const v = result.value;
  const outpost: CoreOutpost = {
    uuid: randomUUID(),
    name: v.name ?? '',
    type: v.type ?? 'proxy',
    providers: v.providers ?? [],
    token: ctx.newToken(),
    config: v.config ?? {},
    managed: v.managed ?? null,
  };
  directory.putOutpost(outpost);
  ctx.logger.info({ outpost: outpost.uuid, name: outpost.name, type: outpost.type }, 'outpost created');
  return json(201, outpostJson(directory, outpost, req.generation));
}

export function updateOutpost(req: ApiRequest, ctx: ApiContext, uuid: string, partial: boolean): ApiResponse {
  if (req.principal.kind !== 'admin') return permissionDenied();
  const directory = ctx.directory();
  const existing = findVisibleOutpost(req, directory, uuid);
  if (!existing) return objectNotFound(req.generation, 'Outpost');
  const result = validateOutpostWrite(req.body, { directory, generation: req.generation, partial, existing });
  if ('errors' in result) return validationError(result.errors);
  const v = result.value;
  if (v.name !== undefined) existing.name = v.name;
  if (v.type !== undefined) existing.type = v.type;
  if (v.providers !== undefined) existing.providers = v.providers;
  if (v.config !== undefined) existing.config = v.config;
  if (v.managed !== undefined) existing.managed = v.managed;
  directory.putOutpost(existing);
  const notified = ctx.hub.triggerUpdate(existing.uuid);
  ctx.logger.info({ outpost: existing.uuid, notified }, 'outpost updated');
  return json(200, outpostJson(directory, existing, req.generation));
}

export function deleteOutpost(req: ApiRequest, ctx: ApiContext, uuid: string): ApiResponse {
  if (req.principal.kind !== 'admin') return permissionDenied();
  const directory = ctx.directory();
  const existing = findVisibleOutpost(req, directory, uuid);
  if (!existing) return objectNotFound(req.generation, 'Outpost');
  directory.removeOutpost(existing.uuid);
  ctx.hub.disconnectOutpost(existing.uuid);
  ctx.logger.info({ outpost: existing.uuid }, 'outpost deleted');
  return noContent();
}

/** Loose PEP 440 comparison: "2026.2" equals "2026.2.0"; pre-release suffixes compared as text. */
function sameVersion(a: string, b: string): boolean {
  const norm = (v: string): string => {
    const m = /^v?(\d+(?:\.\d+)*)(.*)$/i.exec(v.trim());
    if (!m || m[1] === undefined) return v.trim().toLowerCase();
    const release = m[1].split('.').map(Number);
    while (release.length > 1 && release[release.length - 1] === 0) release.pop();
    return `${release.join('.')}${(m[2] ?? '').toLowerCase().replace(/^[-_.]/, '')}`;
  };
  return norm(a) === norm(b);
}

function healthJson(state: InstanceState, generation: Generation, ctx: ApiContext): Record<string, unknown> {
  const versionShould = ctx.version();
  const outdated = state.version === null || state.version === '' ? false : state.buildHash !== ctx.buildHash ? false : !sameVersion(state.version, versionShould);
  const out: Record<string, unknown> = {
    uid: state.uid,
    last_seen: state.lastSeen.toDrf(),
    version: state.version ?? '',
  };
  if (generation === '2026.2') {
    out.golang_version = state.golangVersion;
    out.openssl_enabled = state.opensslEnabled;
    out.openssl_version = state.opensslVersion;
    // authentik reports FIPS only with a valid enterprise licence; the embedded core has none.
    out.fips_enabled = null;
  }
  out.version_should = versionShould;
  out.version_outdated = outdated;
  out.build_hash = state.buildHash;
  out.build_hash_should = ctx.buildHash;
  out.hostname = state.hostname;
  return out;
}

export function outpostHealth(req: ApiRequest, ctx: ApiContext, uuid: string): ApiResponse {
  const outpost = findVisibleOutpost(req, ctx.directory(), uuid);
  if (!outpost) return objectNotFound(req.generation, 'Outpost');
  return json(200, ctx.hub.health(outpost.uuid).map((s) => healthJson(s, req.generation, ctx)));
}

export function outpostDefaultSettings(req: ApiRequest): ApiResponse {
  const host = typeof req.headers.host === 'string' && /^[A-Za-z0-9.:[\]-]+$/.test(req.headers.host) ? req.headers.host : 'localhost';
  return json(200, { config: defaultOutpostConfig(req.generation, `http://${host}/`) });
}

/** Providers of `type` an outpost config list shows: attached to an application and visible to the caller. */
function visibleProviders<T extends CoreProvider['type']>(req: ApiRequest, directory: Directory, type: T): Extract<CoreProvider, { type: T }>[] {
  let pks: Set<number> | null = null;
  if (req.principal.kind === 'outpost') {
    const self = directory.outposts.get(req.principal.outpost.uuid);
    pks = new Set(self?.providers ?? []);
  } else if (req.principal.kind !== 'admin') {
    pks = new Set();
  }
  const out: Extract<CoreProvider, { type: T }>[] = [];
  for (const provider of directory.providers.values()) {
    if (provider.type !== type) continue;
    if (pks !== null && !pks.has(provider.pk)) continue;
    if (!directory.applicationOfProvider(provider.pk)) continue;
    out.push(provider as Extract<CoreProvider, { type: T }>);
  }
  return out.sort(byName);
}

function providerList(req: ApiRequest, ctx: ApiContext, type: 'ldap' | 'radius'): ApiResponse {
  const directory = ctx.directory();
  let providers: CoreProvider[] = visibleProviders(req, directory, type);
  const name = req.query.get('name');
  if (name !== null) providers = providers.filter((p) => p.name === name);
  const search = req.query.get('search');
  if (search !== null && search !== '') providers = providers.filter((p) => p.name.toLowerCase().includes(search.toLowerCase()));
  const page = paginate(providers, req.query, req.generation);
  if (!isPage(page)) return page;
  return json(
    200,
    page.envelope(
      page.items.map((p) =>
        p.type === 'ldap' ? ldapOutpostConfigJson(directory, p, req.generation) : radiusOutpostConfigJson(directory, p, req.generation),
      ),
    ),
  );
}

export function listLdapProviders(req: ApiRequest, ctx: ApiContext): ApiResponse {
  return providerList(req, ctx, 'ldap');
}

export function listRadiusProviders(req: ApiRequest, ctx: ApiContext): ApiResponse {
  return providerList(req, ctx, 'radius');
}

/** The user a check is evaluated for: the session's user; a bearer caller is a service account (no directory row). */
function checkedUser(req: ApiRequest): CoreUser | null {
  return req.principal.kind === 'session' ? req.principal.user : null;
}

function lookupCheck(
  req: ApiRequest,
  directory: Directory,
  id: string,
  type: 'ldap' | 'radius',
): { provider: CoreProvider; app: NonNullable<ReturnType<Directory['applicationOfProvider']>> } | ApiResponse {
  const provider = /^\d+$/.test(id) ? directory.providers.get(Number(id)) : undefined;
  if (!provider || provider.type !== type) return objectNotFound(req.generation, type === 'ldap' ? 'LDAPProvider' : 'RadiusProvider');
  const slug = req.query.get('app_slug');
  const app = slug !== null ? directoryIndex(directory).applicationBySlug.get(slug) : undefined;
  // authentik indexes query_params["app_slug"] (a 500 when absent); we answer the 404 of an unknown slug.
  if (!app) return objectNotFound(req.generation, 'Application');
  return { provider, app };
}

export function ldapCheckAccess(req: ApiRequest, ctx: ApiContext, id: string): ApiResponse {
  const directory = ctx.directory();
  const found = lookupCheck(req, directory, id, 'ldap');
  if ('status' in found) return found;
  const user = checkedUser(req);
  const passing = applicationAccess(directory, found.app, user);
  const hasSearch = req.principal.kind === 'admin' || ldapSearchPermission(directory, found.provider as CoreLdapProvider, user);
  return json(200, { has_search_permission: hasSearch, access: policyTestResultJson(passing) });
}

export function radiusCheckAccess(req: ApiRequest, ctx: ApiContext, id: string): ApiResponse {
  const directory = ctx.directory();
  const found = lookupCheck(req, directory, id, 'radius');
  if ('status' in found) return found;
  const user = checkedUser(req);
  const passing = applicationAccess(directory, found.app, user);
  let attributes: string | null = null;
  if (passing) {
    try {
      attributes = radiusAttributesFor(directory, found.provider as CoreRadiusProvider, user);
    } catch (err) {
      if (!(err instanceof RadiusAttributeError)) throw err;
      // authentik records a configuration_error event and answers without attributes.
      ctx.logger.warn({ provider: found.provider.pk, err: err.message }, 'radius property mapping failed');
    }
  }
  return json(200, { attributes, access: policyTestResultJson(passing) });
}

/** GET /core/applications/{slug}/check_access/ (the 2023.10 outposts' access check; PolicyTestResult). */
export function applicationCheckAccess(req: ApiRequest, ctx: ApiContext, slug: string): ApiResponse {
  const directory = ctx.directory();
  const app = directoryIndex(directory).applicationBySlug.get(slug);
  if (!app) return objectNotFound(req.generation, 'Application');
  let user = checkedUser(req);
  const forUser = req.query.get('for_user');
  if (req.principal.kind === 'admin' && forUser !== null) {
    const target = /^\d+$/.test(forUser) ? directory.users.get(Number(forUser)) : undefined;
    if (!target) return validationError({ for_user: ['User not found'] });
    user = target;
  }
  return json(200, policyTestResultJson(applicationAccess(directory, app, user)));
}

