/**
 * The embedded core's own cost of one LDAP bind, without the outpost: the same HTTP calls an uncached bind makes
 * (flow executor GET, one POST per challenge with redirects followed, check_access, users/me), issued through the
 * outpost's HTTP transport (src/core-api/http-transport.ts) with its socket pool size.
 * Run as its own process so its CPU time is separate.
 *
 *   AKO_BENCH_TOKEN=<outpost token> node dist/bench/flow-direct.js '<json options>'
 *     {"url":"http://127.0.0.1:port/","concurrency":1,"seconds":5,"warmupSeconds":1,"lo":1,"hi":1000}
 *
 * Prints {"event":"measure"}, {"event":"end"} around the measured window, then one JSON result line.
 */
import { performance } from 'node:perf_hooks';
import { CORE_API_LIMITS } from '../src/config/limits.js';
import { HttpTransport } from '../src/core-api/http-transport.js';
import { UsageError } from '../src/lib/cli.js';
import { benchCommandLine } from './lib/cli.js';

interface Options {
  url: string;
  token: string;
  concurrency: number;
  seconds: number;
  warmupSeconds: number;
  lo: number;
  hi: number;
}

const USAGE = 'usage: AKO_BENCH_TOKEN=<outpost token> flow-direct.js <json options>\n';

function parseOptions(text: string | undefined): Options {
  if (text === undefined) throw new UsageError('expected one argument, the JSON options');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new UsageError('the options are not JSON');
  }
  if (typeof raw !== 'object' || raw === null) throw new UsageError('options must be a JSON object');
  const o = raw as Record<string, unknown>;
  const str = (k: string): string => {
    const v = o[k];
    if (typeof v !== 'string' || v === '') throw new UsageError(`option ${k} must be a non-empty string`);
    return v;
  };
  const int = (k: string, min: number, max: number): number => {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new UsageError(`option ${k} must be a number in [${min}, ${max}]`);
    return v;
  };
  return {
    url: str('url'),
    token: process.env.AKO_BENCH_TOKEN ?? '',
    concurrency: int('concurrency', 1, 4096),
    seconds: int('seconds', 0.1, 3600),
    warmupSeconds: int('warmupSeconds', 0, 600),
    lo: int('lo', 0, 1e9),
    hi: int('hi', 0, 1e9),
  };
}

interface Reply {
  status: number;
  location: string | undefined;
  setCookie: string[];
  body: Buffer;
}

const MAX_BODY = 1024 * 1024;
const TIMEOUT_MS = 30_000;

class Client {
  readonly transport: HttpTransport;
  readonly base: URL;

  readonly #token: string;

  constructor(
    url: string,
    token: string,
    concurrency: number,
  ) {
    this.#token = token;
    this.base = new URL(url);
    // The outpost's pool size, so the core sees the same number of connections from both clients.
    this.transport = new HttpTransport(this.base.origin, { maxSockets: Math.min(concurrency, CORE_API_LIMITS.maxSockets), maxResponseBytes: MAX_BODY });
  }

  async request(method: 'GET' | 'POST', path: string, cookies: Map<string, string>, body?: string, bearer = false): Promise<Reply> {
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': 'ak-outpost-bench/flow-direct',
      'x-authentik-remote-ip': '127.0.0.1',
    };
    if (bearer) headers['authorization'] = `Bearer ${this.#token}`;
    else headers['x-authentik-outpost-token'] = this.#token;
    if (cookies.size > 0) headers['cookie'] = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await this.transport.request({ method, url: new URL(path, this.base), headers, ...(body !== undefined ? { body } : {}), timeoutMs: TIMEOUT_MS });
    return { status: res.status, location: res.headers['location'], setCookie: res.setCookie, body: res.body };
  }

  /** One exchange with same-origin redirects followed and cookies kept, like the outpost's flow client. */
  async exchange(method: 'GET' | 'POST', path: string, cookies: Map<string, string>, body?: string): Promise<Reply> {
    let currentMethod = method;
    let currentPath = path;
    let currentBody = body;
    for (let hop = 0; hop <= 10; hop++) {
      const reply = await this.request(currentMethod, currentPath, cookies, currentBody);
      for (const header of reply.setCookie) {
        const pair = header.split(';', 1)[0] ?? '';
        const eq = pair.indexOf('=');
        if (eq > 0) cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
      }
      if (![301, 302, 303, 307, 308].includes(reply.status)) return reply;
      if (reply.location === undefined) throw new Error(`redirect without Location`);
      const next = new URL(reply.location, new URL(currentPath, this.base));
      if (next.origin !== this.base.origin) throw new Error('cross-origin redirect');
      currentPath = `${next.pathname}${next.search}`;
      if (reply.status <= 303 && currentMethod === 'POST') {
        currentMethod = 'GET';
        currentBody = undefined;
      }
    }
    throw new Error('too many redirects');
  }
}

