/**
 * CPU per RADIUS decode+encode pair: ours against the `radius` package (dev dependency), on the reference's
 * Access-Request (Message-Authenticator, User-Name, User-Password, NAS-IP-Address, NAS-Port) answered with an
 * Access-Accept carrying three attributes. Both sides do the same work: parse, check the request's
 * Message-Authenticator, reveal the password, read the text values, then build and sign the reply.
 * Run: npx tsc -p tsconfig.json && node dist/bench/radius-codec.js. Not part of npm test.
 */
import radius from 'radius';
import { checkMessageAuthenticator } from '../src/protocol/radius/authenticators.js';
import { encodeResponse } from '../src/protocol/radius/build.js';
import { Attr, Code } from '../src/protocol/radius/dictionary.js';
import { unhideUserPassword } from '../src/protocol/radius/hiding.js';
import { decodePacket, getAttribute } from '../src/protocol/radius/packet.js';
import { integerAttribute, ipv4Value, textAttribute, textValue } from '../src/protocol/radius/values.js';

const request = Buffer.from(
  '018f004d4ad54798bf180e4b6add00c799b4a6575012a5f71688c5d8d9ec19c85147095fe5600109616b61646d696e' +
    '0212373608a372200ff4c00cd240c1c33fef04060a78144c05060000000a',
  'hex',
);
const secret = 'foo';
const replyAttributes = [textAttribute(Attr.ReplyMessage, 'welcome'), integerAttribute(Attr.SessionTimeout, 3600), { type: Attr.Class, value: Buffer.from('class-1') }];

function ours(): Buffer {
  const packet = decodePacket(request);
  if (checkMessageAuthenticator(request, secret) !== 'valid') throw new Error('bad Message-Authenticator');
  textValue(getAttribute(packet, Attr.UserName)!);
  unhideUserPassword(getAttribute(packet, Attr.UserPassword)!, secret, packet.authenticator).toString('utf8');
  ipv4Value(getAttribute(packet, Attr.NasIpAddress)!);
  return encodeResponse(packet, Code.AccessAccept, replyAttributes, secret);
}

function theirs(): Buffer {
  const packet = radius.decode({ packet: request, secret });
  return radius.encode_response({
    packet,
    code: 'Access-Accept',
    secret,
    attributes: [['Reply-Message', 'welcome'], ['Session-Timeout', 3600], ['Class', Buffer.from('class-1')]],
  });
}

/** Microseconds of CPU (user + system) per call, over at least `budgetMs` of CPU after a warm-up. */
function cpuPerCall(run: () => unknown, budgetMs = 1500): number {
  for (let i = 0; i < 20_000; i++) run();
  const start = process.cpuUsage();
  let calls = 0;
  let used = 0;
  do {
    for (let i = 0; i < 1_000; i++) run();
    calls += 1_000;
    const delta = process.cpuUsage(start);
    used = delta.user + delta.system;
  } while (used < budgetMs * 1000);
  return used / calls;
}

const oursUs = cpuPerCall(ours);
const theirsUs = cpuPerCall(theirs);
console.log(`node ${process.version}; Access-Request of ${request.length} octets, Access-Accept with 3 attributes`);
console.log(`ak-outpost codec       ${oursUs.toFixed(2).padStart(7)} us CPU per decode+encode`);
console.log(`radius package 1.1.4   ${theirsUs.toFixed(2).padStart(7)} us CPU per decode+encode`);
console.log(`ratio                  ${(theirsUs / oursUs).toFixed(2).padStart(7)}x`);
