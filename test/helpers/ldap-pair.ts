/**
 * An in-memory socket pair (Node 20 has no stream.duplexPair). Bytes written to one side are read from the other,
 * with real backpressure: a write completes only once the peer's readable buffer is below its high-water mark,
 * so a slow reader holds the writer back like a TCP window does.
 */
import { Duplex } from 'node:stream';

class PairSide extends Duplex {
  peer: PairSide | undefined;
  /** Write callback held until the peer reads again. */
  #pendingWrite: (() => void) | undefined;
  #peerGone = false;

  constructor(highWaterMark: number) {
    // Like net.Socket's default: when the peer ends, end our side too.
    super({ highWaterMark, allowHalfOpen: false });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const peer = this.peer;
    if (peer === undefined || this.#peerGone || peer.destroyed) {
      callback(Object.assign(new Error('write after peer closed'), { code: 'EPIPE' }));
      return;
    }
    if (peer.push(chunk)) callback();
    else peer.releaseWriter(() => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.peer !== undefined && !this.#peerGone) this.peer.push(null);
    callback();
  }

  override _read(): void {
    const release = this.#pendingWrite;
    this.#pendingWrite = undefined;
    release?.();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const peer = this.peer;
    if (peer !== undefined && !peer.#peerGone) {
      peer.#peerGone = true;
      // The peer sees end of stream, as after a TCP close; its unread bytes stay readable.
      if (!peer.destroyed && !peer.readableEnded) peer.push(null);
      const held = peer.#pendingWrite;
      peer.#pendingWrite = undefined;
      held?.();
      this.#releasePeerWriter();
    }
    callback(error);
  }

  /** Called by the peer: complete its write once this side reads. */
  releaseWriter(release: () => void): void {
    this.#pendingWrite = release;
  }

  #releasePeerWriter(): void {
    // A peer blocked writing to us must not hang once we are gone.
    const peer = this.peer;
    if (peer === undefined) return;
    const release = this.#pendingWrite;
    this.#pendingWrite = undefined;
    release?.();
  }
}

export interface DuplexPair {
  /** Give this one to the server (e.g. LdapListener.handle). */
  server: Duplex;
  /** The test drives this one as the client. */
  client: Duplex;
}

export function duplexPair(options: { highWaterMark?: number } = {}): DuplexPair {
  const hwm = options.highWaterMark ?? 16 * 1024;
  const a = new PairSide(hwm);
  const b = new PairSide(hwm);
  a.peer = b;
  b.peer = a;
  return { server: a, client: b };
}