function json(reply: Reply, what: string): Record<string, unknown> {
  if (reply.status < 200 || reply.status > 299) throw new Error(`${what}: HTTP ${reply.status}`);
  const value: unknown = JSON.parse(reply.body.toString('utf8'));
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${what}: not a JSON object`);
  return value as Record<string, unknown>;
}

interface Provider {
  pk: number;
  applicationSlug: string;
  flowSlug: string;
}

async function ldapProvider(client: Client): Promise<Provider> {
  const list = json(await client.request('GET', `${client.base.pathname}api/v3/outposts/ldap/`, new Map(), undefined, true), 'outposts/ldap');
  const results = list['results'];
  const first: unknown = Array.isArray(results) ? results[0] : undefined;
  if (typeof first !== 'object' || first === null) throw new Error('outposts/ldap: no provider');
  const p = first as Record<string, unknown>;
  if (typeof p['pk'] !== 'number' || typeof p['application_slug'] !== 'string' || typeof p['bind_flow_slug'] !== 'string') {
    throw new Error('outposts/ldap: unexpected provider shape');
  }
  return { pk: p['pk'], applicationSlug: p['application_slug'], flowSlug: p['bind_flow_slug'] };
}

/** One uncached bind's worth of core calls; resolves true when the core let the user in. */
async function bindFlow(client: Client, provider: Provider, username: string, password: string): Promise<boolean> {
  const cookies = new Map<string, string>();
  const api = `${client.base.pathname}api/v3`;
  const executor = `${api}/flows/executor/${encodeURIComponent(provider.flowSlug)}/?query=${encodeURIComponent('goauthentik.io/outpost/ldap=true')}`;
  let challenge = json(await client.exchange('GET', executor, cookies), 'executor');
  for (let posts = 0; posts <= 10; posts++) {
    const component = challenge['component'];
    let answer: Record<string, unknown>;
    if (component === 'xak-flow-redirect') {
      const access = json(await client.exchange('GET', `${api}/outposts/ldap/${provider.pk}/check_access/?app_slug=${encodeURIComponent(provider.applicationSlug)}`, cookies), 'check_access');
      json(await client.exchange('GET', `${api}/core/users/me/`, cookies), 'users/me');
      return access['access'] !== undefined ? (access['access'] as { passing?: unknown }).passing === true : true;
    } else if (component === 'ak-stage-identification') answer = { component, uid_field: username, password };
    else if (component === 'ak-stage-password') answer = { component, password };
    else if (component === 'ak-stage-user-login') answer = { component, remember_me: true };
    else return false;
    challenge = json(await client.exchange('POST', executor, cookies, JSON.stringify(answer)), 'executor');
  }
  return false;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
}

async function main(): Promise<void> {
  const o = benchCommandLine('flow-direct.js', USAGE, { allowPositionals: true }, ({ positionals }) => {
    if (positionals.length > 1) throw new UsageError('expected one argument, the JSON options');
    return parseOptions(positionals[0]);
  });
  if (o.token === '') throw new Error('AKO_BENCH_TOKEN is not set');
  const client = new Client(o.url, o.token, o.concurrency);
  const provider = await ldapProvider(client);
  const MAX_SAMPLES = 2_000_000;
  const samples = new Float64Array(MAX_SAMPLES);
  let count = 0;
  let ops = 0;
  let errors = 0;
  const started = performance.now();
  const measureAt = started + o.warmupSeconds * 1000;
  const endAt = measureAt + o.seconds * 1000;
  let cpuAtMeasure = process.cpuUsage();
  let measuring = false;
  const measureTimer = setTimeout(() => {
    measuring = true;
    cpuAtMeasure = process.cpuUsage();
    process.stdout.write('{"event":"measure"}\n');
  }, o.warmupSeconds * 1000);
  let cpuAtEnd: NodeJS.CpuUsage | undefined;
  const endTimer = setTimeout(() => {
    cpuAtEnd = process.cpuUsage(cpuAtMeasure);
    process.stdout.write('{"event":"end"}\n');
  }, o.warmupSeconds * 1000 + o.seconds * 1000);
  let seed = 12345;
  const nextIndex = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return o.lo + (seed % (o.hi - o.lo + 1));
  };
  const worker = async (): Promise<void> => {
    while (performance.now() < endAt) {
      const i = nextIndex();
      const user = `user${String(i).padStart(5, '0')}`;
      const password = `pass${String(i).padStart(5, '0')}`;
      const t0 = performance.now();
      let ok: boolean;
      try {
        ok = await bindFlow(client, provider, user, password);
      } catch {
        ok = false;
      }
      const t1 = performance.now();
      if (t1 >= measureAt && t1 <= endAt && measuring) {
        ops++;
        if (!ok) errors++;
        if (count < MAX_SAMPLES) samples[count++] = t1 - t0;
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  clearTimeout(measureTimer);
  clearTimeout(endTimer);
  const cpu = cpuAtEnd ?? process.cpuUsage(cpuAtMeasure);
  if (cpuAtEnd === undefined) process.stdout.write('{"event":"end"}\n');
  const sorted = samples.slice(0, count).sort();
  const ms = (v: number): number => Math.round(v * 1000) / 1000;
  process.stdout.write(
    `${JSON.stringify({
      ops,
      errors,
      seconds: o.seconds,
      opsPerSecond: ops / o.seconds,
      latencyMs: { p50: ms(percentile(sorted, 50)), p90: ms(percentile(sorted, 90)), p99: ms(percentile(sorted, 99)), max: ms(percentile(sorted, 100)) },
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
    })}\n`,
  );
  await client.transport.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`flow-direct: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
