/** A byte-level RADIUS client on loopback for tests: one datagram out, the first answer (or none) back. */
import dgram from 'node:dgram';
import { Attr, Code, encodeRequest, hideUserPassword, textAttribute, type RadiusAttribute } from '../../src/protocol/radius/index.js';
import { randomBytes } from 'node:crypto';

export interface SendOptions {
  port: number;
  /** Source address (any 127.0.0.0/8 address works on Linux loopback). */
  from?: string;
  /** How long to wait for an answer before deciding there is none. */
  waitMs?: number;
  /** Send the same datagram this many times (retransmissions), collecting every answer. */
  times?: number;
  /** Once those are answered, send it once more from the same socket (a retransmission after completion). */
  resendAfterAnswers?: boolean;
}

/** Sends `datagram` to 127.0.0.1:port; resolves with every answer received within waitMs of the last send. */
export async function exchange(datagram: Buffer, options: SendOptions): Promise<Buffer[]> {
  const socket = dgram.createSocket('udp4');
  const answers: Buffer[] = [];
  socket.on('message', (msg) => answers.push(msg));
  await new Promise<void>((resolve) => socket.bind({ address: options.from ?? '127.0.0.1', port: 0 }, resolve));
  const send = (): Promise<void> =>
    new Promise<void>((resolve, reject) => socket.send(datagram, options.port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  const waitFor = async (count: number): Promise<void> => {
    const deadline = Date.now() + (options.waitMs ?? 1_500);
    while (Date.now() < deadline && answers.length < count) await new Promise((r) => setTimeout(r, 20));
  };
  const times = options.times ?? 1;
  for (let i = 0; i < times; i++) await send();
  await waitFor(times);
  if (options.resendAfterAnswers === true) {
    await send();
    await waitFor(times + 1);
  }
  if (times > 1) await new Promise((r) => setTimeout(r, 200)); // a late extra answer would show here
  socket.close();
  return answers;
}

/** The first answer, or undefined when none came. */
export async function ask(datagram: Buffer, options: SendOptions): Promise<Buffer | undefined> {
  return (await exchange(datagram, options))[0];
}

/** A PAP Access-Request (Message-Authenticator first unless `messageAuthenticator` is false). */
export function papRequest(
  username: string,
  password: string,
  secret: string,
  options: { identifier?: number; messageAuthenticator?: boolean; extra?: RadiusAttribute[] } = {},
): { datagram: Buffer; authenticator: Buffer } {
  const authenticator = randomBytes(16);
  const datagram = encodeRequest(
    {
      code: Code.AccessRequest,
      identifier: options.identifier ?? 7,
      authenticator,
      attributes: [
        textAttribute(Attr.UserName, username),
        { type: Attr.UserPassword, value: hideUserPassword(password, secret, authenticator) },
        ...(options.extra ?? []),
      ],
    },
    secret,
    options.messageAuthenticator ?? true,
  );
  return { datagram, authenticator };
}
