/**
 * EAP-TTLS/PAP authentications for the bench: hostapd's eapol_test (Debian eapoltest) as supplicant and NAS, a
 * number of conversations with a bound on how many run at once, each a process of its own with a config file.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type TlsVersion = '1.2' | '1.3';

export interface EapolBatchOptions {
  port: number;
  secret: string;
  caFile: string;
  users: ReadonlyArray<{ name: string; password: string }>;
  tls: TlsVersion;
  total: number;
  concurrency: number;
  /** Where the config files go. */
  dir: string;
}

export interface EapolBatchResult {
  succeeded: number;
  failed: number;
  /** Conversations whose MS-MPPE keys matched the MSK eapol_test derived. */
  keysMatched: number;
  seconds: number;
  /** The last failure's output tail, for the log. */
  lastFailure: string | undefined;
}

const PHASE1: Record<TlsVersion, string> = {
  '1.2': 'tls_disable_tlsv1_0=1 tls_disable_tlsv1_1=1 tls_disable_tlsv1_2=0 tls_disable_tlsv1_3=1',
  '1.3': 'tls_disable_tlsv1_0=1 tls_disable_tlsv1_1=1 tls_disable_tlsv1_2=1 tls_disable_tlsv1_3=0',
};

function eapolTest(conf: string, options: EapolBatchOptions): Promise<{ ok: boolean; keysOk: boolean; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('eapol_test', ['-c', conf, '-a', '127.0.0.1', '-p', String(options.port), '-s', options.secret, '-t', '10'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (err) => resolve({ ok: false, keysOk: false, output: err.message }));
    child.on('close', (code) =>
      resolve({ ok: code === 0 && /^SUCCESS$/m.test(output), keysOk: /MPPE keys OK: 1 {2}mismatch: 0/.test(output), output }),
    );
  });
}

export async function runEapolBatch(options: EapolBatchOptions): Promise<EapolBatchResult> {
  const started = performance.now();
  let next = 0;
  const result: EapolBatchResult = { succeeded: 0, failed: 0, keysMatched: 0, seconds: 0, lastFailure: undefined };
  const worker = async (slot: number): Promise<void> => {
    for (let i = next++; i < options.total; i = next++) {
      const user = options.users[i % options.users.length]!;
      const conf = join(options.dir, `eapol-${options.tls}-${slot}.conf`);
      writeFileSync(
        conf,
        `network={\n  key_mgmt=WPA-EAP\n  eap=TTLS\n  identity="${user.name}"\n  anonymous_identity="anonymous"\n  password="${user.password}"\n  phase2="auth=PAP"\n  phase1="${PHASE1[options.tls]}"\n  ca_cert="${options.caFile}"\n}\n`,
        { mode: 0o600 },
      );
      const r = await eapolTest(conf, options);
      if (r.ok) result.succeeded++;
      else {
        result.failed++;
        result.lastFailure = r.output.slice(-1500);
      }
      if (r.keysOk) result.keysMatched++;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, slot) => worker(slot)));
  result.seconds = (performance.now() - started) / 1000;
  return result;
}
