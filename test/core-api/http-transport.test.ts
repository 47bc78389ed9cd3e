import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreError } from '../../src/errors.js';
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

describe('HttpTransport raw API', () => {
  test('status, headers, every Set-Cookie value, body; keep-alive reuses one socket', async () => {
    const server = await serve((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; Path=/']);
        res.writeHead(201, { 'content-type': 'text/plain' });
        res.end(`${req.method} ${req.url} ${req.headers['x-test'] ?? ''} ${body}`);
      });
    });
    const transport = new HttpTransport();
    try {
      const first = await transport.request({ method: 'POST', url: `${server.url}/p?q=1`, headers: { 'x-test': 'yes' }, body: 'hello', timeoutMs: 2000 });
      assert.equal(first.status, 201);
      assert.deepEqual(first.setCookie, ['a=1; Path=/', 'b=2; Path=/']);
      assert.equal(first.body.toString(), 'POST /p?q=1 yes hello');
      await transport.request({ method: 'GET', url: `${server.url}/again`, timeoutMs: 2000 });
      assert.equal(server.connections(), 1);
    } finally {
      transport.close();
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
    const transport = new HttpTransport({ maxResponseBytes: 64 });
    try {
      await assert.rejects(transport.request({ method: 'GET', url: `${server.url}/declared`, timeoutMs: 2000 }), isCore('unexpected_response'));
      await assert.rejects(transport.request({ method: 'GET', url: `${server.url}/chunked`, timeoutMs: 2000 }), isCore('unexpected_response'));
    } finally {
      transport.close();
      await server.close();
    }
  });

  test('a silent server hits the request timeout; an aborted signal ends the request', async () => {
    const server = await serve(() => {
      /* never answers */
    });
    const transport = new HttpTransport();
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
      transport.close();
      await server.close();
    }
  });

  test('a kept-alive socket closed by the server: GET retried once on a new socket, POST fails', async () => {
    // The second request on any socket is dropped without an answer, like a server closing an idle connection.
    const server = await serve((_req, res, perSocket) => {
      if (perSocket >= 2) res.socket?.destroy();
      else res.end('ok');
    });
    const transport = new HttpTransport();
    try {
      await transport.request({ method: 'GET', url: `${server.url}/1`, timeoutMs: 2000 });
      const retried = await transport.request({ method: 'GET', url: `${server.url}/2`, timeoutMs: 2000 });
      assert.equal(retried.body.toString(), 'ok');
      assert.equal(server.connections(), 2);
      await assert.rejects(transport.request({ method: 'POST', url: `${server.url}/3`, body: '{}', timeoutMs: 2000 }), isCore('transport'));
    } finally {
      transport.close();
      await server.close();
    }
  });

  test('maxSockets bounds concurrent connections', async () => {
    const server = await serve((_req, res) => setTimeout(() => res.end('ok'), 20));
    const transport = new HttpTransport({ maxSockets: 2 });
    try {
      await Promise.all(Array.from({ length: 6 }, (_, i) => transport.request({ method: 'GET', url: `${server.url}/${i}`, timeoutMs: 2000 })));
      assert.equal(server.connections(), 2);
    } finally {
      transport.close();
      await server.close();
    }
  });
});

describe('HttpTransport fetch adapter', () => {
  test('Request in, Response out: method, headers, body, repeated Set-Cookie, 204', async () => {
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
    const transport = new HttpTransport();
    try {
      const res = await transport.fetch(new Request(`${server.url}/x`, { method: 'POST', headers: { authorization: 'Bearer t' }, body: '{"a":1}' }));
      assert.equal(res.status, 404);
      assert.deepEqual(res.headers.getSetCookie(), ['x=1', 'y=2']);
      assert.deepEqual(await res.json(), { method: 'POST', auth: 'Bearer t', body: '{"a":1}' });
      const empty = await transport.fetch(new Request(`${server.url}/empty`));
      assert.equal(empty.status, 204);
      assert.equal(empty.body, null);
    } finally {
      transport.close();
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
      const server = https.createServer({ key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) }, (_req, res) => res.end('tls'));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const strict = new HttpTransport();
      const insecure = new HttpTransport({ insecure: true });
      try {
        await assert.rejects(strict.request({ method: 'GET', url, timeoutMs: 2000 }), isCore('transport'));
        assert.equal((await insecure.request({ method: 'GET', url, timeoutMs: 2000 })).body.toString(), 'tls');
      } finally {
        strict.close();
        insecure.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
