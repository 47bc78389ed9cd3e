/** Shared pieces of the LDAP listener tests: a throwaway certificate, a scriptable handler, small waits. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import type { LdapConnectionView, LdapHandler, ResponseSink } from '../../../src/listeners/ldap/handler.js';
import type { LdapMessage } from '../../../src/protocol/ldap/messages.js';
import { Oid } from '../../../src/protocol/ldap/oids.js';

export interface TestCertificate {
  key: string;
  cert: string;
}

/** Self-signed P-256 certificate for localhost, made with openssl in a temporary directory. */
export function makeCertificate(commonName = 'localhost'): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'ako-ldap-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
        '-subj', `/CN=${commonName}`, '-addext', `subjectAltName=DNS:${commonName},IP:127.0.0.1`,
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function secureContext(cert: TestCertificate): tls.SecureContext {
  return tls.createSecureContext({ key: cert.key, cert: cert.cert, minVersion: 'TLSv1.2' });
}

/** A promise with its resolver, for gating handler work from a test. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Resolves once `check` is true, polling each macrotask turn; rejects after `ms`. */
export async function until(check: () => boolean, ms = 2_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

export interface HandlerCall {
  msg: LdapMessage;
  conn: LdapConnectionView;
  out: ResponseSink;
  signal: AbortSignal;
}

/**
 * A fake provider: bind succeeds and sets boundDn, search returns one entry named after the base (with the
 * messageID as an attribute), WhoAmI answers `dn:<boundDn>`, anything else is unwillingToPerform. `gate`
 * lets a test hold an operation until it says so.
 */
export function fakeHandler(options: { gate?: (msg: LdapMessage) => Promise<void> | undefined } = {}): LdapHandler & {
  calls: HandlerCall[];
  closed: LdapConnectionView[];
} {
  const calls: HandlerCall[] = [];
  const closed: LdapConnectionView[] = [];
  return {
    calls,
    closed,
    async handle(msg, conn, out) {
      calls.push({ msg, conn, out, signal: out.signal });
      const gate = options.gate?.(msg);
      if (gate !== undefined) await gate;
      const op = msg.op;
      switch (op.kind) {
        case 'BindRequest':
          conn.boundDn = op.name;
          out.done(0);
          return;
        case 'SearchRequest':
          await out.send({
            kind: 'SearchResultEntry',
            objectName: op.baseObject,
            attributes: [{ type: 'messageID', values: [Buffer.from(String(msg.messageID))] }],
          });
          out.done(0);
          return;
        case 'ExtendedRequest':
          if (op.requestName === Oid.whoAmI) {
            out.done(0, { responseValue: Buffer.from(conn.boundDn === '' ? '' : `dn:${conn.boundDn}`) });
            return;
          }
          out.done(53);
          return;
        default:
          out.done(53);
      }
    },
    onClose(conn) {
      closed.push(conn);
    },
  };
}
