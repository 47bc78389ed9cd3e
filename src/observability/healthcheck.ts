/**
 * `ak-outpost healthcheck` (reference §1.1, §5.4): HEAD /outpost.goauthentik.io/ping over the metrics unix socket,
 * falling back to the first TCP metrics address. 0 when a response below 400 arrives, else 1.
 */
import { request } from 'node:http';
import type { OutpostConfig } from '../config/env.js';
import { METRICS_LIMITS } from '../config/limits.js';
import { connectHost } from '../lib/listen-address.js';
import { PING_PATH } from './server.js';

export const HEALTHCHECK_USER_AGENT = 'goauthentik.io/healthcheck';

type Target = { socketPath: string } | { host: string; port: number };

export async function runHealthcheck(
  config: Pick<OutpostConfig, 'metricsSocketPath' | 'listen'>,
  options: { timeoutMs?: number } = {},
): Promise<0 | 1> {
  const timeoutMs = options.timeoutMs ?? METRICS_LIMITS.healthcheckTimeoutMs;
  const targets: Target[] = [{ socketPath: config.metricsSocketPath }];
  const first = config.listen.metrics[0];
  if (first !== undefined) targets.push({ host: connectHost(first.host), port: first.port });
  for (const target of targets) {
    const status = await ping(target, timeoutMs);
    if (status !== undefined) return status < 400 ? 0 : 1;
  }
  return 1;
}

/** The status code, or undefined when no response arrived. */
function ping(target: Target, timeoutMs: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request(
      {
        ...target,
        method: 'HEAD',
        path: PING_PATH,
        headers: { 'user-agent': HEALTHCHECK_USER_AGENT, host: 'localhost' },
        timeout: timeoutMs,
        agent: false,
      },
      (res) => {
        res.resume();
        resolve(res.statusCode);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(undefined));
    req.end();
  });
}
