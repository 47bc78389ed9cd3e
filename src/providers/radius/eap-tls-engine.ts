/**
 * A TLS server running over memory for the TLS-based EAP methods: a tls.TLSSocket (isServer) on one end of a
 * stream.duplexPair, the EAP side on the other. The peer's TLS records go in with feed(); what the engine writes
 * back (one flight, possibly in several writes) and the application data it decrypted come out of it.
 */
import { Buffer } from 'node:buffer';
import { duplexPair } from 'node:stream';
import { TLSSocket, type SecureContext } from 'node:tls';
import type { TlsSession } from '../../protocol/eap/index.js';

export interface TlsFlight {
  /** TLS records to send to the peer (empty when the engine had nothing to say). */
  readonly records: Buffer;
  /** Application data the peer sent, decrypted. */
  readonly plaintext: Buffer;
}

/** Event-loop turns without new output after which a flight counts as complete. */
const QUIET_TURNS = 2;

export class EapTlsEngine {
  readonly #socket: TLSSocket;
  readonly #wire: ReturnType<typeof duplexPair>[1];
  #records: Buffer[] = [];
  #plaintext: Buffer[] = [];
  #failure: Error | undefined;
  #established = false;

  constructor(context: SecureContext, options: { requestCert: boolean }) {
    const [inner, wire] = duplexPair();
    this.#wire = wire;
    // The peer certificate is only required here; the flow decides whether it identifies a user (as authentik).
    this.#socket = new TLSSocket(inner, { isServer: true, secureContext: context, requestCert: options.requestCert, rejectUnauthorized: false });
    this.#socket.on('secure', () => {
      this.#established = true;
    });
    this.#socket.on('data', (chunk: Buffer) => this.#plaintext.push(chunk));
    this.#socket.on('error', (err: Error) => {
      this.#failure ??= err;
    });
    wire.on('data', (chunk: Buffer) => this.#records.push(chunk));
    wire.on('error', (err: Error) => {
      this.#failure ??= err;
    });
  }

  /** True once the handshake finished. */
  get established(): boolean {
    return this.#established;
  }

  /** The session, for key export, once established. */
  get session(): TlsSession {
    return this.#socket;
  }

  /** The peer's leaf certificate as PEM, if it sent one. */
  peerCertificatePem(): string | undefined {
    const cert = this.#socket.getPeerX509Certificate();
    return cert?.toString();
  }

  /** Feeds the peer's records (may be empty) and collects the engine's answer. Rejects when TLS failed. */
  async feed(records: Buffer): Promise<TlsFlight> {
    if (records.length > 0) this.#wire.write(records);
    return this.#collect();
  }

  /** Encrypts application data for the peer and collects the records. */
  async send(plaintext: Buffer): Promise<TlsFlight> {
    this.#socket.write(plaintext);
    return this.#collect();
  }

  destroy(): void {
    this.#socket.destroy();
    this.#wire.destroy();
  }

  async #collect(): Promise<TlsFlight> {
    let quiet = 0;
    let seen = -1;
    while (quiet < QUIET_TURNS) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      const count = this.#records.length + this.#plaintext.length;
      quiet = count === seen ? quiet + 1 : 0;
      seen = count;
    }
    if (this.#failure !== undefined) throw this.#failure;
    const flight = { records: Buffer.concat(this.#records), plaintext: Buffer.concat(this.#plaintext) };
    this.#records = [];
    this.#plaintext = [];
    return flight;
  }
}
