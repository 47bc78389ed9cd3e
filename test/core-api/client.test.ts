import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, CoreError } from '../../src/errors.js';
import { createCoreClient, type CoreClient, type CoreClientOptions } from '../../src/core-api/client.js';
import type { DirectoryGroup, DirectoryUser } from '../../src/core-api/model.js';
import { USER_AGENT } from '../../src/version.js';
import { startFakeCore, type FakeCore, type FakeCoreOptions } from '../helpers/fake-core-http.js';

const TOKEN = 'outpost-token';

function radius(pk: number): Record<string, unknown> {
  return { pk, name: `r${pk}`, application_slug: `app${pk}`, auth_flow_slug: 'flow', client_networks: '0.0.0.0/0', shared_secret: 's', mfa_support: true, certificate: null };
}

function user(pk: number): Record<string, unknown> {
  return { pk, username: `user${pk}`, name: `User ${pk}`, is_active: true, is_superuser: false, groups_obj: [{ pk: 'g1', num_pk: 1, name: 'staff' }], attributes: {}, uid: `uid${pk}`, email: '' };
}

const isCore = (kind: string, status?: number) => (err: unknown) =>
  err instanceof CoreError && err.kind === kind && (status === undefined || err.status === status);

async function withCore(
  coreOptions: FakeCoreOptions,
  clientOptions: Partial<CoreClientOptions>,
  run: (core: FakeCore, client: CoreClient) => Promise<void>,
): Promise<void> {
  const core = await startFakeCore({ token: TOKEN, ...coreOptions });
  const client = createCoreClient({ host: core.host, token: TOKEN, insecure: false, timeoutMs: 5_000, pageRetryDelayMs: 0, ...clientOptions });
  try {
    await run(core, client);
  } finally {
    await client.close();
    await core.close();
  }
}

describe('createCoreClient', () => {
  test('rejects a missing host or token naming the variable', () => {
    assert.throws(() => createCoreClient({ host: '', token: 't', insecure: false, timeoutMs: 1000 }), (e: unknown) => e instanceof ConfigError && e.variable === 'AUTHENTIK_HOST');
    assert.throws(() => createCoreClient({ host: 'http://x', token: '', insecure: false, timeoutMs: 1000 }), (e: unknown) => e instanceof ConfigError && e.variable === 'AUTHENTIK_TOKEN');
  });

  test('sub-path host: API requests go under <path>api/v3', async () => {
    await withCore({}, {}, async (core, _client) => {
      const sub = createCoreClient({ host: `${core.host}/authentik`, token: TOKEN, insecure: false, timeoutMs: 2000 });
      try {
        await assert.rejects(sub.rootConfig(), isCore('http_status', 404));
        assert.equal(core.requests.at(-1)?.target, '/authentik/api/v3/root/config/');
      } finally {
        await sub.close();
      }
    });
  });
});

