/**
 * What the schema cannot check, because it needs more than one object: names that refer to other objects,
 * duplicates, implicit pks, and state carried over from the directory being replaced. Turns the validated file
 * (types.ts) into the model's records (model.ts); every error names the path of the offending value.
 *
 * References inside the model: flows are referred to by slug, certificates by UUID, groups by pk (UUID),
 * users and providers by integer pk, applications are keyed by slug.
 */
import type {
  CoreApplication,
  CoreFlow,
  CoreGroup,
  CoreLdapProvider,
  CoreOutpost,
  CorePolicies,
  CorePolicyBinding,
  CoreProvider,
  CoreRadiusProvider,
  CoreStage,
  CoreUser,
  Directory,
  DuoDevice,
  StaticDevice,
  TotpDevice,
} from '../model.js';
import type { Instant } from '../time.js';
import type { LoadedCertificates } from './certificates.js';
import { builtinFlows, DEFAULT_OUTPOST_CONFIG, defaultStageName } from './defaults.js';
import { groupNumPk, nameUuid, userUid } from './ids.js';
import type { SecretResolver } from './secrets.js';
import type { EmbeddedDirectory } from './store.js';
import { base32Decode } from './totp.js';
import type {
  ApplicationParsed,
  FlowParsed,
  GroupParsed,
  LdapProviderParsed,
  OutpostParsed,
  PolicyBindingParsed,
  ProviderParsed,
  RadiusProviderParsed,
  StageParsed,
  UserParsed,
} from './types.js';
import { child, fail, FirstSeen, item } from './validate.js';

/** Looks up each name of a list; a missing one fails at its index. */
function resolveAll<T>(names: readonly string[], path: string, lookup: ReadonlyMap<string, T>, what: string): T[] {
  return names.map((name, j) => {
    const found = lookup.get(name);
    if (found === undefined) fail(item(path, j), `no ${what} ${JSON.stringify(name)}`);
    return found;
  });
}

/** Pks in file order, skipping the explicit ones; explicit duplicates fail. */
function assignPks(entries: ReadonlyArray<{ pk?: number | undefined }>, section: string, what: string): number[] {
  const explicit = new FirstSeen<number>(what, 'pk', false);
  entries.forEach((entry, i) => {
    if (entry.pk !== undefined) explicit.claim(entry.pk, item(section, i));
  });
  let next = 1;
  return entries.map((entry) => {
    if (entry.pk !== undefined) return entry.pk;
    while (explicit.has(next)) next++;
    return next++;
  });
}

// ---------------------------------------------------------------------------------------------------------------
// groups

export interface ResolvedGroups {
  list: CoreGroup[];
  byName: Map<string, CoreGroup>;
}

export function resolveGroups(entries: readonly GroupParsed[]): ResolvedGroups {
  const names = new FirstSeen<string>('group name', 'name');
  const pks = new FirstSeen<string>('group pk', 'pk', false);
  const list = entries.map((spec, i): CoreGroup => {
    const path = item('groups', i);
    names.claim(spec.name, path);
    const pk = spec.pk ?? nameUuid('group', spec.name);
    pks.claim(pk, path);
    return {
      pk,
      numPk: groupNumPk(pk),
      name: spec.name,
      isSuperuser: spec.is_superuser,
      parents: [],
      attributes: spec.attributes,
      searchFullDirectory: spec.search_full_directory,
    };
  });
  const byName = new Map(list.map((g) => [g.name, g]));
  // Parents may be declared after their children; cycles are allowed (effective membership is cycle-safe).
  entries.forEach((spec, i) => {
    list[i]!.parents = resolveAll(spec.parents, child(item('groups', i), 'parents'), byName, 'group named').map((g) => g.pk);
  });
  return { list, byName };
}

// ---------------------------------------------------------------------------------------------------------------
// users

export interface ResolvedUsers {
  /** Sorted by pk. */
  list: CoreUser[];
  byName: Map<string, CoreUser>;
  staticTokenSource: Map<number, readonly string[]>;
}

