import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { LogRoot, redactSecrets } from '../../src/observability/log.js';

function capture(): { lines: () => Array<Record<string, unknown>>; destination: { write(s: string): void } } {
  const raw: string[] = [];
  return {
    destination: { write: (s: string) => void raw.push(s) },
    lines: () => raw.join('').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('log', () => {
  test('reference field names: event, timestamp (ISO), level label, logger', () => {
    const out = capture();
    const root = new LogRoot({ level: 'debug', destination: out.destination });
    root.child('authentik.outpost.ldap', { provider: 'p1' }).warn({ bindDN: 'cn=x' }, 'Bind request');
    const [line] = out.lines();
    assert.ok(line);
    assert.equal(line['event'], 'Bind request');
    assert.equal(line['level'], 'warning');
    assert.equal(line['logger'], 'authentik.outpost.ldap');
    assert.equal(line['provider'], 'p1');
    assert.equal(line['bindDN'], 'cn=x');
    assert.match(String(line['timestamp']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(line['msg'], undefined);
    assert.equal(line['pid'], undefined);
    assert.equal(line['time'], undefined);
  });

  test('one logger field per line', () => {
    const out = capture();
    const root = new LogRoot({ destination: out.destination });
    root.logger.info('root');
    root.child('authentik.outpost.events').info('child');
    const raw = out.lines();
    assert.deepEqual(raw.map((l) => l['logger']), ['authentik.outpost', 'authentik.outpost.events']);
  });

  test('setLevel reaches loggers created earlier, including grandchildren', () => {
    const out = capture();
    const root = new LogRoot({ level: 'info', destination: out.destination });
    const child = root.child('authentik.outpost.radius');
    const grandchild = child.child({ requestId: 'r1' });
    child.debug('hidden');
    grandchild.debug('hidden');
    root.setLevel('debug');
    assert.equal(root.level, 'debug');
    child.debug('shown-child');
    grandchild.debug('shown-grandchild');
    root.setLevel('warning');
    child.info('hidden');
    child.warn('shown-warn');
    root.setLevel('error');
    grandchild.warn('hidden');
    assert.deepEqual(out.lines().map((l) => l['event']), ['shown-child', 'shown-grandchild', 'shown-warn']);
  });

  test('secret-looking fields are redacted', () => {
    const out = capture();
    const root = new LogRoot({ level: 'trace', destination: out.destination });
    root.child('t').info(
      {
        password: 'pw-SECRET',
        token: 'tok-SECRET',
        provider: { sharedSecret: 'radius-SECRET', name: 'visible' },
        headers: { authorization: 'Bearer tok-SECRET', cookie: 'authentik_session=SECRET' },
        pair: { privateKeyPem: '-----BEGIN PRIVATE KEY----- SECRET' },
      },
      'event with secrets',
    );
    const text = JSON.stringify(out.lines());
    assert.ok(!text.includes('SECRET'), text);
    assert.ok(text.includes('visible'));
    assert.ok(text.includes('[redacted]'));
  });

  test('redaction reaches into arrays and nested objects, covers bindings, and leaves the caller\'s object alone', () => {
    const out = capture();
    const root = new LogRoot({ level: 'trace', destination: out.destination });
    const fields = {
      providers: [{ name: 'one', sharedSecret: 'a-SECRET' }, { name: 'two', nested: { deeper: { 'set-cookie': ['b-SECRET'] } } }],
      plain: 'kept',
    };
    const snapshot = structuredClone(fields);
    root.child('t', { token: 'binding-SECRET', request: 7 }).info(fields, 'nested');
    assert.deepEqual(fields, snapshot, 'the logged object was not changed');
    const [line] = out.lines();
    const text = JSON.stringify(line);
    assert.ok(!text.includes('SECRET'), text);
    assert.deepEqual(line?.['providers'], [{ name: 'one', sharedSecret: '[redacted]' }, { name: 'two', nested: { deeper: { 'set-cookie': '[redacted]' } } }]);
    assert.equal(line?.['plain'], 'kept');
    assert.equal(line?.['token'], '[redacted]');
    assert.equal(line?.['request'], 7);
    // A child made on a pino logger directly (not through LogRoot.child).
    root.child('t').child({ password: 'direct-SECRET' }).info('direct child');
    assert.equal(out.lines()[1]?.['password'], '[redacted]');
  });

  test('redactSecrets returns the same object when nothing is secret', () => {
    const fields = { client: '127.0.0.1', list: [1, { a: 2 }], buffer: Buffer.from('password') };
    assert.equal(redactSecrets(fields), fields);
  });
});
