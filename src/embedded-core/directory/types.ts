/**
 * The embedded core's directory file (YAML or JSON), as read from disk. Snake_case keys, like authentik's
 * own API. Loading validates it (loader.ts) and turns it into the in-memory store; unknown keys are an
 * error naming their path, so typos do not silently change behaviour.
 *
 * Everything not given gets authentik's defaults; pks are assigned in file order when absent.
 */

export interface DirectoryFile {
  version: 1;
  core?: CoreSettings;
  /** Outposts and their tokens. */
  outposts?: OutpostSpec[];
  users?: UserSpec[];
  groups?: GroupSpec[];
  applications?: ApplicationSpec[];
  providers?: ProviderSpec[];
  flows?: FlowSpec[];
  certificates?: CertificateSpec[];
}

export interface CoreSettings {
  /** Which authentik API generation to emulate. Default '2026.2'. */
  generation?: '2023.10' | '2026.2';
  /** Version string the core reports (root config, outpost health `version_should`). */
  version?: string;
  /** Mixed into user uids: uid = hex sha256("<pk>-<install_id>"). */
  install_id?: string;
  cache_timeout_flows?: number;
  /** Token for the admin API (outpost instances CRUD, directory reload, session end). `env://NAME` allowed. */
  admin_token?: string;
  /** core_default_app_access: result for applications without any policy. Default true. */
  default_app_access?: boolean;
  /** Brand default invalidation flow slug (used as unbind_flow_slug fallback). */
  flow_invalidation?: string | null;
}

export interface OutpostSpec {
  /** UUID; generated deterministically from the name when absent. */
  uuid?: string;
  name: string;
  type: 'ldap' | 'radius';
  /** Provider names. */
  providers: string[];
  /** The outpost's API token (its service account's token). `env://NAME` allowed. */
  token: string;
  /** Outpost config (authentik's `config` dict): refresh_interval ("minutes=5"), log_level, ... */
  config?: Record<string, unknown>;
  managed?: string | null;
}

export interface UserSpec {
  pk?: number;
  username: string;
  name?: string;
  email?: string;
  /** Django password hash: `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>`. Absent: no usable password. */
  password?: string;
  /** ISO 8601; default: load time. */
  password_change_date?: string;
  date_joined?: string;
  last_updated?: string;
  is_active?: boolean;
  is_superuser?: boolean;
  type?: 'internal' | 'external' | 'service_account' | 'internal_service_account';
  path?: string;
  attributes?: Record<string, unknown>;
  /** Direct group memberships, by group name. */
  groups?: string[];
  /** TOTP devices: base32 secrets (RFC 6238, SHA-1, 6 digits, 30 s). */
  totp?: Array<{ name?: string; secret: string; digits?: 6 | 8 }>;
  /** Static recovery tokens; each works once. */
  static_tokens?: string[];
  /** Duo devices: the embedded core approves a push only when `auto_approve` is true. */
  duo?: Array<{ name?: string; auto_approve: boolean }>;
  /** Global permission authentik_providers_ldap.search_full_directory. */
  search_full_directory?: boolean;
}

export interface GroupSpec {
  /** UUID; generated deterministically from the name when absent. */
  pk?: string;
  name: string;
  is_superuser?: boolean;
  /** Parent group names (authentik 2025.12+: several parents). */
  parents?: string[];
  attributes?: Record<string, unknown>;
  /** Members of this group hold search_full_directory on every LDAP provider. */
  search_full_directory?: boolean;
}

export interface ApplicationSpec {
  slug: string;
  name?: string;
  /** Provider name. */
  provider?: string;
  /** Access policy: when any of these are set, only listed groups (effective membership) / users pass. */
  allowed_groups?: string[];
  allowed_users?: string[];
}

export type ProviderSpec = LdapProviderSpec | RadiusProviderSpec;

interface ProviderCommon {
  pk?: number;
  name: string;
  /** Flow slug (authorization_flow). Default 'default-authentication-flow'. */
  authorization_flow?: string;
  /** Flow slug (invalidation_flow); falls back to core.flow_invalidation. */
  invalidation_flow?: string | null;
  /** Certificate name. */
  certificate?: string | null;
  mfa_support?: boolean;
}

export interface LdapProviderSpec extends ProviderCommon {
  type: 'ldap';
  base_dn?: string;
  tls_server_name?: string;
  uid_start_number?: number;
  gid_start_number?: number;
  search_mode?: 'direct' | 'cached';
  bind_mode?: 'direct' | 'cached';
  /** 2023.10 generation: name of the search group. */
  search_group?: string | null;
  /** Users (by username) and groups (by name) holding search_full_directory on this provider. */
  search_full_directory?: { users?: string[]; groups?: string[] };
}

export interface RadiusProviderSpec extends ProviderCommon {
  type: 'radius';
  shared_secret: string;
  client_networks?: string;
  /** Static reply attributes, the embedded stand-in for RADIUS property mappings (Python in a real core). */
  property_mappings?: RadiusPropertyMappingSpec[];
}

export interface RadiusPropertyMappingSpec {
  name: string;
  /** Apply only to members (effective) of one of these groups; all users when absent. */
  groups?: string[];
  attributes: Array<{
    /** RADIUS attribute type; 26 with vendor/vendor_type for a VSA. */
    type: number;
    vendor?: number;
    vendor_type?: number;
    /** Text (UTF-8), an integer (4 octets), or `0x…` hex for raw octets. */
    value: string | number;
    /** RFC 2868 tag for tunnel attributes. */
    tag?: number;
  }>;
}

export type StageSpec =
  | { kind: 'identification'; name?: string; user_fields?: Array<'username' | 'email' | 'upn'>; password_stage?: boolean }
  | { kind: 'password'; name?: string; failed_attempts_before_cancel?: number }
  | {
      kind: 'authenticator_validate';
      name?: string;
      device_classes?: Array<'totp' | 'static' | 'duo' | 'webauthn'>;
      not_configured_action?: 'skip' | 'deny';
    }
  | { kind: 'user_login'; name?: string; session_duration?: string; remember_me_offset?: string }
  | { kind: 'user_logout'; name?: string }
  | { kind: 'deny'; name?: string; deny_message?: string };

export interface FlowSpec {
  slug: string;
  name?: string;
  title?: string;
  designation?: 'authentication' | 'invalidation' | 'authorization';
  /** authentik's flow `authentication` setting. */
  authentication?: 'none' | 'require_authenticated' | 'require_unauthenticated' | 'require_superuser' | 'require_outpost';
  stages: StageSpec[];
}

export interface CertificateSpec {
  /** UUID; generated deterministically from the name when absent. */
  uuid?: string;
  name: string;
  /** PEM files, relative to the directory file. Absent: generated at first start under certs/, signed by the core's CA. */
  certificate_file?: string;
  key_file?: string;
  /** DNS names for a generated certificate. */
  subject_alt_names?: string[];
}
