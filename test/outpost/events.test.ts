import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { coreConnectionConfig } from '../../src/config/env.js';
import { buildEventUrl, buildHelloArgs, EventLink, type EventLinkOptions } from '../../src/outpost/events.js';
import { captureLogs, FakeCoreWs, waitFor } from './helpers.js';

const PK = '23470845-7263-4fe3-bd79-ec1d7bf77d77';
const UUID = '0b7e7c4e-9a59-4d0c-9d36-2f4c5d0e9a11';

describe('buildEventUrl (reference §5.3)', () => {
  const cases: Array<[string, string, string, Record<string, string>, string]> = [
    ['host query', 'http://localhost:9000/', 'foo=bar', {}, `ws://localhost:9000/ws/outpost/${PK}/?foo=bar`],
    ['host query plus extra, sorted', 'http://localhost:9000/', 'foo=bar', { bar: 'baz' }, `ws://localhost:9000/ws/outpost/${PK}/?bar=baz&foo=bar`],
    ['sub-path', 'http://localhost:9000/foo/bar/', '', {}, `ws://localhost:9000/foo/bar/ws/outpost/${PK}/`],
    ['https to wss', 'https://ak.example/', '', { instance_uuid: UUID }, `wss://ak.example/ws/outpost/${PK}/?instance_uuid=${UUID}`],
    [
      'reconnect keeps the host query',
      'https://ak.example/sub/',
      'x=1',
      { attempt: '2', instance_uuid: UUID },
      `wss://ak.example/sub/ws/outpost/${PK}/?attempt=2&instance_uuid=${UUID}&x=1`,
    ],
    ['Go query escaping', 'http://h/', 'a=b c&t=~x/y', {}, `ws://h/ws/outpost/${PK}/?a=b+c&t=~x%2Fy`],
  ];
  for (const [name, baseUrl, query, extra, expected] of cases) {
    test(name, () => assert.equal(buildEventUrl({ baseUrl, query }, PK, extra), expected));
  }
});

