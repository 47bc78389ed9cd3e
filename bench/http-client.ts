/**
 * HTTP client choice for the core API: many small keep-alive GET and POST requests to a local node:http server
 * running in a child process (so client and server do not share a core). Prints req/s, p50/p99 latency and the
 * client's CPU per request for 1 and 64 concurrent requests, for each client, each in a process of its own:
 * the outpost's transport (src/core-api/http-transport.ts: raw `request`, and openapi-fetch over its `fetch`),
 * plain undici (Pool.request, Agent.request, fetch), node:http and Node's global fetch. ROUNDS (default 2)
 * repeats every client. (openapi-fetch over undici's own fetch needs undici's Request class, whose types do not
 * match the global ones openapi-fetch declares, so it is not a candidate without casts.)
 *
 *   node dist/bench/http-client.js [requests-per-case=4000] [client name filter]
 */
import { execFileSync, fork } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import createClient from 'openapi-fetch';
import { Agent, Pool, fetch as undiciFetch } from 'undici';
import { HttpTransport } from '../src/core-api/http-transport.js';
import type { paths } from '../src/core-api/schema/v2026.js';
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
  for (let i = 0; i < 1000; i++) await call(method);

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

/** One client, every level and method, in a process of its own (so no client inherits another's JIT or heap). */
async function runCase(port: number, only: string, total: number): Promise<void> {
  const base = `http://127.0.0.1:${port}`;
  const headers = { 'content-type': 'application/json', accept: 'application/json', authorization: 'Bearer token' };
  const init = (method: 'GET' | 'POST') => ({ method, headers, ...(method === 'POST' ? { body: POST_BODY } : {}) });

  const pool = new Pool(base, { connections: 64 });
  const agent = new Agent({ connections: 64 });
  const transport = new HttpTransport(base, { maxSockets: 64 });
  const transportApi = createClient<paths>({ baseUrl: `${base}/api/v3`, fetch: transport.fetch, headers });
  const nodeAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const nodeHttp: Call = (method) =>
    new Promise((resolve, reject) => {
      const body = method === 'POST' ? POST_BODY : undefined;
      const req = http.request(
        { agent: nodeAgent, host: '127.0.0.1', port, method, path: '/api/v3/x/', headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) } },
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
      'undici Pool.request',
      async (method) => {
        const res = await pool.request({ ...init(method), path: '/api/v3/x/' });
        await res.body.arrayBuffer();
        return res.statusCode;
      },
    ],
    [
      'undici Agent.request',
      async (method) => {
        const res = await agent.request({ ...init(method), origin: base, path: '/api/v3/x/' });
        await res.body.arrayBuffer();
        return res.statusCode;
      },
    ],
    [
      'undici fetch',
      async (method) => {
        const res = await undiciFetch(`${base}/api/v3/x/`, { ...init(method), dispatcher: pool });
        await res.text();
        return res.status;
      },
    ],
    ['transport.request', async (method) => (await transport.request({ ...init(method), url: `${base}/api/v3/x/`, timeoutMs: 10_000 })).status],
    [
      'openapi-fetch/transport',
      async (method) => {
        // openapi-fetch serves the controller's GETs only; POSTs are the flow executor's, through `request`.
        if (method === 'POST') return (await transport.request({ ...init(method), url: `${base}/api/v3/x/`, timeoutMs: 10_000 })).status;
        const { response } = await transportApi.GET('/root/config/');
        return response.status;
      },
    ],
    ['node:http', nodeHttp],
    [
      'global fetch',
      async (method) => {
        const res = await fetch(`${base}/api/v3/x/`, init(method));
        await res.text();
        return res.status;
      },
    ],
  ];

  const call = clients.find(([name]) => name === only)?.[1];
  if (call === undefined) throw new Error(`unknown client ${only}`);
  for (const concurrency of [1, 64]) {
    for (const method of ['GET', 'POST'] as const) {
      process.stdout.write(`${JSON.stringify({ key: `c=${String(concurrency).padEnd(2)} ${method.padEnd(4)} ${only.padEnd(22)}`, line: await measure(call, method, concurrency, total) })}\n`);
    }
  }
  await transport.close();
  await pool.close();
  await agent.close();
  nodeAgent.destroy();
}

const CLIENTS = [
  'undici Pool.request',
  'undici Agent.request',
  'undici fetch',
  'transport.request',
  'openapi-fetch/transport',
  'node:http',
  'global fetch',
];

async function main(total: number, filter: string | undefined): Promise<void> {
  const rounds = Number(process.env.ROUNDS ?? 2);
  const script = fileURLToPath(import.meta.url);
  const server = fork(script, ['server'], { stdio: 'inherit' });
  const port = await new Promise<number>((resolve) => server.once('message', (m: { port: number }) => resolve(m.port)));
  const results = new Map<string, string[]>();
  for (let round = 0; round < rounds; round++) {
    for (const name of CLIENTS) {
      if (filter !== undefined && !name.includes(filter)) continue;
      const out = execFileSync(process.execPath, [script, 'case', String(port), name, String(total)], { encoding: 'utf8' });
      for (const text of out.trim().split('\n')) {
        const { key, line } = JSON.parse(text) as { key: string; line: string };
        results.set(key, [...(results.get(key) ?? []), line]);
      }
    }
  }
  console.log(`node ${process.version}, ${total} requests per case, each client in a process of its own, ${rounds} rounds; server in a child process`);
  for (const key of [...results.keys()].sort()) for (const line of results.get(key) ?? []) console.log(`${key} ${line}`);
  server.disconnect();
}

// `server` and `case` are the child processes this script forks of itself; a person types only the first form.
if (process.argv[2] === 'server') runServer();
else if (process.argv[2] === 'case') await runCase(Number(process.argv[3]), process.argv[4] ?? '', Number(process.argv[5]));
else {
  const usage = 'usage: node dist/bench/http-client.js [requests-per-case=4000] [client name filter]\n';
  const [total, filter] = benchCommandLine('http-client.js', usage, { allowPositionals: true }, ({ positionals }) => {
    if (positionals.length > 2) throw new UsageError(`Unexpected argument '${positionals[2]}'`);
    return [intArg('requests-per-case', positionals[0] ?? '4000', 1, 10_000_000), positionals[1]] as const;
  });
  await main(total, filter);
}
