/**
 * The recipes the tests run are the ones the README prints: every file under docs/recipes/ appears in README.md
 * verbatim as a fenced code block.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RECIPES_DIR, REPO_ROOT } from './recipe.js';

test('README.md prints every docs/recipes file as it is', () => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const files = readdirSync(RECIPES_DIR).sort();
  assert.deepEqual(files, ['apache-httpd.conf', 'dovecot-auth.conf', 'dovecot-ldap.conf.ext', 'eap-peap-gtc.conf', 'eap-tls.conf', 'eap-ttls-pap.conf']);
  for (const name of files) {
    const text = readFileSync(join(RECIPES_DIR, name), 'utf8');
    assert.ok(readme.includes('```\n' + text + '```\n'), `README.md does not print docs/recipes/${name} as it is`);
  }
});
