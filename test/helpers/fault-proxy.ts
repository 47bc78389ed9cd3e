/**
 * A TCP proxy between the outpost and the embedded core that injects the faults of the resilience suite:
 * `pass` pipes bytes, `hang` accepts and never answers (a core stuck in a slow query), `refuse` closes every new
 * connection at once, `cut()` ends every open connection (WebSocket included), `delayMs` holds every answer
 * from the core back that long (a slow core, requests still in flight). It counts what it saw, so a test
 * can assert how many connections the outpost opened while the core hung.
 */
import net from 'node:net';

export type FaultMode = 'pass' | 'hang' | 'refuse';

export class FaultProxy {
  readonly #server: net.Server;
  readonly #target: { host: string; port: number };
  readonly #open = new Set<net.Socket>();
  #mode: FaultMode = 'pass';
  /** In `pass` mode, each chunk from the core reaches the outpost this much later (order kept). */
  delayMs = 0;
  #port = 0;
  /** Most connections open at once while in `hang` mode. */
  peakHanging = 0;
  #hanging = 0;
  accepted = 0;

  private constructor(target: { host: string; port: number }) {
    this.#target = target;
    this.#server = net.createServer((client) => this.#accept(client));
  }

  static async start(targetUrl: string): Promise<FaultProxy> {
    const url = new URL(targetUrl);
    const proxy = new FaultProxy({ host: url.hostname, port: Number(url.port) });
    await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve));
    const address = proxy.#server.address();
    if (address === null || typeof address === 'string') throw new Error('no address');
    proxy.#port = address.port;
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}/`;
  }

  get mode(): FaultMode {
    return this.#mode;
  }

  set mode(mode: FaultMode) {
    this.#mode = mode;
    if (mode === 'hang') this.peakHanging = this.#hanging;
  }

  /** Ends every connection open now (both sides), whatever the mode. */
  cut(): void {
    for (const socket of this.#open) socket.destroy();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #track(socket: net.Socket): void {
    this.#open.add(socket);
    socket.on('close', () => this.#open.delete(socket));
    socket.on('error', () => socket.destroy());
  }

  #accept(client: net.Socket): void {
    this.accepted++;
    this.#track(client);
    if (this.#mode === 'refuse') {
      client.destroy();
      return;
    }
    if (this.#mode === 'hang') {
      this.#hanging++;
      this.peakHanging = Math.max(this.peakHanging, this.#hanging);
      client.on('close', () => this.#hanging--);
      client.resume(); // read and forget: the request never gets an answer
      return;
    }
    const upstream = net.connect(this.#target);
    this.#track(upstream);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (this.delayMs <= 0) client.write(chunk);
      else setTimeout(() => client.write(chunk), this.delayMs);
    });
  }
}
