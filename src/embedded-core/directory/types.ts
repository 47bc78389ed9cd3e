/**
 * The embedded core's directory file (YAML or JSON): its schema, and the TypeScript types derived from it. This
 * file is the reference of the format: every key, its type, its checks and its default are written once, here.
 * Snake_case keys, like authentik's own API.
 *
 * Loading (loader.ts) validates the file against this schema first (parse.ts): unknown keys, wrong types and
 * values out of range are DirectoryErrors naming their path (`users[3].groups[1]: ...`), so typos never
 * silently change behaviour. What needs the whole file stays code (references.ts): names referring to other
 * objects, duplicates, implicit pks. Defaults that depend on other values (a stage's name from its flow, dates
 * from the load time, built-in flows) are in defaults.ts; constant defaults are here (`.default(...)`).
 *
 * `DirectoryFile` and the `*Spec` types are the file as written (defaults optional); the `*Parsed` types are
 * what the schema returns (defaults filled, UUIDs canonical, dates as Instants).
 *
 * Policy bindings (`policy_bindings` on flows and stages) are authentik's PolicyBindings of a group or a user;
 * when each is checked, and what a failure does, is written at the fields below and in README ("Policy bindings").
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { DEFAULT_AUTHENTICATION_FLOW, DEFAULT_INVALIDATION_FLOW } from './defaults.js';
import { isSupportedHash } from './passwords.js';
import { parseTimedelta } from './timedelta.js';
import { Instant } from '../time.js';
import { base32Decode } from './totp.js';

const INT32_MAX = 2_147_483_647;

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

// ---------------------------------------------------------------------------------------------------------------
// Building blocks. Messages not given here come from parse.ts (required, wrong type, unknown key, one of).

const text = (): z.ZodString => z.string();
const nonEmpty = (): z.ZodString => z.string().min(1);
const int = (min: number, max: number): z.ZodNumber => {
  const range = { error: `must be between ${min} and ${max}` };
  return z.number().int().min(min, range).max(max, range);
};

/** A list without duplicates (by value); the second occurrence is the error. */
function uniqueList<T extends z.ZodType<string>>(item: T): z.ZodArray<T> {
  return z.array(item).superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((value, i) => {
      if (seen.has(value)) ctx.addIssue({ code: 'custom', path: [i], message: `duplicate entry ${JSON.stringify(value)}` });
      seen.add(value);
    });
  });
}
const names = (): z.ZodArray<z.ZodString> => uniqueList(nonEmpty());

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
/** The forms Django's UUIDField accepts (with or without dashes, any case); returns the canonical form. */
const uuid = () =>
  z
    .string()
    .regex(UUID_RE, { error: 'expected a UUID' })
    .transform((value) => {
      const hex = value.replace(/-/g, '').toLowerCase();
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    });

const ISO_DATE_RE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
/** ISO 8601 date-time, e.g. "2025-01-02T03:04:05.123456Z" (microseconds kept). */
const dateTime = () =>
  z
    .string()
    .regex(ISO_DATE_RE, { error: 'expected an ISO 8601 date-time' })
    .transform((value, ctx) => {
      const instant = Instant.parseIso(value);
      if (instant !== undefined) return instant;
      ctx.addIssue({ code: 'custom', message: 'invalid date' });
      return z.NEVER;
    });

const SLUG_RE = /^[-a-zA-Z0-9_]+$/;
const slug = (): z.ZodString => nonEmpty().regex(SLUG_RE, { error: 'may contain only letters, digits, "-" and "_"' });

/** authentik's timedelta strings ("hours=1;minutes=30"). */
const duration = () =>
  nonEmpty().superRefine((value, ctx) => {
    try {
      parseTimedelta(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `invalid duration (${(err as Error).message}); expected e.g. "hours=1;minutes=30"` });
    }
  });

const MAX_JSON_DEPTH = 32;

/** Where a value is not plain JSON (attributes, outpost config): [path below the value, message], or undefined. */
function jsonProblem(value: unknown, depth: number): [Array<string | number>, string] | undefined {
  if (depth > MAX_JSON_DEPTH) return [[], 'nested too deeply'];
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : [[], 'numbers must be finite'];
  const entries: Array<[string | number, unknown]> | undefined = Array.isArray(value)
    ? value.map((v, i): [number, unknown] => [i, v])
    : isPlainObject(value)
      ? Object.entries(value)
      : undefined;
  if (entries === undefined) return [[], `unsupported value (${describeValue(value)})`];
  for (const [key, entry] of entries) {
    const problem = jsonProblem(entry, depth + 1);
    if (problem !== undefined) return [[key, ...problem[0]], problem[1]];
  }
  return undefined;
}