export interface UserContext {
  groups: ReadonlyMap<string, CoreGroup>;
  installId: string;
  /** Load time: the default of every user date. */
  now: Instant;
  /** The directory being replaced: device state and dates of unchanged users carry over. */
  previous: Directory | undefined;
  prevEmbedded: EmbeddedDirectory | undefined;
}

export function resolveUsers(entries: readonly UserParsed[], ctx: UserContext): ResolvedUsers {
  const usernames = new FirstSeen<string>('username', 'username');
  entries.forEach((spec, i) => usernames.claim(spec.username, item('users', i)));
  const pks = assignPks(entries, 'users', 'user pk');
  const counters = { totp: 1, static: 1, duo: 1 };
  const staticTokenSource = new Map<number, readonly string[]>();
  const list = entries.map((spec, i): CoreUser => {
    const path = item('users', i);
    const pk = pks[i]!;
    const prevUser = ctx.previous?.users.get(pk);
    const sameUser = prevUser !== undefined && prevUser.username === spec.username ? prevUser : undefined;
    const passwordHash = spec.password === undefined || spec.password.startsWith('!') ? null : spec.password;

    const totp = spec.totp.map((dev): TotpDevice => {
      const secret = base32Decode(dev.secret);
      const prevDevice = sameUser?.totp.find((d) => d.secret.equals(secret));
      // Keep the replay guard across reloads.
      return { pk: counters.totp++, name: dev.name, secret, digits: dev.digits, lastUsedStep: prevDevice?.lastUsedStep ?? -1, lastUsed: prevDevice?.lastUsed ?? null };
    });

    const staticTokens: StaticDevice[] = [];
    if (spec.static_tokens.length > 0) {
      // A token used before a reload stays used: consumed = listed last time but no longer remaining.
      const consumed = new Set<string>();
      const prevSource = sameUser !== undefined ? ctx.prevEmbedded?.staticTokenSource.get(pk) : undefined;
      if (prevSource !== undefined && sameUser !== undefined) {
        const remaining = new Set(sameUser.staticTokens.flatMap((d) => [...d.tokens]));
        for (const token of prevSource) if (!remaining.has(token)) consumed.add(token);
      }
      staticTokens.push({
        pk: counters.static++,
        name: 'Static Token',
        tokens: new Set(spec.static_tokens.filter((t) => !consumed.has(t))),
        lastUsed: sameUser?.staticTokens[0]?.lastUsed ?? null,
      });
      staticTokenSource.set(pk, spec.static_tokens);
    }

    const duo = spec.duo.map(
      (dev): DuoDevice => ({ pk: counters.duo++, name: dev.name, autoApprove: dev.auto_approve, lastUsed: sameUser?.duo.find((d) => d.name === dev.name)?.lastUsed ?? null }),
    );

    return {
      pk,
      uuid: nameUuid('user', spec.username),
      uid: userUid(pk, ctx.installId),
      username: spec.username,
      name: spec.name ?? spec.username,
      email: spec.email,
      passwordHash,
      passwordChangeDate:
        spec.password_change_date ?? (sameUser !== undefined && sameUser.passwordHash === passwordHash ? sameUser.passwordChangeDate : ctx.now),
      dateJoined: spec.date_joined ?? sameUser?.dateJoined ?? ctx.now,
      lastUpdated: spec.last_updated ?? sameUser?.lastUpdated ?? ctx.now,
      isActive: spec.is_active,
      isSuperuser: spec.is_superuser,
      type: spec.type,
      path: spec.path,
      attributes: spec.attributes,
      groups: resolveAll(spec.groups, child(path, 'groups'), ctx.groups, 'group named').map((g) => g.pk),
      totp,
      staticTokens,
      duo,
      searchFullDirectory: spec.search_full_directory,
    };
  });
  const byName = new Map(list.map((u) => [u.username, u]));
  list.sort((a, b) => a.pk - b.pk);
  return { list, byName, staticTokenSource };
}

