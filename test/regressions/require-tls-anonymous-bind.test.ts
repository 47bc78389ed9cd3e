/**
 * Regression: with AUTHENTIK_LDAP__REQUIRE_TLS=true, an anonymous bind on plain LDAP was refused with 13, so
 * `ldapsearch -x` (which always binds first) could not read the RootDSE to discover StartTLS. An anonymous bind
 * carries no secret: it now succeeds; anything with a name or password still needs TLS, without asking the core.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CoreApi } from '../../src/core-api/port.js';
import type { LdapConnectionView } from '../../src/listeners/ldap/handler.js';
import type { BindRequest } from '../../src/protocol/ldap/messages.js';
import { ResultCode } from '../../src/protocol/ldap/result-codes.js';
import { simpleBind } from '../../src/providers/ldap/bind.js';

/** Any use of the core fails the test: these binds must be decided locally. */
const untouchableCore = new Proxy({} as CoreApi, {
  get(_target, property) {
    throw new Error(`the core was used (${String(property)})`);
  },
});

function plainConnection(): LdapConnectionView {
  return {
    id: 1,
    peer: { address: '127.0.0.1', port: 50000 },
    socketPeer: { address: '127.0.0.1', port: 50000 },
    tls: { secure: false },
    boundDn: '',
    authState: null,
    closed: false,
    close() {},
  };
}

const bind = (name: string, password: string) => {
  const req: BindRequest = { kind: 'BindRequest', version: 3, name, auth: { type: 'simple', password: Buffer.from(password) } };
  return simpleBind(req, Buffer.from(password), plainConnection(), { api: untouchableCore, providers: [], requireTls: true, timeoutMs: 1000 });
};

test('REQUIRE_TLS: an anonymous bind on plain LDAP succeeds', async () => {
  const outcome = await bind('', '');
  assert.equal(outcome.resultCode, ResultCode.success);
  assert.equal(outcome.state, undefined, 'still anonymous');
});

test('REQUIRE_TLS: a bind with a name or a password on plain LDAP is confidentialityRequired', async () => {
  for (const [name, password] of [
    ['cn=alice,ou=users,dc=example,dc=com', 'alice-pw'],
    ['cn=alice,ou=users,dc=example,dc=com', ''],
    ['', 'alice-pw'],
  ] as const) {
    const outcome = await bind(name, password);
    assert.equal(outcome.resultCode, ResultCode.confidentialityRequired, `${name} / ${password.length}`);
    assert.equal(outcome.reason, 'tls_required');
  }
});