describe('event link', () => {
  let core: FakeCoreWs;
  let link: EventLink | undefined;
  const events = { triggers: 0, providerSpecific: [] as Array<Record<string, unknown>>, sessionEnds: [] as string[], states: [] as boolean[] };

  before(async () => {
    core = await FakeCoreWs.start();
  });
  after(async () => {
    await core.close();
  });
  afterEach(async () => {
    await link?.close();
    link = undefined;
    core.reject = undefined;
    core.ack = true;
    core.connections.length = 0;
    core.rejected.length = 0;
    events.triggers = 0;
    events.providerSpecific.length = 0;
    events.sessionEnds.length = 0;
    events.states.length = 0;
  });

  function startLink(overrides: Partial<EventLinkOptions> = {}, logs = captureLogs()): EventLink {
    const { timing, ...rest } = overrides;
    link = new EventLink({
      core: core.core('/sub/', 'foo=bar', 'tok-SECRET-123'),
      outpostPk: PK,
      instanceUuid: UUID,
      userAgent: 'goauthentik.io/outpost/2026.2.2',
      helloArgs: () => buildHelloArgs({ version: '2026.2.2', buildHash: 'abc', instanceUuid: UUID }),
      logger: logs.root.child('authentik.outpost.events'),
      handlers: {
        triggerUpdate: () => void (events.triggers += 1),
        providerSpecific: (args) => void events.providerSpecific.push(args),
        sessionEnd: (id) => void events.sessionEnds.push(id),
      },
      onConnectionChange: (up) => void events.states.push(up),
      ...rest,
      timing: { helloIntervalMs: 10_000, backoffInitialMs: 10, backoffMaxMs: 40, ...timing },
    });
    link.start();
    return link;
  }

  test('first connection: URL without attempt, headers, HELLO args', async () => {
    startLink();
    await waitFor(() => (core.last?.frames.length ?? 0) >= 1, 'first HELLO');
    const conn = core.last;
    assert.ok(conn);
    assert.equal(conn.url, `/sub/ws/outpost/${PK}/?foo=bar&instance_uuid=${UUID}`);
    assert.equal(conn.headers['authorization'], 'Bearer tok-SECRET-123');
    assert.equal(conn.headers['user-agent'], 'goauthentik.io/outpost/2026.2.2');
    const hello = conn.frames[0];
    assert.equal(hello?.instruction, 1);
    assert.deepEqual(Object.keys(hello?.args ?? {}).sort(), [
      'buildHash', 'fipsEnabled', 'golangVersion', 'hostname', 'opensslEnabled', 'opensslVersion', 'uuid', 'version',
    ]);
    assert.equal(hello?.args['version'], '2026.2.2');
    assert.equal(hello?.args['buildHash'], 'abc');
    assert.equal(hello?.args['uuid'], UUID);
    assert.equal(hello?.args['golangVersion'], `node ${process.version}`);
    assert.equal(hello?.args['opensslVersion'], process.versions.openssl);
    assert.equal(hello?.args['fipsEnabled'], false);
    assert.equal(hello?.args['hostname'], hostname());
    assert.equal(link?.connected, true);
    assert.deepEqual(events.states, [true]);
  });

  test('reconnect after the core drops the socket: attempt=1, same instance_uuid, host query kept', async () => {
    startLink();
    await waitFor(() => core.connections.length === 1 && link?.connected === true, 'first connection');
    core.last?.socket.terminate();
    await waitFor(() => core.connections.length === 2 && (core.last?.frames.length ?? 0) >= 1, 'reconnect with HELLO');
    assert.equal(core.last?.url, `/sub/ws/outpost/${PK}/?attempt=1&foo=bar&instance_uuid=${UUID}`);
    assert.deepEqual(events.states, [true, false, true]);
    // A successful reconnect starts counting again.
    core.last?.socket.terminate();
    await waitFor(() => core.connections.length === 3, 'second reconnect');
    assert.equal(core.last?.url, `/sub/ws/outpost/${PK}/?attempt=1&foo=bar&instance_uuid=${UUID}`);
  });

  test('refused handshakes count attempts up with back-off and log the wait', async () => {
    core.reject = 403;
    const logs = captureLogs();
    startLink({}, logs);
    await waitFor(() => core.rejected.length >= 4, 'four refused attempts');
    assert.equal(core.rejected[0], `/sub/ws/outpost/${PK}/?foo=bar&instance_uuid=${UUID}`);
    assert.match(core.rejected[1] ?? '', /[?&]attempt=1&/);
    assert.match(core.rejected[2] ?? '', /[?&]attempt=2&/);
    assert.match(core.rejected[3] ?? '', /[?&]attempt=3&/);
    const waits = logs.events().filter((e) => /^waiting \d+ seconds to reconnect$/.test(String(e['event'])));
    assert.deepEqual(waits.slice(0, 3).map((e) => e['delayMs']), [10, 20, 40]);
    assert.equal(link?.connected, false);
    assert.deepEqual(events.states, []);
    core.reject = undefined;
    await waitFor(() => link?.connected === true, 'connected once the core accepts');
  });

  test('HELLO repeats on the interval', async () => {
    startLink({ timing: { helloIntervalMs: 20 } });
    await waitFor(() => (core.last?.frames.filter((f) => f.instruction === 1).length ?? 0) >= 3, 'three HELLOs');
  });

  test('instructions: ACK ignored, TRIGGER_UPDATE, PROVIDER_SPECIFIC, SESSION_END; junk ignored', async () => {
    const logs = captureLogs();
    startLink({}, logs);
    await waitFor(() => link?.connected === true, 'connected');
    core.send({ instruction: 0, args: {} });
    core.send('not json');
    core.send({ no: 'instruction' });
    core.send({ instruction: 99, args: {} });
    core.send({ instruction: 4, args: { type: 'event.session.end' } });
    core.send({ instruction: 4, args: { session_id: 'x'.repeat(1000) } });
    core.send({ instruction: 2, args: {} });
    core.send({ instruction: 3, args: { type: 'rac', x: 1 } });
    core.send({ instruction: 4, args: { type: 'event.session.end', session_id: 'ab12' } });
    await waitFor(() => events.sessionEnds.length === 1, 'session end');
    assert.equal(events.triggers, 1);
    assert.deepEqual(events.providerSpecific, [{ type: 'rac', x: 1 }]);
    assert.deepEqual(events.sessionEnds, ['ab12']);
    assert.equal(link?.connected, true, 'junk does not drop the link');
    assert.equal(core.connections.length, 1);
    assert.ok(logs.events().some((e) => String(e['event']).startsWith('malformed event message')));
  });

  test('frames above maxPayload close the link; it reconnects', async () => {
    startLink({ timing: { maxPayloadBytes: 1024 } });
    await waitFor(() => link?.connected === true, 'connected');
    core.send({ instruction: 3, args: { blob: 'x'.repeat(4096) } });
    await waitFor(() => core.connections.length === 2, 'reconnected');
    assert.deepEqual(events.providerSpecific, []);
  });

  test('a silent core is treated as gone', async () => {
    core.ack = false;
    startLink({ timing: { helloIntervalMs: 20, silenceTimeoutMs: 50 } });
    await waitFor(() => core.connections.length >= 2, 'reconnect after silence');
  });

  test('close() sends 1000 and stops reconnecting', async () => {
    const l = startLink();
    await waitFor(() => l.connected, 'connected');
    await l.close();
    link = undefined;
    await waitFor(() => core.last?.closed === true, 'server saw the close');
    assert.equal(core.last?.closeCode, 1000);
    assert.equal(l.connected, false);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(core.connections.length, 1);
  });

  test('close() during back-off cancels the pending reconnect', async () => {
    core.reject = 403;
    const l = startLink({ timing: { backoffInitialMs: 30 } });
    await waitFor(() => core.rejected.length === 1, 'first refusal');
    await l.close();
    link = undefined;
    core.reject = undefined;
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(core.connections.length, 0);
  });

  test('back-off resets only after a stable connection', async () => {
    const unstable = captureLogs();
    startLink({}, unstable);
    await waitFor(() => link?.connected === true, 'connected');
    core.last?.socket.terminate();
    await waitFor(() => core.connections.length === 2 && link?.connected === true, 'reconnected');
    core.last?.socket.terminate();
    await waitFor(() => core.connections.length === 3 && link?.connected === true, 'reconnected again');
    const delays = (logs: ReturnType<typeof captureLogs>) =>
      logs.events().filter((e) => String(e['event']).startsWith('waiting')).map((e) => e['delayMs']);
    assert.deepEqual(delays(unstable), [10, 20]);
    await link?.close();
    core.connections.length = 0;

    const stable = captureLogs();
    startLink({ timing: { stableAfterMs: 0 } }, stable);
    await waitFor(() => link?.connected === true, 'connected');
    core.last?.socket.terminate();
    await waitFor(() => core.connections.length === 2 && link?.connected === true, 'reconnected');
    core.last?.socket.terminate();
    await waitFor(() => core.connections.length === 3 && link?.connected === true, 'reconnected again');
    assert.deepEqual(delays(stable), [10, 10]);
  });
});

