/**
 * authentik's defaults that depend on something else than the field itself (constant defaults are in the schema,
 * types.ts): identifiers and version strings, the built-in flows, a stage's name from its flow.
 */
import type { CoreFlow, CoreStage, Generation } from '../model.js';
import { nameUuid } from './ids.js';
import type { FlowParsed, StageParsed } from './types.js';

export const DEFAULT_AUTHENTICATION_FLOW = 'default-authentication-flow';
export const DEFAULT_INVALIDATION_FLOW = 'default-invalidation-flow';
export const DEFAULT_PROVIDER_INVALIDATION_FLOW = 'default-provider-invalidation-flow';
/** Version strings reported per generation (the schemas the project ships). */
export const GENERATION_VERSIONS: Readonly<Record<Generation, string>> = { '2023.10': '2023.10.4', '2026.2': '2026.2.2' };
/** Used when the file sets no install_id: fixed, so user uids survive restarts. */
export const DEFAULT_INSTALL_ID = nameUuid('install', 'ak-outpost-embedded-core');
/** authentik's defaults for the outpost `config` dict that outposts read. */
export const DEFAULT_OUTPOST_CONFIG: Readonly<Record<string, unknown>> = Object.freeze({ log_level: 'info', refresh_interval: 'minutes=5' });

/** authentik's default flows, added when the file does not define a flow with the same slug. */
export function builtinFlows(): CoreFlow[] {
  const flow = (slug: string, rest: Omit<CoreFlow, 'pk' | 'slug'>): CoreFlow => ({ pk: nameUuid('flow', slug), slug, ...rest });
  return [
    flow(DEFAULT_AUTHENTICATION_FLOW, {
      name: 'Welcome to authentik!',
      title: 'Welcome to authentik!',
      designation: 'authentication',
      authentication: 'none',
      stages: [
        { kind: 'identification', name: 'default-authentication-identification', user_fields: ['username', 'email'], password_stage: false },
        { kind: 'password', name: 'default-authentication-password', failed_attempts_before_cancel: 5 },
        {
          kind: 'authenticator_validate',
          name: 'default-authentication-mfa-validation',
          device_classes: ['totp', 'static', 'duo'],
          not_configured_action: 'skip',
        },
        { kind: 'user_login', name: 'default-authentication-login', session_duration: 'seconds=0', remember_me_offset: 'seconds=0' },
      ],
    }),
    flow(DEFAULT_INVALIDATION_FLOW, {
      name: 'Logout',
      title: 'Default Invalidation Flow',
      designation: 'invalidation',
      authentication: 'none',
      stages: [{ kind: 'user_logout', name: 'default-invalidation-logout' }],
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

/** A flow from the file: name defaults to the slug, title to the name, stage names to `<slug>-<kind>`. */
export function flowWithDefaults(spec: FlowParsed): CoreFlow {
  const name = spec.name ?? spec.slug;
  return {
    pk: nameUuid('flow', spec.slug),
    slug: spec.slug,
    name,
    title: spec.title ?? name,
    designation: spec.designation,
    authentication: spec.authentication,
    stages: spec.stages.map((stage) => stageWithName(stage, spec.slug)),
  };
}

function stageWithName(stage: StageParsed, flowSlug: string): CoreStage {
  return { ...stage, name: stage.name ?? `${flowSlug}-${stage.kind.replace(/_/g, '-')}` };
}
