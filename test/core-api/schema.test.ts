import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const sharedSchemas = join(root, '..', 'shared', 'authentik-api');

test('the trimmed schemas are what scripts/trim-schema.mjs makes from ../shared/authentik-api', (t) => {
  try {
    readFileSync(join(sharedSchemas, 'schema-2026.2.2.yml'));
  } catch {
    t.skip('../shared/authentik-api is not beside this checkout');
    return;
  }
  const out = mkdtempSync(join(tmpdir(), 'ako-schema-'));
  try {
    execFileSync(process.execPath, [join(root, 'scripts', 'trim-schema.mjs')], {
      env: { ...process.env, AKO_SCHEMA_OUT: out },
      stdio: 'ignore',
    });
    for (const generation of ['2023.10', '2026.2']) {
      const fresh = readFileSync(join(out, `${generation}.json`), 'utf8');
      const committed = readFileSync(join(root, 'src', 'core-api', 'schema', `${generation}.json`), 'utf8');
      assert.equal(committed, fresh, `src/core-api/schema/${generation}.json is stale: run npm run gen:api`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('the trimmed schemas hold every path the outpost calls, per generation', () => {
  const load = (g: string): { paths: Record<string, unknown> } =>
    JSON.parse(readFileSync(join(root, 'src', 'core-api', 'schema', `${g}.json`), 'utf8')) as { paths: Record<string, unknown> };
  const common = ['/outposts/instances/', '/root/config/', '/outposts/ldap/', '/outposts/radius/', '/core/users/', '/core/users/me/', '/core/groups/', '/flows/executor/{flow_slug}/', '/crypto/certificatekeypairs/{kp_uuid}/view_certificate/'];
  for (const g of ['2023.10', '2026.2']) {
    const paths = Object.keys(load(g).paths);
    for (const p of common) assert.ok(paths.includes(p), `${g} lacks ${p}`);
  }
  assert.ok(Object.keys(load('2026.2').paths).includes('/outposts/ldap/{id}/check_access/'));
  assert.ok(!Object.keys(load('2023.10').paths).includes('/outposts/ldap/{id}/check_access/'));
  assert.ok(Object.keys(load('2023.10').paths).includes('/core/applications/{slug}/check_access/'));
});