// ---------------------------------------------------------------------------------------------------------------
// flows

export interface FlowContext {
  groups: ReadonlyMap<string, CoreGroup>;
  users: ReadonlyMap<string, CoreUser>;
}

/** The file's flows by slug, plus the built-in flows it does not replace. */
export function resolveFlows(entries: readonly FlowParsed[], ctx: FlowContext): Map<string, CoreFlow> {
  const slugs = new FirstSeen<string>('flow slug', 'slug');
  const flows = new Map<string, CoreFlow>();
  entries.forEach((spec, i) => {
    const path = item('flows', i);
    slugs.claim(spec.slug, path);
    const name = spec.name ?? spec.slug;
    flows.set(spec.slug, {
      pk: nameUuid('flow', spec.slug),
      slug: spec.slug,
      name,
      title: spec.title ?? name,
      designation: spec.designation,
      authentication: spec.authentication,
      policies: resolvePolicies(spec.policy_engine_mode, spec.policy_bindings, path, ctx),
      stages: spec.stages.map((stage, j) => resolveStage(stage, spec.slug, item(child(path, 'stages'), j), ctx)),
    });
  });
  for (const builtin of builtinFlows()) if (!flows.has(builtin.slug)) flows.set(builtin.slug, builtin);
  return flows;
}

function resolveStage(stage: StageParsed, flowSlug: string, path: string, ctx: FlowContext): CoreStage {
  const { evaluate_on_plan, re_evaluate_policies, policy_engine_mode, policy_bindings, ...rest } = stage;
  return {
    ...rest,
    name: stage.name ?? defaultStageName(flowSlug, stage.kind),
    binding: {
      evaluateOnPlan: evaluate_on_plan,
      reEvaluatePolicies: re_evaluate_policies,
      policies: resolvePolicies(policy_engine_mode, policy_bindings, path, ctx),
    },
  };
}

/** Enabled bindings with their group or user resolved, by order (the position when not given; ties keep it). */
function resolvePolicies(mode: CorePolicies['mode'], bindings: readonly PolicyBindingParsed[], path: string, ctx: FlowContext): CorePolicies {
  const resolved: CorePolicyBinding[] = [];
  bindings.forEach((binding, j) => {
    const p = item(child(path, 'policy_bindings'), j);
    const common = { negate: binding.negate, order: binding.order ?? j };
    let target: CorePolicyBinding;
    if (binding.group !== undefined) {
      const group = ctx.groups.get(binding.group);
      if (group === undefined) fail(child(p, 'group'), `no group named ${JSON.stringify(binding.group)}`);
      target = { ...common, group: group.pk };
    } else {
      const user = ctx.users.get(binding.user ?? '');
      if (user === undefined) fail(child(p, 'user'), `no user named ${JSON.stringify(binding.user)}`);
      target = { ...common, user: user.pk };
    }
    if (binding.enabled) resolved.push(target);
  });
  return { mode, bindings: resolved.sort((a, b) => a.order - b.order) };
}

// ---------------------------------------------------------------------------------------------------------------
// providers

export interface ProviderContext {
  flows: ReadonlyMap<string, CoreFlow>;
  certificates: LoadedCertificates;
  users: ReadonlyMap<string, CoreUser>;
  groups: ReadonlyMap<string, CoreGroup>;
  flowInvalidation: string | null;
  secrets: SecretResolver;
}

export interface ResolvedProviders {
  list: CoreProvider[];
  byName: Map<string, CoreProvider>;
  byPk: Map<number, CoreProvider>;
}

type ProviderCommonResolved = Pick<CoreLdapProvider, 'pk' | 'name' | 'authorizationFlow' | 'invalidationFlow' | 'certificate' | 'mfaSupport'>;

