/** The schema validator the API tests rely on must reject what the schemas reject. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { assertValidResponse, matchPath, schemaErrors } from '../../helpers/openapi-validate.js';

const pagination = { next: 0, previous: 0, count: 0, current: 1, total_pages: 1, start_index: 0, end_index: 0 };

describe('openapi-validate', () => {
  test('required, types, integers, enums, nullable, formats', () => {
    assert.deepEqual(schemaErrors('2026.2', 'GenericError', { detail: 'x' }), []);
    assert.match(schemaErrors('2026.2', 'GenericError', {}).join(), /missing required property detail/);
    assert.match(schemaErrors('2026.2', 'UserSelfGroups', { name: 1, pk: 'x' }).join(), /expected string/);
    assert.match(schemaErrors('2026.2', 'PartialUser', { pk: 1.5, username: 'a', name: 'b', uid: 'c' }).join(), /not an integer/);
    assert.match(schemaErrors('2026.2', 'OutpostTypeEnum', 'ftp').join(), /not in enum/);
    assert.match(schemaErrors('2026.2', 'RelatedGroup', { pk: 'nope', name: 'g', group_uuid: 'nope' }).join(), /not a uuid/);
    assert.match(schemaErrors('2026.2', 'PartialUser', { pk: 1, username: 'a', name: null, uid: 'c' }).join(), /null not allowed/);
    assert.deepEqual(schemaErrors('2026.2', 'PartialUser', { pk: 1, username: 'a', name: 'b', uid: 'c', last_login: null }), []);
  });

  test('properties outside the schema are errors (catches fields of the other generation)', () => {
    const outpost = {
      pk: '0a6c3a2e-5d0b-4c44-9f1e-3c1f2d7a9b01',
      name: 'o',
      type: 'ldap',
      providers: [],
      providers_obj: [],
      service_connection_obj: null,
      refresh_interval_s: 300,
      token_identifier: 't',
      config: {},
    };
    assert.deepEqual(schemaErrors('2026.2', 'Outpost', outpost), []);
    assert.match(schemaErrors('2023.10', 'Outpost', outpost).join(), /refresh_interval_s is not in the schema/);
  });

  test('oneOf with a discriminator picks the mapped schema', () => {
    assert.deepEqual(schemaErrors('2026.2', 'ChallengeTypes', { component: 'xak-flow-redirect', to: '/' }), []);
    assert.match(schemaErrors('2026.2', 'ChallengeTypes', { component: 'xak-flow-redirect' }).join(), /missing required property to/);
    assert.match(schemaErrors('2026.2', 'ChallengeTypes', { component: 'nope' }).join(), /not in mapping/);
  });

  test('responses are checked per operation and status', () => {
    assert.equal(matchPath('2026.2', '/core/users/me/'), '/core/users/me/');
    assert.equal(matchPath('2026.2', '/core/users/12/'), '/core/users/{id}/');
    assert.equal(matchPath('2023.10', '/outposts/ldap/1/check_access/'), undefined);
    assertValidResponse('2026.2', { method: 'GET', path: '/api/v3/outposts/instances/', status: 200, body: { pagination, results: [], autocomplete: {} } });
    assert.throws(() => assertValidResponse('2026.2', { method: 'GET', path: '/api/v3/outposts/instances/', status: 200, body: { pagination, results: [] } }));
    assert.throws(() => assertValidResponse('2023.10', { method: 'GET', path: '/api/v3/outposts/instances/', status: 200, body: { pagination, results: [], autocomplete: {} } }));
    assert.throws(() => assertValidResponse('2026.2', { method: 'GET', path: '/api/v3/outposts/instances/', status: 418, body: {} }));
    assert.throws(() => assertValidResponse('2026.2', { method: 'DELETE', path: '/api/v3/outposts/instances/0a6c3a2e-5d0b-4c44-9f1e-3c1f2d7a9b01/', status: 204, body: {} }));
    assertValidResponse('2026.2', { method: 'GET', path: '/api/v3/core/users/1/', status: 404, body: { detail: 'Not found.' } });
  });
});