describe('controller API calls', () => {
  test('outposts: Bearer token, User-Agent, Accept, page=1&page_size=100; 2026 generation', async () => {
    await withCore({}, {}, async (core, client) => {
      const outposts = await client.listOutposts();
      assert.equal(outposts.length, 1);
      assert.equal(outposts[0]?.refreshIntervalS, 300);
      assert.equal(client.generation, '2026.2');
      const req = core.requests[0];
      assert.ok(req);
      assert.equal(req.target, '/api/v3/outposts/instances/?page=1&page_size=100');
      assert.equal(req.headers.authorization, `Bearer ${TOKEN}`);
      assert.equal(req.headers['user-agent'], USER_AGENT);
      assert.equal(req.headers.accept, 'application/json');
      assert.equal(req.headers['x-authentik-outpost-token'], undefined);
      assert.equal((await client.rootConfig()).cacheTimeoutFlows, 300);
    });
  });

  test('2023.10 core detected from the outpost (no refresh_interval_s) and LDAP search_group', async () => {
    const ldap = { pk: 1, name: 'l', base_dn: 'dc=x', bind_flow_slug: 'f', application_slug: 'a', search_group: null };
    await withCore({ generation: '2023.10', ldapProviders: [ldap] }, {}, async (_core, client) => {
      assert.equal(client.generation, '2026.2');
      const [outpost] = await client.listOutposts();
      assert.equal(outpost?.refreshIntervalS, 300);
      assert.equal(client.generation, '2023.10');
    });
    await withCore({ ldapProviders: [ldap] }, {}, async (_core, client) => {
      const providers = await client.listLdapProviders();
      assert.equal(providers[0]?.searchGroup, null);
      assert.equal(client.generation, '2023.10');
    });
  });

  test('wrong token: HTTP 403 becomes CoreError http_status', async () => {
    await withCore({ token: 'other' }, {}, async (_core, client) => {
      await assert.rejects(client.listOutposts(), isCore('http_status', 403));
    });
  });

  test('unix socket host: Host localhost, requests over the socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ako-core-'));
    try {
      await withCore({ socketPath: join(dir, 'core.sock') }, {}, async (core, client) => {
        assert.match(core.host, /^unix:\/\//);
        assert.equal((await client.listOutposts()).length, 1);
        assert.equal(core.requests[0]?.headers.host, 'localhost');
        assert.equal(core.requests[0]?.target, '/api/v3/outposts/instances/?page=1&page_size=100');
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('slow core: request deadline -> CoreError timeout', async () => {
    await withCore({}, { timeoutMs: 100 }, async (core, client) => {
      core.delayMs = 2_000;
      await assert.rejects(client.rootConfig(), isCore('timeout'));
    });
  });

  test('closed port -> CoreError transport', async () => {
    const port = await closedPort();
    const client = createCoreClient({ host: `http://127.0.0.1:${port}`, token: TOKEN, insecure: false, timeoutMs: 2000 });
    try {
      await assert.rejects(client.rootConfig(), isCore('transport'));
    } finally {
      await client.close();
    }
  });

  test('a 2xx answer that is empty, not JSON or chunked JSON: refused or read as the typed body', async () => {
    const server = http.createServer((req, res) => {
      if (req.url === '/api/v3/root/config/') res.writeHead(200, { 'content-type': 'application/json' }).end('{"cache_timeout_flows": 7');
      else if (req.url === '/api/v3/core/users/5/') res.writeHead(200, { 'content-length': '0' }).end();
      else {
        // No Content-Length: openapi-fetch reads the text and parses it itself.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"pk": "p", "fingerprint_sha256": ');
        res.end('"ff"}');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = createCoreClient({ host: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: TOKEN, insecure: false, timeoutMs: 2000 });
    try {
      await assert.rejects(client.rootConfig(), isCore('unexpected_response'));
      await assert.rejects(client.getUser(5), isCore('unexpected_response'));
      assert.deepEqual(await client.certificate('kp'), { fingerprintSha256: 'ff' });
    } finally {
      await client.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  test('certificates: fingerprint, certificate and key data', async () => {
    const certificates = { kp1: { fingerprint: 'ab:cd', certificate: '-----BEGIN CERTIFICATE-----\nx\n', key: '-----BEGIN PRIVATE KEY-----\ny\n' } };
    await withCore({ certificates }, {}, async (core, client) => {
      assert.deepEqual(await client.certificate('kp1'), { fingerprintSha256: 'ab:cd' });
      const pair = await client.certificatePair('kp1');
      assert.equal(pair.certificatePem, certificates.kp1.certificate);
      assert.equal(pair.privateKeyPem, certificates.kp1.key);
      assert.ok(core.requestsTo('/crypto/certificatekeypairs/kp1/view_private_key/').length === 1);
      await assert.rejects(client.certificate('missing'), isCore('http_status', 404));
    });
  });
});

describe('paginator (reference §5.5)', () => {
  test('one page, next=0, one result', async () => {
    await withCore({ radiusProviders: [radius(1)] }, {}, async (core, client) => {
      const list = await client.listRadiusProviders();
      assert.deepEqual(list.map((p) => p.pk), [1]);
      assert.equal(core.requestsTo('/outposts/radius/').length, 1);
    });
  });

  test('two pages: concatenated, requests page=1,2 with page_size=100', async () => {
    const items = Array.from({ length: 150 }, (_, i) => radius(i + 1));
    await withCore({ radiusProviders: items }, {}, async (core, client) => {
      const list = await client.listRadiusProviders();
      assert.equal(list.length, 150);
      assert.equal(list[149]?.pk, 150);
      const reqs = core.requestsTo('/outposts/radius/');
      assert.deepEqual(reqs.map((r) => [r.query.get('page'), r.query.get('page_size')]), [['1', '100'], ['2', '100']]);
    });
  });

  test('page-1 error fails the listing at once', async () => {
    await withCore({ radiusProviders: [radius(1)] }, {}, async (core, client) => {
      core.failures.push({ path: '/outposts/radius/', page: 1, status: 400 });
      await assert.rejects(client.listRadiusProviders(), isCore('http_status', 400));
      assert.equal(core.requestsTo('/outposts/radius/').length, 1);
    });
  });

  test('a later-page error is retried (bounded) and then succeeds', async () => {
    const items = Array.from({ length: 120 }, (_, i) => radius(i + 1));
    await withCore({ radiusProviders: items }, {}, async (core, client) => {
      core.failures.push({ path: '/outposts/radius/', page: 2, status: 502, times: 2 });
      assert.equal((await client.listRadiusProviders()).length, 120);
      assert.deepEqual(core.requestsTo('/outposts/radius/').map((r) => r.query.get('page')), ['1', '2', '2', '2']);
    });
  });

  test('a later page failing past 3 retries fails the whole listing (no infinite loop)', async () => {
    const items = Array.from({ length: 120 }, (_, i) => radius(i + 1));
    await withCore({ radiusProviders: items }, {}, async (core, client) => {
      core.failures.push({ path: '/outposts/radius/', page: 2, status: 500, times: 100 });
      await assert.rejects(client.listRadiusProviders(), (err: unknown) => isCore('http_status', 500)(err) && /page 2/.test((err as Error).message));
      assert.equal(core.requestsTo('/outposts/radius/').length, 1 + 4);
    });
  });

  test('a malformed item fails the listing as unexpected_response', async () => {
    await withCore({ radiusProviders: [radius(1), { pk: 'two' }] }, {}, async (_core, client) => {
      await assert.rejects(client.listRadiusProviders(), isCore('unexpected_response'));
    });
  });
});

describe('directory streaming', () => {
  test('users: include_groups=true, filters, groups_by_name repeated, one callback per page', async () => {
    const users = Array.from({ length: 5 }, (_, i) => user(i + 1));
    await withCore({ directoryUsers: users }, {}, async (core, client) => {
      const pages: DirectoryUser[][] = [];
      await client.forEachUserPage({ username: 'user1', email: 'a@b', name: 'N', groupsByName: ['staff', 'ops'], pageSize: 2 }, (page) => {
        pages.push(page);
      });
      assert.deepEqual(pages.map((p) => p.length), [2, 2, 1]);
      assert.deepEqual(pages[0]?.[0]?.groups, [{ pk: 'g1', name: 'staff' }]);
      const first = core.requestsTo('/core/users/')[0];
      assert.ok(first);
      assert.equal(first.query.get('include_groups'), 'true');
      assert.equal(first.query.get('username'), 'user1');
      assert.equal(first.query.get('email'), 'a@b');
      assert.equal(first.query.get('name'), 'N');
      assert.deepEqual(first.query.getAll('groups_by_name'), ['staff', 'ops']);
      assert.equal(first.query.get('page_size'), '2');
    });
  });

  test('readAhead: the next page is asked for while the callback works on this one; without it, only after', async () => {
    const users = Array.from({ length: 5 }, (_, i) => user(i + 1));
    await withCore({ directoryUsers: users }, {}, async (core, client) => {
      const seen = (): number => core.requestsTo('/core/users/').length;
      const settle = async (atLeast: number): Promise<number> => {
        for (let i = 0; i < 100 && seen() < atLeast; i++) await new Promise((resolve) => setTimeout(resolve, 5));
        // A little longer, so a request that should not happen has its chance to show up.
        await new Promise((resolve) => setTimeout(resolve, 20));
        return seen();
      };
      const sequential: number[] = [];
      await client.forEachUserPage({ pageSize: 2 }, async () => {
        sequential.push(await settle(0));
      });
      assert.deepEqual(sequential, [1, 2, 3]);
      const before = seen();
      const ahead: number[] = [];
      await client.forEachUserPage({ pageSize: 2, readAhead: true }, async (page) => {
        const index = ahead.length + 1;
        ahead.push((await settle(before + Math.min(index + 1, 3))) - before);
        assert.equal(page.length, index < 3 ? 2 : 1);
      });
      assert.deepEqual(ahead, [2, 3, 3]);
      assert.deepEqual(core.requestsTo('/core/users/').slice(before).map((r) => r.query.get('page')), ['1', '2', '3']);
    });
  });

  test('readAhead: a next page that keeps failing fails the listing after its retries, once the callback is done', async () => {
    const users = Array.from({ length: 5 }, (_, i) => user(i + 1));
    await withCore({ directoryUsers: users }, {}, async (core, client) => {
      core.failures.push({ path: '/core/users/', page: 2, status: 500, times: 100 });
      let calls = 0;
      await assert.rejects(
        client.forEachUserPage({ pageSize: 2, readAhead: true }, async () => {
          calls++;
          await new Promise((resolve) => setTimeout(resolve, 30));
        }),
        (err: unknown) => isCore('http_status', 500)(err) && /page 2/.test((err as Error).message),
      );
      assert.equal(calls, 1);
      assert.equal(core.requestsTo('/core/users/').length, 1 + 4);
    });
  });

  test('groups: include_users/children/parents and member filters; a failing callback is not retried', async () => {
    const groups = [{ pk: 'g1', num_pk: 1, name: 'staff', users_obj: [{ pk: 1, username: 'user1' }], parents_obj: null, children_obj: [] }];
    await withCore({ directoryGroups: groups }, {}, async (core, client) => {
      const seen: DirectoryGroup[] = [];
      await client.forEachGroupPage({ name: 'staff', membersByUsername: ['user1'], membersByPk: [1, 2] }, (page) => {
        seen.push(...page);
      });
      assert.deepEqual(seen[0]?.users, [{ pk: 1, username: 'user1' }]);
      const q = core.requestsTo('/core/groups/')[0]?.query;
      assert.ok(q);
      for (const key of ['include_users', 'include_children', 'include_parents']) assert.equal(q.get(key), 'true');
      assert.equal(q.get('name'), 'staff');
      assert.deepEqual(q.getAll('members_by_username'), ['user1']);
      assert.deepEqual(q.getAll('members_by_pk'), ['1', '2']);
      await assert.rejects(
        client.forEachGroupPage({}, () => {
          throw new Error('consumer failed');
        }),
        /consumer failed/,
      );
      assert.equal(core.requestsTo('/core/groups/').length, 2);
    });
  });

  test('getUser', async () => {
    await withCore({ directoryUsers: [user(7)] }, {}, async (_core, client) => {
      assert.equal((await client.getUser(7)).username, 'user7');
      await assert.rejects(client.getUser(8), isCore('http_status', 404));
    });
  });
});

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
