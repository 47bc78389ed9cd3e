/**
 * authentik's defaults that depend on something else than the field itself (constant defaults are in the schema,
 * types.ts): identifiers and version strings, the built-in flows (without policy bindings), a stage's name from
 * its flow.
 */
import type { CoreFlow, CorePolicies, CoreStageBinding, Generation } from '../model.js';
import { nameUuid } from './ids.js';

export const DEFAULT_AUTHENTICATION_FLOW = 'default-authentication-flow';
export const DEFAULT_INVALIDATION_FLOW = 'default-invalidation-flow';
export const DEFAULT_PROVIDER_INVALIDATION_FLOW = 'default-provider-invalidation-flow';
/** Version strings reported per generation (the schemas the project ships). */
export const GENERATION_VERSIONS: Readonly<Record<Generation, string>> = { '2023.10': '2023.10.4', '2026.2': '2026.2.2' };
/** Used when the file sets no install_id: fixed, so user uids survive restarts. */
export const DEFAULT_INSTALL_ID = nameUuid('install', 'ak-outpost-embedded-core');
/** authentik's defaults for the outpost `config` dict that outposts read. */
export const DEFAULT_OUTPOST_CONFIG: Readonly<Record<string, unknown>> = Object.freeze({ log_level: 'info', refresh_interval: 'minutes=5' });

/** A target without bindings (authentik's defaults: mode any; no binding passes). */
export function noPolicies(): CorePolicies {
  return { mode: 'any', bindings: [] };
}

/** A FlowStageBinding's defaults. */
export function defaultStageBinding(): CoreStageBinding {
  return { evaluateOnPlan: false, reEvaluatePolicies: true, policies: noPolicies() };
}

/** A stage's name when the file gives none. */
export function defaultStageName(flowSlug: string, kind: string): string {
  return `${flowSlug}-${kind.replace(/_/g, '-')}`;
}

/** authentik's default flows, added when the file does not define a flow with the same slug. */
export function builtinFlows(): CoreFlow[] {
  const flow = (slug: string, rest: Omit<CoreFlow, 'pk' | 'slug' | 'policies'>): CoreFlow => ({
    pk: nameUuid('flow', slug),
    slug,
    ...rest,
    policies: noPolicies(),
  });
  const binding = defaultStageBinding;
  return [
    flow(DEFAULT_AUTHENTICATION_FLOW, {
      name: 'Welcome to authentik!',
      title: 'Welcome to authentik!',
      designation: 'authentication',
      authentication: 'none',
      stages: [
        { kind: 'identification', name: 'default-authentication-identification', user_fields: ['username', 'email'], password_stage: false, binding: binding() },
        { kind: 'password', name: 'default-authentication-password', failed_attempts_before_cancel: 5, binding: binding() },
        {
          kind: 'authenticator_validate',
          name: 'default-authentication-mfa-validation',
          device_classes: ['totp', 'static', 'duo'],
          not_configured_action: 'skip',
          binding: binding(),
        },
        { kind: 'user_login', name: 'default-authentication-login', session_duration: 'seconds=0', remember_me_offset: 'seconds=0', binding: binding() },
      ],
    }),
    flow(DEFAULT_INVALIDATION_FLOW, {
      name: 'Logout',
      title: 'Default Invalidation Flow',
      designation: 'invalidation',
      authentication: 'none',
      stages: [{ kind: 'user_logout', name: 'default-invalidation-logout', binding: binding() }],
    }),
    flow(DEFAULT_PROVIDER_INVALIDATION_FLOW, {
      name: 'Logged out of application',
      title: "You've logged out of %(app)s.",
      designation: 'invalidation',
      authentication: 'none',
      stages: [],
    }),
  ];
}
