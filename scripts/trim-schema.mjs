// Produces src/core-api/schema/<generation>.json: the authentik OpenAPI schema cut down to the paths the
// outpost and the embedded core use, plus every component they reference. Input: ../shared/authentik-api/.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sourceDir = process.env.AUTHENTIK_API_DIR ?? join(root, '..', 'shared', 'authentik-api');
const outDir = process.env.AKO_SCHEMA_OUT ?? join(root, 'src', 'core-api', 'schema');

const generations = { '2023.10': 'schema-2023.10.4.yml', '2026.2': 'schema-2026.2.2.yml' };
const paths = [
  '/outposts/instances/',
  '/outposts/instances/{uuid}/',
  '/outposts/instances/{uuid}/health/',
  '/outposts/instances/default_settings/',
  '/outposts/ldap/',
  '/outposts/ldap/{id}/check_access/',
  '/outposts/radius/',
  '/outposts/radius/{id}/check_access/',
  '/root/config/',
  '/core/users/',
  '/core/users/{id}/',
  '/core/users/me/',
  '/core/groups/',
  '/core/groups/{group_uuid}/',
  '/core/applications/{slug}/check_access/',
  '/flows/executor/{flow_slug}/',
  '/crypto/certificatekeypairs/{kp_uuid}/',
  '/crypto/certificatekeypairs/{kp_uuid}/view_certificate/',
  '/crypto/certificatekeypairs/{kp_uuid}/view_private_key/',
];

function collectRefs(node, found) {
  if (Array.isArray(node)) { for (const n of node) collectRefs(n, found); return; }
  if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') found.add(v);
      else collectRefs(v, found);
    }
  }
}

mkdirSync(outDir, { recursive: true });
for (const [generation, file] of Object.entries(generations)) {
  const doc = parse(readFileSync(join(sourceDir, file), 'utf8'), { maxAliasCount: -1 });
  const keptPaths = {};
  for (const p of paths) if (doc.paths[p]) keptPaths[p] = doc.paths[p];
  const refs = new Set();
  collectRefs(keptPaths, refs);
  const components = {};
  const queue = [...refs];
  const seen = new Set();
  while (queue.length > 0) {
    const ref = queue.pop();
    if (seen.has(ref)) continue;
    seen.add(ref);
    const [, , section, name] = ref.split('/');
    const value = doc.components[section][name];
    (components[section] ??= {})[name] = value;
    const inner = new Set();
    collectRefs(value, inner);
    for (const r of inner) queue.push(r);
  }
  for (const section of Object.keys(components)) {
    components[section] = Object.fromEntries(Object.entries(components[section]).sort(([a], [b]) => a.localeCompare(b)));
  }
  if (doc.components.securitySchemes) components.securitySchemes = doc.components.securitySchemes;
  const trimmed = { openapi: doc.openapi, info: doc.info, paths: keptPaths, components };
  writeFileSync(join(outDir, `${generation}.json`), JSON.stringify(trimmed, null, 1) + '\n');
  console.log(`${generation}: ${Object.keys(keptPaths).length} paths, ${seen.size} components`);
}