/** A mapping of plain JSON values (no dates, no non-finite numbers, at most 32 levels deep). */
const jsonObject = () =>
  z.custom<JsonObject>().superRefine((value, ctx) => {
    if (!isPlainObject(value)) {
      ctx.addIssue({ code: 'custom', message: `expected a mapping, got ${describeValue(value)}` });
      return;
    }
    const problem = jsonProblem(value, 0);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', path: problem[0], message: problem[1] });
  });

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** "a string", "a list", "a mapping", ... for messages. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Date) return 'a date';
  if (isPlainObject(value)) return 'a mapping';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

// ---------------------------------------------------------------------------------------------------------------
// core

const coreSchema = z.strictObject({
  /** Which authentik API generation to emulate. */
  generation: z.enum(['2023.10', '2026.2']).default('2026.2'),
  /** Version string the core reports (root config, outpost health `version_should`); default per generation. */
  version: nonEmpty().optional(),
  /** Mixed into user uids: uid = hex sha256("<pk>-<install_id>"). Default: a fixed UUID (or the previous load's). */
  install_id: nonEmpty().optional(),
  /** Seconds; authentik's cache_timeout_flows. */
  cache_timeout_flows: int(0, INT32_MAX).default(300),
  /** Token for the admin API (outpost instances CRUD, directory reload, session end). `env://NAME`, `file://path`
   *  allowed. Default: random, generated at load (kept across reloads). */
  admin_token: nonEmpty().optional(),
  /** core_default_app_access: result for applications without any policy. */
  default_app_access: z.boolean().default(true),
  /** Brand default invalidation flow slug (used as unbind_flow_slug fallback); null for none. */
  flow_invalidation: nonEmpty().nullable().default(DEFAULT_INVALIDATION_FLOW),
});

// ---------------------------------------------------------------------------------------------------------------
// groups and users

const groupSchema = z.strictObject({
  /** UUID; generated deterministically from the name when absent. */
  pk: uuid().optional(),
  name: nonEmpty(),
  is_superuser: z.boolean().default(false),
  /** Parent group names (authentik 2025.12+: several parents). Cycles are allowed. */
  parents: names().default([]),
  attributes: jsonObject().default({}),
  /** Members of this group (effective membership) hold search_full_directory on every LDAP provider. */
  search_full_directory: z.boolean().default(false),
});

const totpSchema = z.strictObject({
  name: nonEmpty().default('TOTP Device'),
  /** Base32 secret (RFC 6238, SHA-1, 30 s), at least 80 bits. */
  secret: nonEmpty().superRefine((value, ctx) => {
    let secret: Buffer;
    try {
      secret = base32Decode(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'not valid base32' });
      return;
    }
    if (secret.length < 10) ctx.addIssue({ code: 'custom', message: 'too short (at least 80 bits / 16 base32 characters)' });
  }),
  digits: z.union([z.literal(6), z.literal(8)], { error: 'must be 6 or 8' }).default(6),
});

const duoSchema = z.strictObject({
  name: nonEmpty().default('Duo Device'),
  /** The embedded core approves a push only when true. */
  auto_approve: z.boolean(),
});

export const USER_TYPES = ['internal', 'external', 'service_account', 'internal_service_account'] as const;

const userSchema = z.strictObject({
  /** Integer pk; assigned in file order (skipping explicit ones) when absent. */
  pk: int(1, INT32_MAX).optional(),
  username: nonEmpty().max(150),
  /** Default: the username. */
  name: text().optional(),
  email: text().default(''),
  /** Django password hash: `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>` (or pbkdf2_sha1). Absent or starting
   *  with "!": no usable password. The value is never echoed in errors (it might be a pasted password). */
  password: text()
    .refine((value) => value.startsWith('!') || isSupportedHash(value), {
      error: 'not a supported Django password hash (expected pbkdf2_sha256$<iterations>$<salt>$<base64>)',
    })
    .optional(),
  /** ISO 8601 dates; default: load time (kept across reloads while the user and, for the password date, the
   *  hash stay the same). */
  password_change_date: dateTime().optional(),
  date_joined: dateTime().optional(),
  last_updated: dateTime().optional(),
  is_active: z.boolean().default(true),
  is_superuser: z.boolean().default(false),
  type: z.enum(USER_TYPES).default('internal'),
  path: nonEmpty().default('users'),
  attributes: jsonObject().default({}),
  /** Direct group memberships, by group name. */
  groups: names().default([]),
  /** TOTP devices. */
  totp: z.array(totpSchema).default([]),
  /** Static recovery tokens (at most 16 characters each); each works once. */
  static_tokens: uniqueList(nonEmpty().max(16)).default([]),
  /** Duo devices. */
  duo: z.array(duoSchema).default([]),
  /** Global permission authentik_providers_ldap.search_full_directory. */
  search_full_directory: z.boolean().default(false),
});