export async function resolveProviders(entries: readonly ProviderParsed[], ctx: ProviderContext): Promise<ResolvedProviders> {
  const names = new FirstSeen<string>('provider name', 'name');
  const pks = assignPks(entries, 'providers', 'provider pk');
  const list: CoreProvider[] = [];
  for (const [i, spec] of entries.entries()) {
    const path = item('providers', i);
    names.claim(spec.name, path);
    const flowRef = (key: string, slug: string): string => {
      if (!ctx.flows.has(slug)) fail(child(path, key), `no flow with slug ${JSON.stringify(slug)}`);
      return slug;
    };
    let certificate: string | null = null;
    if (spec.certificate !== null) {
      const cert = ctx.certificates.byName.get(spec.certificate);
      if (cert === undefined) fail(child(path, 'certificate'), `no certificate named ${JSON.stringify(spec.certificate)}`);
      certificate = cert.uuid;
    }
    const common: ProviderCommonResolved = {
      pk: pks[i]!,
      name: spec.name,
      authorizationFlow: flowRef('authorization_flow', spec.authorization_flow),
      invalidationFlow:
        spec.invalidation_flow === undefined ? ctx.flowInvalidation : spec.invalidation_flow === null ? null : flowRef('invalidation_flow', spec.invalidation_flow),
      certificate,
      mfaSupport: spec.mfa_support,
    };
    list.push(spec.type === 'ldap' ? ldapProvider(spec, path, common, ctx) : await radiusProvider(spec, path, common, ctx));
  }
  return { list, byName: new Map(list.map((p) => [p.name, p])), byPk: new Map(list.map((p) => [p.pk, p])) };
}

function ldapProvider(spec: LdapProviderParsed, path: string, common: ProviderCommonResolved, ctx: ProviderContext): CoreLdapProvider {
  let searchGroup: string | null = null;
  if (spec.search_group !== null) {
    const group = ctx.groups.get(spec.search_group);
    if (group === undefined) fail(child(path, 'search_group'), `no group named ${JSON.stringify(spec.search_group)}`);
    searchGroup = group.pk;
  }
  const sfdPath = child(path, 'search_full_directory');
  return {
    ...common,
    type: 'ldap',
    baseDn: spec.base_dn,
    tlsServerName: spec.tls_server_name,
    uidStartNumber: spec.uid_start_number,
    gidStartNumber: spec.gid_start_number,
    searchMode: spec.search_mode,
    bindMode: spec.bind_mode,
    searchGroup,
    searchFullDirectoryUsers: resolveAll(spec.search_full_directory.users, child(sfdPath, 'users'), ctx.users, 'user named').map((u) => u.pk),
    searchFullDirectoryGroups: resolveAll(spec.search_full_directory.groups, child(sfdPath, 'groups'), ctx.groups, 'group named').map((g) => g.pk),
  };
}

