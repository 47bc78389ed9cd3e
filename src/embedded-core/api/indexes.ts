/**
 * Per-directory lookup tables the API needs and the Directory contract does not carry: users ordered by username,
 * groups by name, flows/applications by slug. Built once per loaded Directory (a reload builds a new one) and again
 * after an outpost (with its service account) was added or removed, so listing 100,000 users only slices a
 * prepared array.
 */
import type { CoreApplication, CoreCertificate, CoreFlow, CoreGroup, CoreUser, Directory } from '../model.js';

export interface DirectoryIndex {
  /** The directory's revision the tables were built at. */
  revision: number;
  usersByUsername: readonly CoreUser[];
  /** user pk -> position in usersByUsername, to order filtered subsets cheaply. */
  userRank: ReadonlyMap<number, number>;
  groupsByName: readonly CoreGroup[];
  groupRank: ReadonlyMap<string, number>;
  flowBySlug: ReadonlyMap<string, CoreFlow>;
  applicationBySlug: ReadonlyMap<string, CoreApplication>;
  certificateByUuid: ReadonlyMap<string, CoreCertificate>;
}

/** Django's default ordering on a C-collated column: plain code-point order. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const indexes = new WeakMap<Directory, DirectoryIndex>();

export function directoryIndex(directory: Directory): DirectoryIndex {
  let index = indexes.get(directory);
  if (index !== undefined && index.revision === directory.revision) return index;
  const usersByUsername = [...directory.users.values()].sort((a, b) => compareText(a.username, b.username) || a.pk - b.pk);
  const userRank = new Map<number, number>();
  usersByUsername.forEach((u, i) => userRank.set(u.pk, i));
  const groupsByName = [...directory.groups.values()].sort((a, b) => compareText(a.name, b.name) || compareText(a.pk, b.pk));
  const groupRank = new Map<string, number>();
  groupsByName.forEach((g, i) => groupRank.set(g.pk, i));
  const flowBySlug = new Map<string, CoreFlow>();
  for (const flow of directory.flows.values()) flowBySlug.set(flow.slug, flow);
  const applicationBySlug = new Map<string, CoreApplication>();
  for (const app of directory.applications.values()) applicationBySlug.set(app.slug, app);
  const certificateByUuid = new Map<string, CoreCertificate>();
  for (const cert of directory.certificates.values()) certificateByUuid.set(cert.uuid, cert);
  index = { revision: directory.revision, usersByUsername, userRank, groupsByName, groupRank, flowBySlug, applicationBySlug, certificateByUuid };
  indexes.set(directory, index);
  return index;
}
