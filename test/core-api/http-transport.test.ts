import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreError } from '../../src/errors.js';
import { CORE_API_LIMITS } from '../../src/config/limits.js';
import { HttpTransport } from '../../src/core-api/http-transport.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, perSocket: number) => void;

async function serve(handler: Handler): Promise<{ url: string; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const counts = new WeakMap<object, number>();
  const server = http.createServer((req, res) => {
    const n = (counts.get(req.socket) ?? 0) + 1;
    counts.set(req.socket, n);
    handler(req, res, n);
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const isCore = (kind: string) => (err: unknown) => err instanceof CoreError && err.kind === kind;

describe('HttpTransport.request', () => {
  test('status, headers, every Set-Cookie value, body; keep-alive reuses sockets', async () => {
    const server = await serve((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; Path=/']);
        res.writeHead(201, { 'content-type': 'text/plain' });
        res.end(`${req.method} ${req.url} ${req.headers['x-test'] ?? ''} ${body}`);
      });
    });
    const transport = new HttpTransport(server.url);
    try {
      const first = await transport.request({ method: 'POST', url: `${server.url}/p?q=1`, headers: { 'x-test': 'yes' }, body: 'hello', timeoutMs: 2000 });
      assert.equal(first.status, 201);
      assert.deepEqual(first.setCookie, ['a=1; Path=/', 'b=2; Path=/']);
      assert.equal(first.body.toString(), 'POST /p?q=1 yes hello');
      // undici releases a socket a tick after a POST's answer, so the request right after may open a second one.
      for (let i = 0; i < 4; i++) await transport.request({ method: 'GET', url: `${server.url}/again`, timeoutMs: 2000 });
      assert.ok(server.connections() <= 2);
    } finally {
      await transport.close();
      await server.close();
    }
  });

  test('response bodies are bounded (declared and streamed)', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/declared') {
        res.writeHead(200, { 'content-length': 100 });
        res.end('x'.repeat(100));
      } else {
        res.writeHead(200); // chunked: no length up front
        res.write('x'.repeat(60));
        res.end('x'.repeat(60));
      }
    });
    const transport = new HttpTransport(server.url, { maxResponseBytes: 64 });
    try {
      await assert.rejects(transport.request({ method: 'GET', url: `${server.url}/declared`, timeoutMs: 2000 }), isCore('unexpected_response'));
      await assert.rejects(transport.request({ method: 'GET', url: `${server.url}/chunked`, timeoutMs: 2000 }), isCore('unexpected_response'));
    } finally {
      await transport.close();
      await server.close();
    }
  });

  test('a silent server hits the request timeout; an aborted signal ends the request', async () => {
    const server = await serve(() => {
      /* never answers */
    });
    const transport = new HttpTransport(server.url);
    try {
      await assert.rejects(transport.request({ method: 'GET', url: `${server.url}/`, timeoutMs: 100 }), isCore('timeout'));
      const controller = new AbortController();
      const pending = transport.request({ method: 'GET', url: `${server.url}/`, timeoutMs: 5000, signal: controller.signal });
      controller.abort();
      await assert.rejects(pending, isCore('transport'));
      await assert.rejects(
        transport.request({ method: 'GET', url: `${server.url}/`, timeoutMs: 5000, signal: AbortSignal.abort(new DOMException('t', 'TimeoutError')) }),
        isCore('timeout'),
      );
    } finally {
      await transport.close();
      await server.close();
    }
  });

  test('a kept-alive socket closed by the server: GET retried once on a new socket, POST fails', async () => {
    // The second request on any socket is dropped without an answer, like a server closing an idle connection.
    const server = await serve((_req, res, perSocket) => {
      if (perSocket >= 2) res.socket?.destroy();
      else res.end('ok');
    });
    const transport = new HttpTransport(server.url);
    try {
      await transport.request({ method: 'GET', url: `${server.url}/1`, timeoutMs: 2000 });
      const retried = await transport.request({ method: 'GET', url: `${server.url}/2`, timeoutMs: 2000 });
      assert.equal(retried.body.toString(), 'ok');
      assert.equal(server.connections(), 2);
      await assert.rejects(transport.request({ method: 'POST', url: `${server.url}/3`, body: '{}', timeoutMs: 2000 }), isCore('transport'));
    } finally {
      await transport.close();
      await server.close();
    }
  });

  test('maxSockets bounds concurrent connections', async () => {
    const server = await serve((_req, res) => setTimeout(() => res.end('ok'), 20));
    const transport = new HttpTransport(server.url, { maxSockets: 2 });
    try {
      await Promise.all(Array.from({ length: 6 }, (_, i) => transport.request({ method: 'GET', url: `${server.url}/${i}`, timeoutMs: 2000 })));
      assert.equal(server.connections(), 2);
    } finally {
      await transport.close();
      await server.close();
    }
  });
});

