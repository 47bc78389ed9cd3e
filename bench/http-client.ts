/**
 * HTTP client choice for the core API: our transport (its own HTTP/1.1 over node:net, raw and through the
 * LeanRequest/LeanResponse fetch that openapi-fetch uses) against a minimal node:http keep-alive client and
 * Node's global fetch (undici), for many small keep-alive GET and POST requests to a local node:http server
 * running in a child process (so client and server do not share a core). Prints req/s, p50/p99 latency and the
 * client's CPU per request for 1 and 64 concurrent requests.
 *
 *   node dist/bench/http-client.js [requests-per-case=4000]
 */

import { fork } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { HttpTransport, LeanRequest } from '../src/core-api/http-transport.js';
import { UsageError } from '../src/lib/cli.js';
import { benchCommandLine, intArg } from './lib/cli.js';

type Call = (method: 'GET' | 'POST') => Promise<number>;

const GET_BODY = JSON.stringify({ pagination: { next: 0, previous: 0, count: 1 }, results: [{ pk: 1, name: 'x' }] });
const POST_BODY = JSON.stringify({ component: 'ak-stage-password', password: 'correct horse battery staple' });

function runServer(): void {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = req.method === 'POST' ? Buffer.concat(chunks) : Buffer.from(GET_BODY);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1', () => {
    process.send?.({ port: (server.address() as AddressInfo).port });
  });
  process.on('disconnect', () => process.exit(0));
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function measure(call: Call, method: 'GET' | 'POST', concurrency: number, total: number): Promise<string> {
  // Warm-up: open the sockets, let the JIT settle.
  await Promise.all(Array.from({ length: concurrency }, () => call(method)));
  for (let i = 0; i < 200; i++) await call(method);

  const latencies: number[] = [];
  let next = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < total) {
      next++;
      const t0 = performance.now();
      const status = await call(method);
      latencies.push(performance.now() - t0);
      if (status !== 200) throw new Error(`status ${status}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuPerRequest = (cpu.user + cpu.system) / latencies.length;
  latencies.sort((a, b) => a - b);
  const rps = Math.round(latencies.length / seconds);
  return `${String(rps).padStart(7)} req/s  p50 ${percentile(latencies, 50).toFixed(3).padStart(7)} ms  p99 ${percentile(latencies, 99).toFixed(3).padStart(7)} ms  CPU ${cpuPerRequest.toFixed(0).padStart(4)} µs/req`;
}

async function main(total: number): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), ['server'], { stdio: 'inherit' });
  const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
  const base = `http://127.0.0.1:${port}`;
  const headers = { 'content-type': 'application/json', accept: 'application/json', authorization: 'Bearer token' };

  const transport = new HttpTransport({ maxSockets: 64 });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const nodeHttp: Call = (method) =>
    new Promise((resolve, reject) => {
      const body = method === 'POST' ? POST_BODY : undefined;
      const req = http.request(
        { agent, host: '127.0.0.1', port, method, path: '/api/v3/x/', headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) } },
        (res) => {
          res.on('data', () => undefined);
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const clients: [string, Call][] = [
    [
      'transport.request',
      async (method) =>
        (await transport.request({ method, url: `${base}/api/v3/x/`, headers, ...(method === 'POST' ? { body: POST_BODY } : {}), timeoutMs: 10_000 })).status,
    ],
    [
      'transport.fetch',
      async (method) => {
        const res = await transport.fetch(new LeanRequest(`${base}/api/v3/x/`, { method, headers, ...(method === 'POST' ? { body: POST_BODY } : {}) }));
        await res.text();
        return res.status;
      },
    ],
    ['node:http', nodeHttp],
    [
      'global fetch',
      async (method) => {
        const res = await fetch(`${base}/api/v3/x/`, { method, headers, ...(method === 'POST' ? { body: POST_BODY } : {}) });
        await res.text();
        return res.status;
      },
    ],
  ];

  console.log(`node ${process.version}, ${total} requests per case, server in a child process`);
  for (const concurrency of [1, 64]) {
    for (const method of ['GET', 'POST'] as const) {
      for (const [name, call] of clients) {
        console.log(`c=${String(concurrency).padEnd(2)} ${method.padEnd(4)} ${name.padEnd(18)} ${await measure(call, method, concurrency, total)}`);
      }
    }
  }
  transport.close();
  agent.destroy();
  child.disconnect();
}

// `server`: the child this script forks for itself.
const mode = benchCommandLine('http-client.js', 'usage: node dist/bench/http-client.js [requests-per-case=4000]\n', { allowPositionals: true }, ({ positionals }) => {
  if (positionals.length > 1) throw new UsageError(`Unexpected argument '${positionals[1]}'`);
  const [first] = positionals;
  return first === 'server' ? ('server' as const) : intArg('requests-per-case', first ?? '4000', 1, 10_000_000);
});
if (mode === 'server') runServer();
else await main(mode);
