/**
 * A tiny promise LDAP client over the codec, for tests and benchmarks. Requests may be pipelined: each gets its
 * own messageID and resolves with every message the server sent for it, up to the final response.
 */
import { Buffer } from 'node:buffer';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { FrameReader } from '../../src/protocol/ber/framer.js';
import type { Control } from '../../src/protocol/ldap/controls.js';
import { parseFilter, type Filter } from '../../src/protocol/ldap/filter.js';
import {
  decodeMessage,
  encodeMessage,
  type BindResponse,
  type ExtendedResponse,
  type LdapMessage,
  type LdapOp,
  type SearchRequest,
  type SearchResultDone,
  type SearchResultEntry,
} from '../../src/protocol/ldap/messages.js';
import { Oid } from '../../src/protocol/ldap/oids.js';
import { LDAP_DECODE_LIMITS } from '../../src/config/limits.js';
import type { DecodeLimits } from '../../src/protocol/limits.js';

const FINAL_KINDS = new Set([
  'BindResponse',
  'SearchResultDone',
  'ModifyResponse',
  'AddResponse',
  'DelResponse',
  'ModifyDNResponse',
  'CompareResponse',
  'ExtendedResponse',
]);

interface Pending {
  messages: LdapMessage[];
  resolve: (messages: LdapMessage[]) => void;
  reject: (err: Error) => void;
}

export class LdapTestClient {
  stream: Duplex;
  /** Messages with messageID 0 (Notice of Disconnection). */
  readonly notices: LdapMessage[] = [];
  /** Messages for no pending request (e.g. after an Abandon). */
  readonly unexpected: LdapMessage[] = [];
  #reader: FrameReader;
  readonly #limits: DecodeLimits;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed = false;
  #closedPromise: Promise<void>;
  #resolveClosed!: () => void;
  #error: Error | undefined;

  constructor(stream: Duplex, limits: DecodeLimits = { ...LDAP_DECODE_LIMITS, maxMessageBytes: 64 * 1024 * 1024 }) {
    this.stream = stream;
    this.#limits = limits;
    this.#reader = new FrameReader(limits);
    this.#closedPromise = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.#attach(stream);
  }

