/**
 * Model -> JSON, per API generation, exactly as authentik's serializers answer (field sets differ between
 * 2023.10 and 2026.2; check src/core-api/schema/<generation>.json). Pure functions of the directory snapshot.
 */
import { createHash } from 'node:crypto';
import type {
  CoreApplication,
  CoreCertificate,
  CoreGroup,
  CoreLdapProvider,
  CoreOutpost,
  CoreProvider,
  CoreRadiusProvider,
  CoreUser,
  Directory,
  Generation,
} from '../model.js';
import { Instant } from '../time.js';
import { directoryIndex } from './indexes.js';

export type JsonObject = Record<string, unknown>;

/** A stable UUID (v5-shaped) for objects the directory file does not name with one. */
export function stableUuid(namespace: string, name: string): string {
  const h = createHash('sha1').update(`${namespace}\0${name}`).digest();
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x50;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

const DEFAULT_AVATAR = '/static/dist/assets/images/user_default.png';

export function outpostTokenIdentifier(outpost: CoreOutpost): string {
  return `ak-outpost-${outpost.uuid}-api`;
}

/** authentik's timedelta_from_string ("hours=1;minutes=30") in seconds; null when unparsable. */
export function timedeltaSeconds(text: string): number | null {
  const units: Record<string, number> = {
    weeks: 604800,
    days: 86400,
    hours: 3600,
    minutes: 60,
    seconds: 1,
    milliseconds: 0.001,
    microseconds: 0.000001,
  };
  let total = 0;
  let any = false;
  for (const part of text.split(';')) {
    if (part.trim() === '') continue;
    const [key, value, extra] = part.split('=');
    const factor = units[(key ?? '').trim().toLowerCase()];
    const amount = Number((value ?? '').trim());
    if (factor === undefined || extra !== undefined || value === undefined || value.trim() === '' || !Number.isFinite(amount)) {
      return null;
    }
    total += amount * factor;
    any = true;
  }
  return any ? total : null;
}

/** refresh_interval_s: the outpost config's refresh_interval (default "minutes=5"), whole seconds. */
export function refreshIntervalSeconds(config: Record<string, unknown>): number {
  const raw = config.refresh_interval;
  const seconds = typeof raw === 'string' ? timedeltaSeconds(raw) : null;
  return seconds === null ? 300 : Math.trunc(seconds);
}

function isUserSuperuser(directory: Directory, user: CoreUser): boolean {
  if (user.isSuperuser) return true;
  for (const pk of directory.effectiveGroups(user.pk)) {
    if (directory.groups.get(pk)?.isSuperuser) return true;
  }
  return false;
}

function flowPk(directory: Directory, slug: string | null): string | null {
  if (slug === null) return null;
  return directoryIndex(directory).flowBySlug.get(slug)?.pk ?? null;
}

function providerMeta(provider: CoreProvider): { component: string; verbose: string; plural: string; model: string } {
  return provider.type === 'ldap'
    ? { component: 'ak-provider-ldap-form', verbose: 'LDAP Provider', plural: 'LDAP Providers', model: 'authentik_providers_ldap.ldapprovider' }
    : {
        component: 'ak-provider-radius-form',
        verbose: 'Radius Provider',
        plural: 'Radius Providers',
        model: 'authentik_providers_radius.radiusprovider',
      };
}

/** Provider (as in Outpost.providers_obj). */
export function providerJson(directory: Directory, provider: CoreProvider, generation: Generation): JsonObject {
  const app: CoreApplication | undefined = directory.applicationOfProvider(provider.pk);
  const meta = providerMeta(provider);
  const out: JsonObject = {
    pk: provider.pk,
    name: provider.name,
    authentication_flow: null,
    authorization_flow: flowPk(directory, provider.authorizationFlow),
  };
  if (generation === '2026.2') {
    out.invalidation_flow = flowPk(directory, provider.invalidationFlow ?? directory.settings.flowInvalidation);
  }
  out.property_mappings =
    provider.type === 'radius' ? provider.propertyMappings.map((m) => stableUuid(`radius-mapping/${provider.pk}`, m.name)) : [];
  out.component = meta.component;
  out.assigned_application_slug = app?.slug ?? null;
  out.assigned_application_name = app?.name ?? null;
  out.assigned_backchannel_application_slug = null;
  out.assigned_backchannel_application_name = null;
  out.verbose_name = meta.verbose;
  out.verbose_name_plural = meta.plural;
  out.meta_model_name = meta.model;
  return out;
}

export function outpostJson(directory: Directory, outpost: CoreOutpost, generation: Generation): JsonObject {
  const providersObj: JsonObject[] = [];
  for (const pk of outpost.providers) {
    const provider = directory.providers.get(pk);
    if (provider) providersObj.push(providerJson(directory, provider, generation));
  }
  const out: JsonObject = {
    pk: outpost.uuid,
    name: outpost.name,
    type: outpost.type,
    providers: [...outpost.providers],
    providers_obj: providersObj,
    service_connection: null,
    service_connection_obj: null,
  };
  if (generation === '2026.2') out.refresh_interval_s = refreshIntervalSeconds(outpost.config);
  out.token_identifier = outpostTokenIdentifier(outpost);
  out.config = outpost.config;
  out.managed = outpost.managed;
  return out;
}

export function ldapOutpostConfigJson(directory: Directory, provider: CoreLdapProvider, generation: Generation): JsonObject {
  const app = directory.applicationOfProvider(provider.pk);
  const out: JsonObject = {
    pk: provider.pk,
    name: provider.name,
    base_dn: provider.baseDn,
    bind_flow_slug: provider.authorizationFlow,
  };
  if (generation === '2026.2') out.unbind_flow_slug = provider.invalidationFlow ?? directory.settings.flowInvalidation ?? null;
  out.application_slug = app?.slug ?? '';
  if (generation === '2023.10') out.search_group = provider.searchGroup;
  out.certificate = provider.certificate;
  out.tls_server_name = provider.tlsServerName;
  out.uid_start_number = provider.uidStartNumber;
  out.gid_start_number = provider.gidStartNumber;
  out.search_mode = provider.searchMode;
  out.bind_mode = provider.bindMode;
  out.mfa_support = provider.mfaSupport;
  return out;
}

export function radiusOutpostConfigJson(directory: Directory, provider: CoreRadiusProvider, generation: Generation): JsonObject {
  const app = directory.applicationOfProvider(provider.pk);
  const out: JsonObject = {
    pk: provider.pk,
    name: provider.name,
    application_slug: app?.slug ?? '',
    auth_flow_slug: provider.authorizationFlow,
    client_networks: provider.clientNetworks,
    shared_secret: provider.sharedSecret,
    mfa_support: provider.mfaSupport,
  };
  if (generation === '2026.2') out.certificate = provider.certificate;
  return out;
}

function partialGroupJson(group: CoreGroup): JsonObject {
  return { pk: group.pk, num_pk: group.numPk, name: group.name, is_superuser: group.isSuperuser, attributes: group.attributes };
}

/** 2023.10's UserGroup: single parent; parent_name is absent without one (DRF skips the dotted source). */
function userGroupJson2023(directory: Directory, group: CoreGroup): JsonObject {
  const parentPk = group.parents[0] ?? null;
  const out: JsonObject = {
    pk: group.pk,
    num_pk: group.numPk,
    name: group.name,
    is_superuser: group.isSuperuser,
    parent: parentPk,
  };
  const parent = parentPk !== null ? directory.groups.get(parentPk) : undefined;
  if (parent) out.parent_name = parent.name;
  out.attributes = group.attributes;
  return out;
}

export function userJson(directory: Directory, user: CoreUser, generation: Generation, includeGroups: boolean): JsonObject {
  const groups = user.groups.filter((pk) => directory.groups.has(pk));
  if (generation === '2023.10') {
    return {
      pk: user.pk,
      username: user.username,
      name: user.name,
      is_active: user.isActive,
      last_login: null,
      is_superuser: isUserSuperuser(directory, user),
      groups,
      groups_obj: groups.map((pk) => userGroupJson2023(directory, directory.groups.get(pk) as CoreGroup)),
      email: user.email,
      avatar: DEFAULT_AVATAR,
      attributes: user.attributes,
      uid: user.uid,
      path: user.path,
      type: user.type,
      uuid: user.uuid,
    };
  }
  return {
    pk: user.pk,
    username: user.username,
    name: user.name,
    is_active: user.isActive,
    last_login: null,
    date_joined: user.dateJoined.toDrf(),
    is_superuser: isUserSuperuser(directory, user),
    groups,
    groups_obj: includeGroups ? groups.map((pk) => partialGroupJson(directory.groups.get(pk) as CoreGroup)) : null,
    roles: [],
    roles_obj: [],
    email: user.email,
    avatar: DEFAULT_AVATAR,
    attributes: user.attributes,
    uid: user.uid,
    path: user.path,
    type: user.type,
    uuid: user.uuid,
    password_change_date: user.passwordChangeDate.toDrf(),
    last_updated: user.lastUpdated.toDrf(),
  };
}

/** UserSelf, the `user` of /core/users/me/. */
export function userSelfJson(directory: Directory, user: CoreUser, generation: Generation): JsonObject {
  const groups = user.groups
    .map((pk) => directory.groups.get(pk))
    .filter((g): g is CoreGroup => g !== undefined)
    .map((g) => ({ name: g.name, pk: g.pk }));
  const out: JsonObject = {
    pk: user.pk,
    username: user.username,
    name: user.name,
    is_active: user.isActive,
    is_superuser: isUserSuperuser(directory, user),
    groups,
  };
  if (generation === '2026.2') out.roles = [];
  out.email = user.email;
  out.avatar = DEFAULT_AVATAR;
  out.uid = user.uid;
  out.settings = {};
  out.type = user.type;
  out.system_permissions =
    generation === '2026.2' && user.searchFullDirectory ? ['authentik_providers_ldap.search_full_directory'] : [];
  return out;
}

function partialUserJson(user: CoreUser): JsonObject {
  return {
    pk: user.pk,
    username: user.username,
    name: user.name,
    is_active: user.isActive,
    last_login: null,
    email: user.email,
    attributes: user.attributes,
    uid: user.uid,
  };
}

function relatedGroupJson(group: CoreGroup): JsonObject {
  return { pk: group.pk, name: group.name, is_superuser: group.isSuperuser, attributes: group.attributes, group_uuid: group.pk };
}

export interface GroupIncludes {
  users: boolean;
  children: boolean;
  parents: boolean;
  inheritedRoles: boolean;
}

export function groupJson(directory: Directory, group: CoreGroup, generation: Generation, includes: GroupIncludes): JsonObject {
  const withUsers = generation === '2023.10' || includes.users;
  const usersObj = withUsers ? memberUsers(directory, directory.groupUsers(group.pk)).map(partialUserJson) : null;
  return groupObject(directory, group, generation, includes, usersObj);
}

const partialUserTexts = new WeakMap<CoreUser, string>();

function partialUserText(user: CoreUser): string {
  let text = partialUserTexts.get(user);
  if (text === undefined) {
    text = JSON.stringify(partialUserJson(user));
    partialUserTexts.set(user, text);
  }
  return text;
}

/**
 * groupJson as JSON text. Big groups repeat the same member objects page after page, so each member's JSON is
 * built once per directory load and spliced in (same bytes as JSON.stringify(groupJson(…))).
 */
export function groupJsonText(directory: Directory, group: CoreGroup, generation: Generation, includes: GroupIncludes): string {
  const text = JSON.stringify(groupObject(directory, group, generation, includes, null));
  if (generation !== '2023.10' && !includes.users) return text;
  const members = memberUsers(directory, directory.groupUsers(group.pk)).map(partialUserText).join(',');
  // Keys are serialized with unescaped quotes only, so the first match is the users_obj key itself.
  return text.replace('"users_obj":null', `"users_obj":[${members}]`);
}

function groupObject(directory: Directory, group: CoreGroup, generation: Generation, includes: GroupIncludes, usersObj: JsonObject[] | null): JsonObject {
  const memberPks = directory.groupUsers(group.pk);
  if (generation === '2023.10') {
    const parentPk = group.parents[0] ?? null;
    const parent = parentPk !== null ? directory.groups.get(parentPk) : undefined;
    return {
      pk: group.pk,
      num_pk: group.numPk,
      name: group.name,
      is_superuser: group.isSuperuser,
      parent: parentPk,
      parent_name: parent?.name ?? null,
      users: [...memberPks],
      users_obj: usersObj,
      attributes: group.attributes,
      roles: [],
      roles_obj: [],
    };
  }
  const children = directory.groupChildren(group.pk);
  return {
    pk: group.pk,
    num_pk: group.numPk,
    name: group.name,
    is_superuser: group.isSuperuser,
    parents: [...group.parents],
    parents_obj: includes.parents
      ? group.parents.map((pk) => directory.groups.get(pk)).filter((g): g is CoreGroup => g !== undefined).map(relatedGroupJson)
      : null,
    users: [...memberPks],
    users_obj: usersObj,
    attributes: group.attributes,
    roles: [],
    roles_obj: [],
    inherited_roles_obj: includes.inheritedRoles ? [] : null,
    children: [...children],
    children_obj: includes.children
      ? children.map((pk) => directory.groups.get(pk)).filter((g): g is CoreGroup => g !== undefined).map(relatedGroupJson)
      : null,
  };
}

function memberUsers(directory: Directory, pks: readonly number[]): CoreUser[] {
  const out: CoreUser[] = [];
  for (const pk of pks) {
    const user = directory.users.get(pk);
    if (user) out.push(user);
  }
  return out;
}

/** keyAlgorithm: the certificate's public key type as authentik names it (rsa, ec, ed25519, …) or null. */
export function certificateKeyPairJson(cert: CoreCertificate, generation: Generation, keyAlgorithm: string | null): JsonObject {
  const base = `/api/v3/crypto/certificatekeypairs/${cert.uuid}`;
  const out: JsonObject = {
    pk: cert.uuid,
    name: cert.name,
    fingerprint_sha256: cert.fingerprintSha256,
    fingerprint_sha1: cert.fingerprintSha1,
    cert_expiry: Instant.fromDate(cert.notAfter).toDrf(),
    cert_subject: cert.subject,
    private_key_available: cert.privateKeyPem !== '',
  };
  if (generation === '2023.10') out.private_key_type = cert.privateKeyPem !== '' ? keyAlgorithm : null;
  else out.key_type = keyAlgorithm;
  out.certificate_download_url = `${base}/view_certificate/?download`;
  out.private_key_download_url = `${base}/view_private_key/?download`;
  out.managed = null;
  return out;
}

export function rootConfigJson(directory: Directory, generation: Generation): JsonObject {
  const out: JsonObject = {
    error_reporting: { enabled: false, sentry_dsn: '', environment: '', send_pii: false, traces_sample_rate: 0 },
    capabilities: [],
    cache_timeout: 300,
    cache_timeout_flows: directory.settings.cacheTimeoutFlows,
    cache_timeout_policies: 300,
  };
  if (generation === '2023.10') out.cache_timeout_reputation = 300;
  return out;
}

export function policyTestResultJson(passing: boolean): JsonObject {
  return { passing, messages: [], log_messages: [] };
}

/** authentik's OutpostConfig defaults for the generation (what default_settings returns). */
export function defaultOutpostConfig(generation: Generation, host: string): JsonObject {
  const common: JsonObject = {
    authentik_host: host,
    authentik_host_insecure: false,
    authentik_host_browser: '',
    log_level: 'info',
    object_naming_template: 'ak-outpost-%(name)s',
  };
  if (generation === '2026.2') common.refresh_interval = 'minutes=5';
  return {
    ...common,
    container_image: null,
    docker_network: null,
    docker_map_ports: true,
    docker_labels: null,
    kubernetes_replicas: 1,
    kubernetes_namespace: 'default',
    kubernetes_ingress_annotations: {},
    kubernetes_ingress_secret_name: 'authentik-outpost-tls',
    kubernetes_ingress_class_name: null,
    ...(generation === '2026.2' ? { kubernetes_ingress_path_type: null, kubernetes_httproute_annotations: {}, kubernetes_httproute_parent_refs: [] } : {}),
    kubernetes_service_type: 'ClusterIP',
    kubernetes_disabled_components: [],
    kubernetes_image_pull_secrets: [],
    kubernetes_json_patches: null,
  };
}
