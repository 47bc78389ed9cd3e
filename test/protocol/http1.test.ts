import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../../src/lib/random.js';
import { DEFAULT_HTTP1_LIMITS, Http1Error, ResponseParser, serializeRequest, type Http1Limits, type Http1Response } from '../../src/protocol/http1/codec.js';

/** Feeds `bytes` in the given pieces; the response, or the Http1Error, or 'more' when it never completes. */
function feed(bytes: Buffer, cuts: number[], options: { method?: string; close?: boolean; limits?: Http1Limits } = {}): Http1Response | Http1Error | 'more' {
  const parser = new ResponseParser(options.method ?? 'GET', options.limits ?? DEFAULT_HTTP1_LIMITS);
  let start = 0;
  try {
    for (const end of [...cuts, bytes.length]) {
      if (end <= start) continue;
      const step = parser.push(bytes.subarray(start, end));
      start = end;
      // Bytes still to come after the end: the connection drops them and is not reused (as Connection does).
      if (step.done) return start < bytes.length ? { ...step.response, reusable: false } : step.response;
    }
    if (options.close === true) {
      const step = parser.end();
      if (step.done) return step.response;
    }
    return 'more';
  } catch (err) {
    if (err instanceof Http1Error) return err;
    throw err;
  }
}

const whole = (text: string, options?: Parameters<typeof feed>[2]) => feed(Buffer.from(text, 'latin1'), [], options);

function ok(result: ReturnType<typeof feed>): Http1Response {
  assert.ok(typeof result === 'object' && !(result instanceof Http1Error), `expected a response, got ${String(result instanceof Error ? result.message : result)}`);
  return result;
}

function fails(result: ReturnType<typeof feed>, kind: Http1Error['kind'] = 'protocol'): Http1Error {
  assert.ok(result instanceof Http1Error, `expected an Http1Error, got ${typeof result === 'string' ? result : 'a response'}`);
  assert.equal(result.kind, kind, result.message);
  return result;
}

describe('serializeRequest', () => {
  test('GET has no body and no Content-Length; POST states the byte length of its UTF-8 body', () => {
    const get = serializeRequest('GET', '/api/v3/core/users/?page=1', 'core:9000', { accept: 'application/json' }).toString('latin1');
    assert.equal(get, 'GET /api/v3/core/users/?page=1 HTTP/1.1\r\nhost: core:9000\r\naccept: application/json\r\n\r\n');
    const post = serializeRequest('POST', '/x/', 'h', { 'content-type': 'application/json' }, '{"p":"é"}');
    assert.equal(post.toString('utf8'), 'POST /x/ HTTP/1.1\r\nhost: h\r\ncontent-type: application/json\r\ncontent-length: 10\r\n\r\n{"p":"é"}');
    assert.match(serializeRequest('POST', '/x/', 'h', {}).toString('latin1'), /content-length: 0\r\n\r\n$/);
  });

  test('caller-supplied Host, Content-Length, Transfer-Encoding and Connection are replaced, not sent twice', () => {
    const text = serializeRequest('POST', '/', 'real', { Host: 'fake', 'Content-Length': '99', 'transfer-encoding': 'chunked', connection: 'close' }, 'ab').toString('latin1');
    assert.equal(text, 'POST / HTTP/1.1\r\nhost: real\r\ncontent-length: 2\r\n\r\nab');
  });

  test('nothing can split the request: CR, LF or NUL in values, bad names, methods or targets are refused', () => {
    const bad: Array<() => unknown> = [
      () => serializeRequest('GET', '/', 'h', { 'x-authentik-remote-ip': '1.2.3.4\r\nx-evil: 1' }),
      () => serializeRequest('GET', '/', 'h', { cookie: 'a=b\nc' }),
      () => serializeRequest('GET', '/', 'h', { 'x-a': 'nul\u0000' }),
      () => serializeRequest('GET', '/', 'h', { 'bad name': 'v' }),
      () => serializeRequest('GET', '/', 'h', { 'x-a': 'ā (not latin-1)' }),
      () => serializeRequest('G ET', '/', 'h', {}),
      () => serializeRequest('GET', '/a b', 'h', {}),
      () => serializeRequest('GET', 'http://other/', 'h', {}),
      () => serializeRequest('GET', '/', 'h\r\nx: y', {}),
      () => serializeRequest('GET', '/', '', {}),
    ];
    for (const run of bad) assert.throws(run, Http1Error);
  });
});