// ---------------------------------------------------------------------------------------------------------------
// applications and providers

const applicationSchema = z.strictObject({
  slug: slug(),
  /** Default: the slug. */
  name: nonEmpty().optional(),
  /** Provider name (one application per provider). */
  provider: nonEmpty().optional(),
  /** Access policy: when any of these are set, only listed groups (effective membership) / users pass. */
  allowed_groups: names().default([]),
  allowed_users: names().default([]),
});

const providerCommon = {
  /** Integer pk; assigned in file order (skipping explicit ones) when absent. */
  pk: int(1, INT32_MAX).optional(),
  name: nonEmpty(),
  /** Flow slug (authorization_flow). */
  authorization_flow: nonEmpty().default(DEFAULT_AUTHENTICATION_FLOW),
  /** Flow slug (invalidation_flow), null for none; default core.flow_invalidation. */
  invalidation_flow: nonEmpty().nullable().optional(),
  /** Certificate name, null for none. */
  certificate: nonEmpty().nullable().default(null),
  mfa_support: z.boolean().default(true),
};

const ldapProviderSchema = z.strictObject({
  ...providerCommon,
  type: z.literal('ldap'),
  base_dn: nonEmpty()
    .regex(/^[A-Za-z][\w-]*=/, { error: 'expected a DN such as "DC=ldap,DC=goauthentik,DC=io"' })
    .default('DC=ldap,DC=goauthentik,DC=io'),
  tls_server_name: text().default(''),
  uid_start_number: int(0, INT32_MAX).default(2000),
  gid_start_number: int(0, INT32_MAX).default(4000),
  search_mode: z.enum(['direct', 'cached']).default('direct'),
  bind_mode: z.enum(['direct', 'cached']).default('direct'),
  /** 2023.10 generation: name of the search group; null for none. */
  search_group: nonEmpty().nullable().default(null),
  /** Users (by username) and groups (by name) holding search_full_directory on this provider. */
  search_full_directory: z.strictObject({ users: names().default([]), groups: names().default([]) }).prefault({}),
});

function isCidr(value: string): boolean {
  const slash = value.indexOf('/');
  const address = slash < 0 ? value : value.slice(0, slash);
  const family = isIP(address);
  if (family === 0) return false;
  if (slash < 0) return true;
  const prefix = value.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

const radiusAttributeSchema = z
  .strictObject({
    /** RADIUS attribute type; 26 with vendor/vendor_type for a VSA. */
    type: int(1, 255),
    vendor: int(1, 0xffffff).optional(),
    vendor_type: int(1, 255).optional(),
    /** Text (UTF-8), an integer (4 octets), or `0x…` hex for raw octets. */
    value: z.union([
      int(0, 0xffffffff),
      text().refine((value) => !/^0x/i.test(value) || /^0x([0-9a-f]{2})+$/i.test(value), {
        error: 'hex values need an even number of hex digits after 0x',
      }),
    ]),
    /** RFC 2868 tag for tunnel attributes. */
    tag: int(0, 31).optional(),
  })
  .superRefine((attr, ctx) => {
    const vendorSet = attr.vendor !== undefined || attr.vendor_type !== undefined;
    if (attr.type === 26 && (attr.vendor === undefined || attr.vendor_type === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'type 26 (Vendor-Specific) needs vendor and vendor_type' });
    } else if (attr.type !== 26 && vendorSet) {
      ctx.addIssue({ code: 'custom', message: 'vendor and vendor_type are only for type 26' });
    }
    // RFC 2868: a tagged integer keeps 3 octets for the value; an attribute holds at most 253 octets (247 in a VSA).
    const value = attr.value;
    if (attr.tag !== undefined && typeof value === 'number' && value > 0xffffff) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: 'a tagged integer must be below 2^24' });
    }
    const octets = typeof value === 'number' ? 4 : /^0x/i.test(value) ? (value.length - 2) / 2 : Buffer.byteLength(value, 'utf8');
    const limit = attr.type === 26 ? 247 : 253;
    if (octets + (attr.tag !== undefined && typeof value === 'string' ? 1 : 0) > limit) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `longer than ${limit} octets` });
    }
  });

