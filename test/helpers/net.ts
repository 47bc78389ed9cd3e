/** A loopback port that was free a moment ago, for child processes that need a port before they start. */
import net from 'node:net';

// The OS may hand a just-closed port out again: never give the same one twice in one test process.
const handedOut = new Set<number>();

export async function freePort(): Promise<number> {
  for (;;) {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}
