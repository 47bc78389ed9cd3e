/**
 * Directory file -> in-memory Directory (model.ts), in four steps: parse and check the file against the schema
 * (parse.ts, types.ts), read or generate certificates (certificates.ts), resolve references between objects
 * (references.ts), with authentik's defaults (schema and defaults.ts). Every problem is a DirectoryError naming
 * its path (`users[3].groups[1]: no group named "ops"`).
 */
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import type { CoreSettingsResolved, Directory } from '../model.js';
import { Instant, preciseNowMs } from '../time.js';
import { type CertificateSources, loadCertificates } from './certificates.js';
import { DEFAULT_INSTALL_ID, GENERATION_VERSIONS } from './defaults.js';
import { readDirectoryFile, validateDirectoryFile } from './parse.js';
import {
  keptAdminOutposts,
  resolveApplications,
  resolveFlows,
  resolveGroups,
  resolveOutposts,
  resolveProviders,
  resolveUsers,
} from './references.js';
import { SecretResolver } from './secrets.js';
import { EmbeddedDirectory } from './store.js';
import type { CoreSettingsParsed } from './types.js';
import { fail } from './validate.js';

export type { CertificateMaterial } from './certificates.js';
export { DEFAULT_INSTALL_ID } from './defaults.js';
export { EmbeddedDirectory, isEffectiveSuperuser } from './store.js';
export { DirectoryError } from './validate.js';

export interface BuildDirectoryOptions extends CertificateSources {
  /** The directory being replaced: outposts created through the admin API and device state are carried over. */
  previous?: Directory;
  /** Source for env:// secrets; default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Clock for the load time (the default of user dates), epoch ms with a microsecond fraction. */
  now?: () => number;
}

export interface LoadDirectoryOptions extends Omit<BuildDirectoryOptions, 'baseDir'> {
  /** Default: the file's directory. */
  baseDir?: string;
  /** Refuse larger files (default 256 MiB). */
  maxBytes?: number;
}

const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;

/** Reads a YAML or JSON directory file (JSON by `.json` extension; YAML otherwise) and builds the Directory. */
export async function loadDirectoryFile(path: string, options: LoadDirectoryOptions): Promise<Directory> {
  const parsed = await readDirectoryFile(path, options.maxBytes ?? DEFAULT_MAX_BYTES);
  const { baseDir, maxBytes: _ignored, ...rest } = options;
  return buildDirectory(parsed, { ...rest, baseDir: baseDir ?? dirname(resolve(path)) });
}

/** Validates a parsed directory file and builds the in-memory Directory. */
export async function buildDirectory(value: unknown, options: BuildDirectoryOptions): Promise<Directory> {
  const file = validateDirectoryFile(value);
  const previous = options.previous;
  const prevEmbedded = previous instanceof EmbeddedDirectory ? previous : undefined;
  const now = Instant.fromEpochMs((options.now ?? preciseNowMs)());
  const secrets = new SecretResolver(options.env ?? process.env, options.baseDir);

  const core = await resolveCore(file.core, previous, prevEmbedded, secrets);
  const groups = resolveGroups(file.groups);
  const users = resolveUsers(file.users, { groups: groups.byName, installId: core.settings.installId, now, previous, prevEmbedded });
  const flows = resolveFlows(file.flows, { groups: groups.byName, users: users.byName });
  const certificates = await loadCertificates(file.certificates, options);
  if (core.settings.flowInvalidation !== null && !flows.has(core.settings.flowInvalidation)) {
    fail('core.flow_invalidation', `no flow with slug ${JSON.stringify(core.settings.flowInvalidation)}`);
  }
  const providers = await resolveProviders(file.providers, {
    flows,
    certificates,
    users: users.byName,
    groups: groups.byName,
    flowInvalidation: core.settings.flowInvalidation,
    secrets,
  });
  const applications = resolveApplications(file.applications, providers.byName, groups.byName, users.byName);
  const outposts = await resolveOutposts(file.outposts, providers.byName, secrets);

  const allOutposts = [...outposts];
  if (previous !== undefined) allOutposts.push(...keptAdminOutposts(previous, prevEmbedded, outposts, providers.byPk));

  return new EmbeddedDirectory({
    settings: core.settings,
    users: users.list,
    groups: groups.list,
    applications,
    providers: providers.list,
    flows: [...flows.values()],
    certificates: certificates.list,
    outposts: allOutposts,
    fileOutpostUuids: new Set(outposts.map((o) => o.uuid)),
    adminTokenGenerated: core.adminTokenGenerated,
    staticTokenSource: users.staticTokenSource,
    now,
    ...(previous !== undefined ? { previous } : {}),
  });
}

async function resolveCore(
  spec: CoreSettingsParsed,
  previous: Directory | undefined,
  prevEmbedded: EmbeddedDirectory | undefined,
  secrets: SecretResolver,
): Promise<{ settings: CoreSettingsResolved; adminTokenGenerated: boolean }> {
  let adminToken: string;
  let adminTokenGenerated = false;
  if (spec.admin_token !== undefined) {
    adminToken = await secrets.resolve(spec.admin_token, 'core.admin_token');
  } else if (prevEmbedded !== undefined && prevEmbedded.adminTokenGenerated) {
    adminToken = prevEmbedded.settings.adminToken;
    adminTokenGenerated = true;
  } else {
    // Unguessable: the admin API stays closed unless the operator sets a token (or reads this one from the server).
    adminToken = randomBytes(32).toString('hex');
    adminTokenGenerated = true;
  }
  return {
    settings: {
      generation: spec.generation,
      version: spec.version ?? GENERATION_VERSIONS[spec.generation],
      installId: spec.install_id ?? previous?.settings.installId ?? DEFAULT_INSTALL_ID,
      cacheTimeoutFlows: spec.cache_timeout_flows,
      adminToken,
      defaultAppAccess: spec.default_app_access,
      flowInvalidation: spec.flow_invalidation,
    },
    adminTokenGenerated,
  };
}
