import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  DJANGO_DEFAULT_ITERATIONS,
  hashPassword,
  isSupportedHash,
  parseDjangoHash,
  verifyPassword,
} from '../../../src/embedded-core/directory/passwords.js';

// Django's own test vector (tests/auth_tests/test_hashers.py, Django 3.2: make_password('lètmein', 'seasalt')).
const DJANGO_VECTOR = 'pbkdf2_sha256$260000$seasalt$YlZ2Vggtqdc61YjArZuoApoBh9JNGYoDRBUGu6tcJQo=';
// Computed with python3 hashlib.pbkdf2_hmac('sha1', ...).
const SHA1_VECTOR = 'pbkdf2_sha1$260000$seasalt2$wAibXvW6jgvatCdONi6SMJ6q7mI=';

describe('Django password hashes', () => {
  test('verifies Django test vectors and rejects wrong passwords', async () => {
    assert.equal(await verifyPassword('lètmein', DJANGO_VECTOR), true);
    assert.equal(await verifyPassword('letmein', DJANGO_VECTOR), false);
    assert.equal(await verifyPassword('lètmein ', DJANGO_VECTOR), false);
    assert.equal(await verifyPassword('lètmein', SHA1_VECTOR), true);
    assert.equal(await verifyPassword('wrong', SHA1_VECTOR), false);
  });

  test('unknown algorithms, unusable and malformed hashes never verify', async () => {
    const cases = [
      null,
      '',
      '!unusable-password-marker',
      'argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdA$aGFzaA',
      'bcrypt_sha256$$2b$12$abcdefghijklmnopqrstuv',
      'md5$seasalt$0123456789abcdef0123456789abcdef',
      'pbkdf2_sha256$0$seasalt$YlZ2Vggtqdc61YjArZuoApoBh9JNGYoDRBUGu6tcJQo=',
      'pbkdf2_sha256$260000$$YlZ2Vggtqdc61YjArZuoApoBh9JNGYoDRBUGu6tcJQo=',
      'pbkdf2_sha256$260000$seasalt$YlZ2Vggtqdc61YjArZuoApoBh9JNGYoDRBUG',
      'pbkdf2_sha256$99999999999$seasalt$YlZ2Vggtqdc61YjArZuoApoBh9JNGYoDRBUGu6tcJQo=',
      'pbkdf2_sha256$260000$seasalt$YlZ2Vggtqdc61YjArZuoApoBh9JNGYoDRBUGu6tcJQo=$extra',
    ];
    for (const encoded of cases) {
      assert.equal(await verifyPassword('lètmein', encoded), false, String(encoded));
      if (encoded !== null) assert.equal(isSupportedHash(encoded), false, encoded);
    }
  });

  test('hashPassword produces Django format that Django (python3 hashlib) agrees with', async () => {
    const encoded = await hashPassword('correct horse', 1000, 'aB3dE5gH7jK9');
    assert.equal(encoded, 'pbkdf2_sha256$1000$aB3dE5gH7jK9$l5wCLitS+gPECoZvrloSwfa1orkgrCLpDcOR8ZZRMGI=');
    const random = await hashPassword('p@ss wörd', 50);
    const parsed = parseDjangoHash(random);
    assert.ok(parsed);
    assert.equal(parsed.iterations, 50);
    assert.match(parsed.salt, /^[A-Za-z0-9]{22}$/);
    assert.equal(await verifyPassword('p@ss wörd', random), true);
    assert.equal(await verifyPassword('p@ss word', random), false);
    const python = spawnSync('python3', [
      '-c',
      'import sys,hashlib,base64;a,i,s,h=sys.argv[1].split("$");print(base64.b64encode(hashlib.pbkdf2_hmac("sha256",sys.argv[2].encode(),s.encode(),int(i))).decode()==h)',
      random,
      'p@ss wörd',
    ]);
    if (python.error === undefined) assert.equal(python.stdout.toString().trim(), 'True');
  });

  test('default work factor is Django 4.2\'s and salts differ per hash', async () => {
    assert.equal(DJANGO_DEFAULT_ITERATIONS, 600_000);
    const a = await hashPassword('same');
    const b = await hashPassword('same', 10);
    assert.match(a, /^pbkdf2_sha256\$600000\$/);
    assert.notEqual(parseDjangoHash(a)?.salt, parseDjangoHash(b)?.salt);
    await assert.rejects(hashPassword('x', 0), RangeError);
    await assert.rejects(hashPassword('x', 10, 'bad$salt'), RangeError);
  });
});