const radiusPropertyMappingSchema = z.strictObject({
  name: nonEmpty(),
  /** Apply only to members (effective) of one of these groups; all users when absent. */
  groups: names().optional(),
  attributes: z.array(radiusAttributeSchema),
});

const radiusProviderSchema = z.strictObject({
  ...providerCommon,
  type: z.literal('radius'),
  /** `env://NAME`, `file://path` allowed. */
  shared_secret: nonEmpty(),
  /** Comma-separated IP networks (CIDR) allowed as RADIUS clients. */
  client_networks: nonEmpty()
    .superRefine((value, ctx) => {
      value.split(',').forEach((part, j) => {
        if (!isCidr(part.trim())) ctx.addIssue({ code: 'custom', message: `entry ${j + 1} (${JSON.stringify(part.trim())}) is not an IP network` });
      });
    })
    .default('0.0.0.0/0, ::/0'),
  /** Static reply attributes, the embedded stand-in for RADIUS property mappings (Python in a real core). */
  property_mappings: z.array(radiusPropertyMappingSchema).default([]),
});

const providerSchema = z.discriminatedUnion('type', [ldapProviderSchema, radiusProviderSchema]);

// ---------------------------------------------------------------------------------------------------------------
// policy bindings (authentik's PolicyBinding of a group or a user; policy objects are not modelled)

const policyBindingSchema = z
  .strictObject({
    /** Group name: passes for its members, direct or through a child group (authentik's Group.is_member). */
    group: nonEmpty().optional(),
    /** Username: passes for that user only. */
    user: nonEmpty().optional(),
    /** Inverts the binding's result. */
    negate: z.boolean().default(false),
    /** A disabled binding is ignored, as if it were absent. */
    enabled: z.boolean().default(true),
    /** Evaluation order among the target's bindings; default: the position in the list. */
    order: int(-INT32_MAX - 1, INT32_MAX).optional(),
  })
  .superRefine((binding, ctx) => {
    if ((binding.group === undefined) === (binding.user === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'needs exactly one of group and user' });
    }
  });

/** How the results of a target's bindings combine: any one passing, or all of them (authentik's default: any). */
const policyEngineMode = () => z.enum(['any', 'all']).default('any');

/** The stage binding (authentik's FlowStageBinding): when its bindings are checked, and what a failure does. */
const stageBindingFields = {
  /** Stage name; default `<flow slug>-<kind with dashes>`. */
  name: nonEmpty().optional(),
  /** Check the bindings when the flow is planned (the user is not known yet for an unauthenticated request);
   *  failing, the stage is left out of the plan. */
  evaluate_on_plan: z.boolean().default(false),
  /** Check the bindings again when the stage comes up, with the pending user; failing, the stage is skipped. */
  re_evaluate_policies: z.boolean().default(true),
  policy_engine_mode: policyEngineMode(),
  policy_bindings: z.array(policyBindingSchema).default([]),
};

// ---------------------------------------------------------------------------------------------------------------
// flows

const stageSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('identification'),
    ...stageBindingFields,
    user_fields: uniqueList(z.enum(['username', 'email', 'upn'])).default(['username', 'email']),
    /** Password field on the identification stage itself. */
    password_stage: z.boolean().default(false),
  }),
  z.strictObject({
    kind: z.literal('password'),
    ...stageBindingFields,
    failed_attempts_before_cancel: int(0, INT32_MAX).default(5),
  }),
  z.strictObject({
    kind: z.literal('authenticator_validate'),
    ...stageBindingFields,
    device_classes: uniqueList(z.enum(['totp', 'static', 'duo', 'webauthn'])).default(['static', 'totp', 'webauthn', 'duo']),
    not_configured_action: z.enum(['skip', 'deny']).default('skip'),
  }),
  z.strictObject({
    kind: z.literal('user_login'),
    ...stageBindingFields,
    session_duration: duration().default('seconds=0'),
    remember_me_offset: duration().default('seconds=0'),
  }),
  z.strictObject({ kind: z.literal('user_logout'), ...stageBindingFields }),
  z.strictObject({ kind: z.literal('deny'), ...stageBindingFields, deny_message: text().optional() }),
]);

