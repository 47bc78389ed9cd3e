import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowSecrets, parseInt32, splitPasswordAndCode } from '../../src/core-api/mfa.js';

// A random 43-character base64url password without ';', like the upstream tests.
const pw = 'Xk3v_9QpLr2mZt8WcYh1NbFs7DgJu4Ae6oPiKlMnBvC';

describe('splitPasswordAndCode (reference table 5.2)', () => {
  const rows: [password: string, mfa: boolean, answer: string, code: string][] = [
    [pw, false, pw, pw],
    [`${pw};123456`, true, pw, '123456'],
    [`${pw};12345678`, true, pw, '12345678'],
    [`${pw};1234567890`, true, `${pw};1234567890`, ''],
    [pw, true, pw, ''],
    [`${pw};`, true, `${pw};`, ''],
    ['a;b;123456', true, 'a;b', '123456'],
    ['pw;12345a', true, 'pw;12345a', ''],
    ['pw;abcd1234', true, 'pw', 'abcd1234'],
    ['pw;abc-1234', true, 'pw;abc-1234', ''],
    ['pw;+12345', true, 'pw', '+12345'],
    ['pw;-12345', true, 'pw', '-12345'],
    // Derived edges of the same rule.
    [`${pw};123456`, false, `${pw};123456`, `${pw};123456`],
    ['pw;+-1234', true, 'pw;+-1234', ''],
    ['pw;12 456', true, 'pw;12 456', ''],
    ['pw;ABCDEFGH', true, 'pw', 'ABCDEFGH'],
    ['pw;abcdéfgh', true, 'pw;abcdéfgh', ''],
    [';123456', true, '', '123456'],
    ['', true, '', ''],
  ];
  for (const [password, mfa, answer, code] of rows) {
    test(`${password.replace(pw, '<pw>') || '(empty)'} mfa=${mfa}`, () => {
      assert.deepEqual(splitPasswordAndCode(password, mfa), { password: answer, code });
    });
  }

  test('`<pw>;` after a first call: answers unchanged (first call wins)', () => {
    const secrets = new FlowSecrets();
    secrets.set(pw, true);
    secrets.set(`${pw};`, true);
    assert.equal(secrets.password, pw);
    assert.equal(secrets.code, '');
    secrets.set(`other;123456`, true);
    assert.equal(secrets.password, pw);
  });

  test('a code typed after a prompt joins the password; a code already set stays', () => {
    const secrets = new FlowSecrets();
    secrets.set(pw, true);
    secrets.setCode('carol-static-1');
    assert.deepEqual([secrets.password, secrets.code], [pw, 'carol-static-1']);
    secrets.setCode('123456');
    assert.equal(secrets.code, 'carol-static-1');
  });
});

test('parseInt32 follows strconv.ParseInt(s, 10, 32)', () => {
  assert.equal(parseInt32('7'), 7);
  assert.equal(parseInt32('+7'), 7);
  assert.equal(parseInt32('-2147483648'), -2147483648);
  assert.equal(parseInt32('2147483647'), 2147483647);
  assert.equal(parseInt32('2147483648'), undefined);
  assert.equal(parseInt32('0x10'), undefined);
  assert.equal(parseInt32(''), undefined);
  assert.equal(parseInt32('1e3'), undefined);
  assert.equal(parseInt32(' 7'), undefined);
});
