import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { AUTHENTIK_VERSION, PACKAGE_VERSION, USER_AGENT, fullVersion } from '../../src/version.js';

test('fullVersion is VERSION or VERSION+HASH', () => {
  assert.equal(fullVersion('2026.2.2', ''), '2026.2.2');
  assert.equal(fullVersion('2026.2.2', 'abc123'), '2026.2.2+abc123');
  assert.equal(AUTHENTIK_VERSION, '2026.2.2');
});

test('User-Agent is goauthentik.io/outpost/<full version>', () => {
  assert.equal(USER_AGENT, `goauthentik.io/outpost/${fullVersion()}`);
  assert.match(USER_AGENT, /^goauthentik\.io\/outpost\/2026\.2\.2(\+.+)?$/);
});

test('PACKAGE_VERSION matches package.json', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  assert.equal(PACKAGE_VERSION, pkg.version);
});