/** Writes each piece 2 ms after the previous one, so the client sees them in separate reads. */
async function writeSlowly(socket: net.Socket, pieces: string[], close: boolean): Promise<void> {
  for (const piece of pieces) {
    socket.write(Buffer.from(piece, 'latin1'));
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  if (close) socket.end();
}

/** A TCP server that answers each request (read up to its blank line) with the pieces `script` returns. */
async function rawServer(script: (request: string, index: number) => { pieces: string[]; close?: boolean }): Promise<{ url: string; connections: () => number; requests: string[]; close: () => Promise<void> }> {
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      const request = buffered.slice(0, end + 4);
      buffered = buffered.slice(end + 4);
      requests.push(request);
      const { pieces, close } = script(request, requests.length - 1);
      writeSlowly(socket, pieces, close === true).catch((err: unknown) => socket.destroy(err instanceof Error ? err : new Error(String(err))));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('HttpTransport on the wire', () => {
  test('1xx skipped, chunked body in odd pieces with trailers, then the connection is reused', async () => {
    const server = await rawServer(() => ({
      pieces: ['HTTP/1.1 103 Early Hin', 'ts\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Enc', 'oding: chunked\r\n\r\n3\r', '\nabc\r\n2;x=y\r\nde\r\n0\r\nT: 1\r\n', '\r\n'],
    }));
    const transport = new HttpTransport(server.url);
    try {
      assert.equal((await transport.request({ method: 'GET', url: `${server.url}/a`, timeoutMs: 2000 })).body.toString(), 'abcde');
      for (const path of ['/b', '/c', '/d']) {
        assert.equal((await transport.request({ method: 'GET', url: `${server.url}${path}`, timeoutMs: 2000 })).body.toString(), 'abcde');
      }
      // undici releases a socket a tick after its answer, so the next request may open a second one; no more.
      assert.ok(server.connections() <= 2);
      assert.match(server.requests[0]!, /^GET \/a HTTP\/1\.1\r\nhost: 127\.0\.0\.1:\d+\r\n/);
    } finally {
      await transport.close();
      await server.close();
    }
  });

  test('a body delimited by the close, and Connection: close, end the connection; the next request opens another', async () => {
    const server = await rawServer((_request, index) =>
      index === 0 ? { pieces: ['HTTP/1.1 200 OK\r\n\r\nuntil ', 'close'], close: true } : { pieces: ['HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok'] },
    );
    const transport = new HttpTransport(server.url);
    try {
      assert.equal((await transport.request({ method: 'GET', url: `${server.url}/1`, timeoutMs: 2000 })).body.toString(), 'until close');
      assert.equal((await transport.request({ method: 'GET', url: `${server.url}/2`, timeoutMs: 2000 })).body.toString(), 'ok');
      assert.equal((await transport.request({ method: 'GET', url: `${server.url}/3`, timeoutMs: 2000 })).body.toString(), 'ok');
      assert.equal(server.connections(), 3);
    } finally {
      await transport.close();
      await server.close();
    }
  });

  test('a malformed answer is unexpected_response; a header that would split the request is never sent', async () => {
    const server = await rawServer(() => ({ pieces: ['HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab'] }));
    const transport = new HttpTransport(server.url);
    try {
      await assert.rejects(transport.request({ method: 'GET', url: `${server.url}/`, timeoutMs: 2000 }), isCore('unexpected_response'));
      await assert.rejects(
        transport.request({ method: 'GET', url: `${server.url}/`, headers: { 'x-authentik-remote-ip': '1.2.3.4\r\nx-injected: 1' }, timeoutMs: 2000 }),
        isCore('transport'),
      );
      assert.equal(server.requests.length, 1);
    } finally {
      await transport.close();
      await server.close();
    }
  });

  test('response headers are bounded: 64 KiB and 256 lines; requests only go to the core origin', async () => {
    const lines = Array.from({ length: CORE_API_LIMITS.maxHeaderLines + 1 }, (_, i) => `X-${i}: v\r\n`).join('');
    const server = await rawServer((request) => ({
      pieces: [request.startsWith('GET /many') ? `HTTP/1.1 200 OK\r\n${lines}Content-Length: 0\r\n\r\n` : `HTTP/1.1 200 OK\r\nX-Big: ${'x'.repeat(70 * 1024)}\r\nContent-Length: 0\r\n\r\n`],
    }));
    const transport = new HttpTransport(server.url);
    try {
      await assert.rejects(transport.request({ method: 'GET', url: `${server.url}/many`, timeoutMs: 2000 }), isCore('unexpected_response'));
      await assert.rejects(transport.request({ method: 'GET', url: `${server.url}/big`, timeoutMs: 2000 }), isCore('unexpected_response'));
      await assert.rejects(transport.request({ method: 'GET', url: 'http://127.0.0.2:1/', timeoutMs: 2000 }), isCore('transport'));
      assert.equal(server.requests.length, 2);
    } finally {
      await transport.close();
      await server.close();
    }
  });

  test('requests waiting for a connection are bounded (maxQueued)', async () => {
    const server = await serve((_req, res) => setTimeout(() => res.end('ok'), 30));
    const transport = new HttpTransport(server.url, { maxSockets: 1, maxQueued: 1 });
    try {
      const results = await Promise.allSettled([0, 1, 2].map((i) => transport.request({ method: 'GET', url: `${server.url}/${i}`, timeoutMs: 2000 })));
      assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected']);
      assert.ok(isCore('transport')((results[2] as PromiseRejectedResult).reason));
    } finally {
      await transport.close();
      await server.close();
    }
  });

  test('a unix socket host: every request goes to the socket, with Host: localhost', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ako-unix-'));
    const path = join(dir, 'core.sock');
    const server = http.createServer((req, res) => res.end(`${req.headers.host} ${req.url}`));
    await new Promise<void>((resolve) => server.listen(path, resolve));
    const transport = new HttpTransport('http://localhost', { socketPath: path });
    try {
      const res = await transport.request({ method: 'GET', url: 'http://localhost/api/v3/root/config/', timeoutMs: 2000 });
      assert.equal(res.body.toString(), 'localhost /api/v3/root/config/');
    } finally {
      await transport.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('HttpTransport.fetch (what openapi-fetch calls)', () => {
  test('a WHATWG Request in, a Response out: status, headers, every Set-Cookie, body; 204 has no body', async () => {
    const server = await serve((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        if (req.url === '/empty') {
          res.writeHead(204).end();
          return;
        }
        res.setHeader('set-cookie', ['x=1', 'y=2']);
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ method: req.method, auth: req.headers.authorization, body }));
      });
    });
    const transport = new HttpTransport(server.url);
    try {
      const res = await transport.fetch(new Request(`${server.url}/x`, { method: 'post', headers: { authorization: 'Bearer t' }, body: '{"a":1}' }));
      assert.equal(res.status, 404);
      assert.equal(res.ok, false);
      assert.deepEqual(res.headers.getSetCookie(), ['x=1', 'y=2']);
      assert.equal(res.headers.get('Content-Type'), 'application/json');
      assert.equal(res.headers.get('x-absent'), null);
      assert.deepEqual(await res.json(), { method: 'POST', auth: 'Bearer t', body: '{"a":1}' });
      const put = await transport.fetch(new Request(`${server.url}/x`, { method: 'PUT', body: new Uint8Array([0x68, 0x69]) }));
      assert.deepEqual(JSON.parse(Buffer.from(await put.arrayBuffer()).toString()), { method: 'PUT', body: 'hi' });
      const empty = await transport.fetch(new Request(`${server.url}/empty`));
      assert.equal(empty.status, 204);
      assert.equal(empty.ok, true);
      assert.equal(empty.body, null);
      assert.equal(await empty.text(), '');
    } finally {
      await transport.close();
      await server.close();
    }
  });
});

describe('TLS', () => {
  test('self-signed core: rejected by default, accepted with insecure', async (t: TestContext) => {
    const dir = mkdtempSync(join(tmpdir(), 'ako-tls-'));
    try {
      const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
      if (made.status !== 0) {
        t.skip('openssl not available');
        return;
      }
      const server = https.createServer({ key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) }, (req, res) => {
        const servername = (req.socket as import('node:tls').TLSSocket).servername;
        res.end(`tls ${servername === false || servername === undefined ? '-' : servername} ${req.socket.remotePort}`);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as AddressInfo).port;
      const url = `https://127.0.0.1:${port}/`;
      const named = `https://localhost:${port}/`;
      const strict = new HttpTransport(url);
      const insecure = new HttpTransport(url, { insecure: true });
      const insecureNamed = new HttpTransport(named, { insecure: true });
      try {
        await assert.rejects(strict.request({ method: 'GET', url, timeoutMs: 2000 }), isCore('transport'));
        // No SNI for an address (RFC 6066); a name is sent; the TLS connection is kept alive and reused.
        assert.match((await insecure.request({ method: 'GET', url, timeoutMs: 2000 })).body.toString(), /^tls - \d+$/);
        const first = (await insecureNamed.request({ method: 'GET', url: named, timeoutMs: 2000 })).body.toString();
        assert.match(first, /^tls localhost \d+$/);
        const replies = [];
        for (let i = 0; i < 3; i++) replies.push((await insecureNamed.request({ method: 'GET', url: named, timeoutMs: 2000 })).body.toString());
        assert.ok(replies.includes(first) || new Set(replies).size < replies.length, 'a socket was reused');
      } finally {
        await strict.close();
        await insecure.close();
        await insecureNamed.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
