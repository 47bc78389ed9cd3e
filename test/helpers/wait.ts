/** Polls `probe` every 50 ms until it holds; resolves with the milliseconds waited, rejects after `timeoutMs`. */
import { performance } from 'node:perf_hooks';

export async function waitFor(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<number> {
  const started = performance.now();
  while (!(await probe())) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return performance.now() - started;
}