const flowSchema = z.strictObject({
  slug: slug(),
  /** Default: the slug. */
  name: nonEmpty().optional(),
  /** Default: the name. */
  title: nonEmpty().optional(),
  designation: z.enum(['authentication', 'invalidation', 'authorization']).default('authentication'),
  /** authentik's flow `authentication` setting. */
  authentication: z
    .enum(['none', 'require_authenticated', 'require_unauthenticated', 'require_superuser', 'require_outpost'])
    .default('none'),
  /** Bindings checked when the flow is planned, with the session's user (none for an outpost's bind: every
   *  bind starts a new session). Failing, the executor answers "Flow does not apply to current user." */
  policy_engine_mode: policyEngineMode(),
  policy_bindings: z.array(policyBindingSchema).default([]),
  stages: z.array(stageSchema),
});

// ---------------------------------------------------------------------------------------------------------------
// outposts and certificates

const outpostSchema = z.strictObject({
  /** UUID; generated deterministically from the name when absent. */
  uuid: uuid().optional(),
  name: nonEmpty(),
  type: z.enum(['ldap', 'radius']),
  /** Provider names (of the outpost's type). */
  providers: names(),
  /** The outpost's API token (its service account's token). `env://NAME`, `file://path` allowed. */
  token: nonEmpty(),
  /** Outpost config (authentik's `config` dict): refresh_interval ("minutes=5"), log_level, ...; merged over
   *  authentik's defaults. */
  config: jsonObject().default({}),
  managed: nonEmpty().nullable().default(null),
});

const certificateSchema = z
  .strictObject({
    /** UUID; generated deterministically from the name when absent. */
    uuid: uuid().optional(),
    name: nonEmpty(),
    /** PEM files, relative to the directory file. Absent: generated at first start under certs/, signed by the core's CA. */
    certificate_file: nonEmpty().optional(),
    key_file: nonEmpty().optional(),
    /** DNS names for a generated certificate. */
    subject_alt_names: names().optional(),
  })
  .superRefine((cert, ctx) => {
    if ((cert.certificate_file === undefined) !== (cert.key_file === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'certificate_file and key_file must be given together (or both omitted to generate one)' });
    }
  });

// ---------------------------------------------------------------------------------------------------------------
// the file

export const directoryFileSchema = z.strictObject({
  version: z.literal(1, { error: 'must be 1' }),
  core: coreSchema.prefault({}),
  /** Outposts and their tokens. */
  outposts: z.array(outpostSchema).default([]),
  users: z.array(userSchema).default([]),
  groups: z.array(groupSchema).default([]),
  applications: z.array(applicationSchema).default([]),
  providers: z.array(providerSchema).default([]),
  /** Flows; authentik's default authentication and invalidation flows are added unless defined here. */
  flows: z.array(flowSchema).default([]),
  certificates: z.array(certificateSchema).default([]),
});

/** The file as written. */
export type DirectoryFile = z.input<typeof directoryFileSchema>;
export type CoreSettings = z.input<typeof coreSchema>;
export type OutpostSpec = z.input<typeof outpostSchema>;
export type UserSpec = z.input<typeof userSchema>;
export type GroupSpec = z.input<typeof groupSchema>;
export type ApplicationSpec = z.input<typeof applicationSchema>;
export type ProviderSpec = z.input<typeof providerSchema>;
export type LdapProviderSpec = z.input<typeof ldapProviderSchema>;
export type RadiusProviderSpec = z.input<typeof radiusProviderSchema>;
export type StageSpec = z.input<typeof stageSchema>;
export type FlowSpec = z.input<typeof flowSchema>;
export type CertificateSpec = z.input<typeof certificateSchema>;

/** The file after the schema: defaults filled, UUIDs canonical, dates parsed (microseconds kept). */
export type DirectoryFileParsed = z.output<typeof directoryFileSchema>;
export type CoreSettingsParsed = z.output<typeof coreSchema>;
export type UserParsed = z.output<typeof userSchema>;
export type GroupParsed = z.output<typeof groupSchema>;
export type ApplicationParsed = z.output<typeof applicationSchema>;
export type ProviderParsed = z.output<typeof providerSchema>;
export type LdapProviderParsed = z.output<typeof ldapProviderSchema>;
export type RadiusProviderParsed = z.output<typeof radiusProviderSchema>;
export type StageParsed = z.output<typeof stageSchema>;
export type FlowParsed = z.output<typeof flowSchema>;
export type OutpostParsed = z.output<typeof outpostSchema>;
export type CertificateParsed = z.output<typeof certificateSchema>;
export type RadiusPropertyMappingSpec = z.output<typeof radiusPropertyMappingSchema>;
export type PolicyBindingParsed = z.output<typeof policyBindingSchema>;
/** The stage binding's own fields, which the model resolves (model.ts CoreStage). */
export type StageBindingKey = Exclude<keyof typeof stageBindingFields, 'name'>;