  static connect(port: number, host = '127.0.0.1'): Promise<LdapTestClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host }, () => {
        socket.off('error', reject);
        resolve(new LdapTestClient(socket));
      });
      socket.once('error', reject);
    });
  }

  static connectTls(port: number, options: tls.ConnectionOptions = {}, host = '127.0.0.1'): Promise<LdapTestClient> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ port, host, rejectUnauthorized: false, ...options }, () => {
        socket.off('error', reject);
        resolve(new LdapTestClient(socket));
      });
      socket.once('error', reject);
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  whenClosed(): Promise<void> {
    return this.#closedPromise;
  }

  nextMessageID(): number {
    return this.#nextId++;
  }

  /** Writes one message; returns its messageID. */
  send(op: LdapOp, controls: Control[] = [], messageID = this.nextMessageID()): number {
    this.stream.write(encodeMessage({ messageID, op, controls }));
    return messageID;
  }

  /** Sends `op` and resolves with every message answering it, the final response last. */
  request(op: LdapOp, controls: Control[] = [], messageID = this.nextMessageID()): Promise<LdapMessage[]> {
    const promise = this.expect(messageID);
    this.send(op, controls, messageID);
    return promise;
  }

  /** Waits for the responses to a messageID sent by other means (sendRaw, pipelined writes). */
  expect(messageID: number): Promise<LdapMessage[]> {
    if (this.#closed) return Promise.reject(this.#error ?? new Error('connection closed'));
    return new Promise((resolve, reject) => {
      this.#pending.set(messageID, { messages: [], resolve, reject });
    });
  }

  async bind(name: string, password: string): Promise<BindResponse> {
    const messages = await this.request({ kind: 'BindRequest', version: 3, name, auth: { type: 'simple', password: Buffer.from(password) } });
    return messages.at(-1)!.op as BindResponse;
  }

  async search(
    baseObject: string,
    /** RFC 4515 text, or a filter the text parser would refuse (beyond the decode limits, say). */
    filter: string | Filter = '(objectClass=*)',
    options: Partial<Omit<SearchRequest, 'kind' | 'filter' | 'baseObject'>> = {},
    controls: Control[] = [],
  ): Promise<{ entries: SearchResultEntry[]; done: SearchResultDone; messages: LdapMessage[] }> {
    const messages = await this.request(
      {
        kind: 'SearchRequest',
        baseObject,
        scope: 2,
        derefAliases: 0,
        sizeLimit: 0,
        timeLimit: 0,
        typesOnly: false,
        attributes: [],
        ...options,
        filter: typeof filter === 'string' ? parseFilter(filter) : filter,
      },
      controls,
    );
    const entries = messages.filter((m) => m.op.kind === 'SearchResultEntry').map((m) => m.op as SearchResultEntry);
    return { entries, done: messages.at(-1)!.op as SearchResultDone, messages };
  }

  async extended(requestName: string, requestValue?: Buffer): Promise<ExtendedResponse> {
    const op: LdapOp = { kind: 'ExtendedRequest', requestName };
    if (requestValue !== undefined) op.requestValue = requestValue;
    const messages = await this.request(op);
    return messages.at(-1)!.op as ExtendedResponse;
  }

  /** StartTLS; on success the client continues over TLS on the same stream. Resolves with the response. */
  async startTls(options: tls.ConnectionOptions = {}): Promise<ExtendedResponse> {
    const messageID = this.nextMessageID();
    const response = new Promise<ExtendedResponse>((resolve, reject) => {
      this.#pending.set(messageID, {
        messages: [],
        resolve: (messages) => {
          const op = messages.at(-1)!.op as ExtendedResponse;
          // Detach synchronously, before any byte after the response could be read as LDAP.
          if (op.resultCode === 0) {
            this.#detach(this.stream);
            this.stream.on('error', () => {}); // the TLS socket reports errors from now on
          }
          resolve(op);
        },
        reject,
      });
    });
    this.send({ kind: 'ExtendedRequest', requestName: Oid.startTls }, [], messageID);
    const op = await response;
    if (op.resultCode !== 0) return op;
    const raw = this.stream;
    const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const socket = tls.connect({ socket: raw, rejectUnauthorized: false, ...options }, () => {
        socket.off('error', reject);
        resolve(socket);
      });
      socket.once('error', reject);
    });
    this.stream = secure;
    this.#reader = new FrameReader(this.#limits);
    this.#attach(secure);
    return op;
  }

  abandon(messageID: number): void {
    this.send({ kind: 'AbandonRequest', messageID });
  }

  unbind(): void {
    this.send({ kind: 'UnbindRequest' });
  }

  /** Ends our side; resolves once the connection is closed. */
  async close(): Promise<void> {
    if (!this.#closed) this.stream.end();
    await this.#closedPromise;
  }

  destroy(): void {
    this.stream.destroy();
  }

  #attach(stream: Duplex): void {
    stream.on('data', this.#onData);
    stream.on('error', this.#onError);
    stream.on('close', this.#onClose);
  }

  #detach(stream: Duplex): void {
    stream.off('data', this.#onData);
    stream.off('error', this.#onError);
    stream.off('close', this.#onClose);
  }

  readonly #onData = (chunk: Buffer): void => {
    this.#reader.push(chunk);
    for (;;) {
      const frame = this.#reader.next();
      if (frame === null) return;
      const msg = decodeMessage(frame, this.#limits);
      if (msg.messageID === 0) {
        this.notices.push(msg);
        continue;
      }
      const pending = this.#pending.get(msg.messageID);
      if (pending === undefined) {
        this.unexpected.push(msg);
        continue;
      }
      pending.messages.push(msg);
      if (FINAL_KINDS.has(msg.op.kind)) {
        this.#pending.delete(msg.messageID);
        pending.resolve(pending.messages);
        // StartTLS detaches us; the rest of this chunk (if any) is not ours to read.
        if (!this.stream.listeners('data').includes(this.#onData)) return;
      }
    }
  };

  readonly #onError = (err: Error): void => {
    this.#error = err;
  };

  readonly #onClose = (): void => {
    this.#closed = true;
    const err = this.#error ?? new Error('connection closed');
    for (const pending of this.#pending.values()) pending.reject(err);
    this.#pending.clear();
    this.#resolveClosed();
  };
}