describe('ResponseParser', () => {
  const fixed = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nSet-Cookie: a=1; Path=/\r\nX-A: 1\r\nset-cookie: b=2\r\nx-a: 2\r\nContent-Length: 7\r\n\r\n{"a":1}';

  test('Content-Length body, headers lower-cased, Set-Cookie listed, repeats joined; the same at every split', () => {
    const bytes = Buffer.from(fixed, 'latin1');
    const first = ok(feed(bytes, []));
    assert.equal(first.status, 200);
    assert.equal(first.body.toString(), '{"a":1}');
    assert.deepEqual(first.setCookie, ['a=1; Path=/', 'b=2']);
    assert.deepEqual(first.headers['set-cookie'], ['a=1; Path=/', 'b=2']);
    assert.equal(first.headers['x-a'], '1, 2');
    assert.equal(first.headers['content-type'], 'application/json');
    assert.equal(first.reusable, true);
    for (let cut = 1; cut < bytes.length; cut++) {
      assert.deepEqual(ok(feed(bytes, [cut])), first, `split at ${cut}`);
    }
    // One byte at a time.
    assert.deepEqual(ok(feed(bytes, Array.from({ length: bytes.length }, (_, i) => i + 1))), first);
  });

  test('chunked body with extensions and trailers, the same at every split', () => {
    const text = 'HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n';
    const bytes = Buffer.from(text, 'latin1');
    const first = ok(feed(bytes, []));
    assert.equal(first.status, 201);
    assert.equal(first.body.toString(), 'hello 0123456789');
    assert.equal(first.reusable, true);
    for (let cut = 1; cut < bytes.length; cut++) assert.deepEqual(ok(feed(bytes, [cut])), first, `split at ${cut}`);
    for (let a = 1; a < bytes.length; a += 3) for (let b = a + 1; b < bytes.length; b += 5) assert.deepEqual(ok(feed(bytes, [a, b])), first, `split at ${a}, ${b}`);
  });

  test('interim 1xx responses are skipped; 101 is refused', () => {
    const r = ok(whole('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'ok');
    assert.equal(r.headers['link'], undefined);
    fails(whole('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n'));
  });

  test('HEAD, 204 and 304 have no body whatever the headers say', () => {
    assert.equal(ok(whole('HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n', { method: 'HEAD' })).body.length, 0);
    assert.equal(ok(whole('HTTP/1.1 204 No Content\r\n\r\n')).status, 204);
    const notModified = ok(whole('HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n'));
    assert.equal(notModified.body.length, 0);
    assert.equal(notModified.reusable, true);
  });

  test('no length and no chunking: the body runs to the close, and the connection is not reused', () => {
    assert.equal(whole('HTTP/1.1 200 OK\r\n\r\npartial'), 'more');
    const r = ok(whole('HTTP/1.1 200 OK\r\n\r\nall of it', { close: true }));
    assert.equal(r.body.toString(), 'all of it');
    assert.equal(r.reusable, false);
    const nonChunked = ok(whole('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz', { close: true }));
    assert.equal(nonChunked.body.toString(), 'zz');
    assert.equal(nonChunked.reusable, false);
  });

  test('keep-alive: Connection: close, HTTP/1.0, Transfer-Encoding with Content-Length, bytes after the end', () => {
    assert.equal(ok(whole('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')).reusable, false);
    assert.equal(ok(whole('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n')).reusable, false);
    assert.equal(ok(whole('HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n')).reusable, true);
    const both = ok(whole('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n'));
    assert.equal(both.body.toString(), 'ab');
    assert.equal(both.reusable, false);
    const extra = ok(whole('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 200 OK\r\n'));
    assert.equal(extra.body.toString(), 'a');
    assert.equal(extra.reusable, false);
  });

  test('bare LF line ends are accepted', () => {
    const r = ok(whole('HTTP/1.1 200 OK\nContent-Length: 2\n\nhi'));
    assert.equal(r.body.toString(), 'hi');
    assert.equal(ok(whole('HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n2\nhi\n0\n\n')).body.toString(), 'hi');
  });

  test('malformed responses are protocol errors', () => {
    const cases = [
      'HTTP/2 200 OK\r\n\r\n',
      'HTTP/1.1 20 OK\r\n\r\n',
      'ICY 200 OK\r\n\r\n',
      'HTTP/1.1 200 OK\r\nBad Header\r\n\r\n',
      'HTTP/1.1 200 OK\r\n: empty name\r\n\r\n',
      'HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab',
      'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nX-A: a\u0000b\r\nContent-Length: 0\r\n\r\n',
    ];
    for (const text of cases) fails(whole(text));
    // Equal repeated lengths are one length.
    assert.equal(ok(whole('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab')).body.toString(), 'ab');
  });

  test('limits: header section, header count, trailers, and the body (declared, chunked, until close)', () => {
    const limits: Http1Limits = { maxHeaderBytes: 128, maxHeaders: 4, maxBodyBytes: 10 };
    fails(feed(Buffer.from(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(200)}`), [], { limits }));
    fails(feed(Buffer.from(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(200)}\r\n\r\n`), [], { limits }));
    fails(feed(Buffer.from('HTTP/1.1 200 OK\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\nE: 1\r\n\r\n'), [], { limits }));
    fails(feed(Buffer.from(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: ${'t'.repeat(200)}`), [], { limits }));
    fails(feed(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n'), [], { limits }), 'oversize');
    fails(feed(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\nabcdef\r\n'), [], { limits }), 'oversize');
    fails(feed(Buffer.from(`HTTP/1.1 200 OK\r\n\r\n${'x'.repeat(11)}`), [], { limits }), 'oversize');
    assert.equal(ok(feed(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789'), [], { limits })).body.length, 10);
  });

  test('a close before the end: "closed" errors, telling whether any byte came', () => {
    const none = new ResponseParser('GET');
    assert.equal(fails(expectThrow(() => none.end()), 'closed').message, 'connection closed before any response');
    const some = new ResponseParser('GET');
    const partial = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab');
    some.push(partial);
    assert.equal(some.received, partial.length);
    assert.equal(fails(expectThrow(() => some.end()), 'closed').message, 'connection closed mid-response');
  });

  test('fuzz: mutated responses in random pieces either parse (the same as in one piece) or fail with Http1Error', () => {
    const random = mulberry32(0x5eed1);
    const int = (n: number): number => Math.floor(random() * n);
    const seeds = [
      fixed,
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nT: 1\r\n\r\n',
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 302 Found\r\nLocation: /next\r\nContent-Length: 0\r\n\r\n',
      'HTTP/1.0 200 OK\r\n\r\nbody to close',
    ].map((t) => Buffer.from(t, 'latin1'));
    const alphabet = Buffer.from('\r\n :;0123456789aAfFzZ-,\t\u0000\u00ff', 'latin1');
    const limits: Http1Limits = { maxHeaderBytes: 256, maxHeaders: 16, maxBodyBytes: 64 };
    const outcomes = { response: 0, error: 0, more: 0 };
    for (let i = 0; i < 4000; i++) {
      const bytes = Buffer.from(seeds[int(seeds.length)]!);
      const mutations = 1 + int(4);
      let mutated: Buffer = bytes;
      for (let m = 0; m < mutations; m++) {
        const at = int(mutated.length);
        const what = int(3);
        if (what === 0) mutated[at] = alphabet[int(alphabet.length)]!;
        else if (what === 1) mutated = Buffer.concat([mutated.subarray(0, at), mutated.subarray(at + 1)]);
        else mutated = Buffer.concat([mutated.subarray(0, at), alphabet.subarray(int(alphabet.length)).subarray(0, 1), mutated.subarray(at)]);
      }
      const close = random() < 0.5;
      const reference = feed(mutated, [], { close, limits });
      const cuts = Array.from({ length: int(6) }, () => int(mutated.length)).sort((a, b) => a - b);
      const pieces = feed(mutated, cuts, { close, limits });
      if (reference instanceof Http1Error) assert.ok(pieces instanceof Http1Error, `case ${i}: whole failed, pieces gave ${String(pieces)}`);
      else assert.deepEqual(pieces, reference, `case ${i}`);
      outcomes[reference instanceof Http1Error ? 'error' : reference === 'more' ? 'more' : 'response']++;
    }
    // The mutations reach every outcome, so the comparison above is exercised for each.
    for (const [outcome, count] of Object.entries(outcomes)) assert.ok(count > 200, `${outcome}: ${count}`);
  });
});

function expectThrow(run: () => unknown): Http1Error | 'more' {
  try {
    run();
  } catch (err) {
    if (err instanceof Http1Error) return err;
    throw err;
  }
  return 'more';
}