describe('event link over a unix socket', () => {
  test('unix:// host: connects through the socket with Host localhost', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ako-ws-'));
    const socketPath = join(dir, 'core.sock');
    const http = createServer();
    const wss = new WebSocketServer({ server: http });
    const seen: Array<{ url: string | undefined; host: string | undefined; auth: string | undefined }> = [];
    wss.on('connection', (socket, req) => {
      seen.push({ url: req.url, host: req.headers.host, auth: req.headers.authorization });
      socket.on('message', () => socket.send(JSON.stringify({ instruction: 0, args: {} })));
    });
    await new Promise<void>((r) => http.listen(socketPath, r));
    const link = new EventLink({
      core: coreConnectionConfig(`unix://${socketPath}?q=1`, 'tok', { insecure: false, timeoutMs: 1000 }),
      outpostPk: PK,
      instanceUuid: UUID,
      userAgent: 'ua',
      helloArgs: () => ({}),
      logger: captureLogs().root.child('authentik.outpost.events'),
      handlers: { triggerUpdate: () => {}, providerSpecific: () => {}, sessionEnd: () => {} },
    });
    try {
      link.start();
      await waitFor(() => link.connected, 'connected over the socket');
      assert.deepEqual(seen, [{ url: `/ws/outpost/${PK}/?instance_uuid=${UUID}&q=1`, host: 'localhost', auth: 'Bearer tok' }]);
    } finally {
      await link.close();
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      await new Promise<void>((r) => http.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