async function radiusProvider(spec: RadiusProviderParsed, path: string, common: ProviderCommonResolved, ctx: ProviderContext): Promise<CoreRadiusProvider> {
  spec.property_mappings.forEach((mapping, j) => {
    resolveAll(mapping.groups ?? [], child(item(child(path, 'property_mappings'), j), 'groups'), ctx.groups, 'group named');
  });
  return {
    ...common,
    type: 'radius',
    sharedSecret: await ctx.secrets.resolve(spec.shared_secret, child(path, 'shared_secret')),
    clientNetworks: spec.client_networks,
    propertyMappings: spec.property_mappings,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// applications

export function resolveApplications(
  entries: readonly ApplicationParsed[],
  providers: ReadonlyMap<string, CoreProvider>,
  groups: ReadonlyMap<string, CoreGroup>,
  users: ReadonlyMap<string, CoreUser>,
): CoreApplication[] {
  const slugs = new FirstSeen<string>('application slug', 'slug');
  const pathByProvider = new Map<number, string>();
  return entries.map((spec, i): CoreApplication => {
    const path = item('applications', i);
    slugs.claim(spec.slug, path);
    let providerPk: number | null = null;
    if (spec.provider !== undefined) {
      const provider = providers.get(spec.provider);
      if (provider === undefined) fail(child(path, 'provider'), `no provider named ${JSON.stringify(spec.provider)}`);
      // authentik: one application per provider.
      const other = pathByProvider.get(provider.pk);
      if (other !== undefined) fail(child(path, 'provider'), `provider ${JSON.stringify(spec.provider)} already belongs to ${other}`);
      pathByProvider.set(provider.pk, path);
      providerPk = provider.pk;
    }
    return {
      pk: nameUuid('application', spec.slug),
      slug: spec.slug,
      name: spec.name ?? spec.slug,
      providerPk,
      allowedGroups: resolveAll(spec.allowed_groups, child(path, 'allowed_groups'), groups, 'group named').map((g) => g.pk),
      allowedUsers: resolveAll(spec.allowed_users, child(path, 'allowed_users'), users, 'user named').map((u) => u.pk),
    };
  });
}

// ---------------------------------------------------------------------------------------------------------------
// outposts

export async function resolveOutposts(
  entries: readonly OutpostParsed[],
  providers: ReadonlyMap<string, CoreProvider>,
  secrets: SecretResolver,
): Promise<CoreOutpost[]> {
  const names = new FirstSeen<string>('outpost name', 'name');
  const uuids = new FirstSeen<string>('outpost uuid', 'uuid', false);
  const pathByToken = new Map<string, string>();
  const list: CoreOutpost[] = [];
  for (const [i, spec] of entries.entries()) {
    const path = item('outposts', i);
    names.claim(spec.name, path);
    const uuid = spec.uuid ?? nameUuid('outpost', spec.name);
    uuids.claim(uuid, path);
    const providerPks = spec.providers.map((providerName, j) => {
      const provider = providers.get(providerName);
      const p = item(child(path, 'providers'), j);
      if (provider === undefined) fail(p, `no provider named ${JSON.stringify(providerName)}`);
      if (provider.type !== spec.type) fail(p, `provider ${JSON.stringify(providerName)} is a ${provider.type} provider, not ${spec.type}`);
      return provider.pk;
    });
    const token = await secrets.resolve(spec.token, child(path, 'token'));
    // The token identifies the outpost: two outposts must not share one (the message never shows the token).
    const tokenOwner = pathByToken.get(token);
    if (tokenOwner !== undefined) fail(child(path, 'token'), `same token as ${tokenOwner}`);
    pathByToken.set(token, path);
    list.push({
      uuid,
      name: spec.name,
      type: spec.type,
      providers: providerPks,
      token,
      config: { ...DEFAULT_OUTPOST_CONFIG, ...spec.config },
      managed: spec.managed,
    });
  }
  return list;
}

/**
 * Outposts created through the admin API survive a reload. With a previous EmbeddedDirectory the origin is known;
 * otherwise every previous outpost that the file does not define is kept. The file wins on a name/uuid clash,
 * and provider pks that no longer exist (or changed type) are dropped.
 */
export function keptAdminOutposts(
  previous: Directory,
  prevEmbedded: EmbeddedDirectory | undefined,
  fileOutposts: readonly CoreOutpost[],
  providers: ReadonlyMap<number, CoreProvider>,
): CoreOutpost[] {
  const names = new Set(fileOutposts.map((o) => o.name));
  const uuids = new Set(fileOutposts.map((o) => o.uuid));
  const tokens = new Set(fileOutposts.map((o) => o.token));
  const kept: CoreOutpost[] = [];
  for (const outpost of previous.outposts.values()) {
    if (prevEmbedded?.fileOutpostUuids.has(outpost.uuid) === true) continue;
    if (names.has(outpost.name) || uuids.has(outpost.uuid) || tokens.has(outpost.token)) continue;
    kept.push({ ...outpost, providers: outpost.providers.filter((pk) => providers.get(pk)?.type === outpost.type) });
  }
  return kept;
}
