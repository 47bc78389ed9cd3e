/**
 * The RADIUS numbers we use: packet codes (RFC 2865, 2866, 5176, 5997), attribute types (RFC 2865, 2866, 2868,
 * 2869, 3162, 3579) and the Microsoft vendor attributes (RFC 2548). Names are for logs; the codec itself works
 * with any number.
 */

export const Code = Object.freeze({
  AccessRequest: 1,
  AccessAccept: 2,
  AccessReject: 3,
  AccountingRequest: 4,
  AccountingResponse: 5,
  AccessChallenge: 11,
  StatusServer: 12,
  DisconnectRequest: 40,
  DisconnectAck: 41,
  DisconnectNak: 42,
  CoaRequest: 43,
  CoaAck: 44,
  CoaNak: 45,
});

export const Attr = Object.freeze({
  UserName: 1,
  UserPassword: 2,
  ChapPassword: 3,
  NasIpAddress: 4,
  NasPort: 5,
  ServiceType: 6,
  FramedProtocol: 7,
  FramedIpAddress: 8,
  FramedMtu: 12,
  ReplyMessage: 18,
  Class: 25,
  VendorSpecific: 26,
  SessionTimeout: 27,
  IdleTimeout: 28,
  CalledStationId: 30,
  CallingStationId: 31,
  NasIdentifier: 32,
  ProxyState: 33,
  State: 24,
  AcctStatusType: 40,
  AcctSessionId: 44,
  ChapChallenge: 60,
  NasPortType: 61,
  TunnelType: 64,
  TunnelMediumType: 65,
  TunnelClientEndpoint: 66,
  TunnelServerEndpoint: 67,
  TunnelPassword: 69,
  ConnectInfo: 77,
  EapMessage: 79,
  MessageAuthenticator: 80,
  TunnelPrivateGroupId: 81,
  TunnelAssignmentId: 82,
  TunnelPreference: 83,
  NasPortId: 87,
  TunnelClientAuthId: 90,
  TunnelServerAuthId: 91,
  NasIpv6Address: 95,
});

export const Vendor = Object.freeze({ Microsoft: 311 });

/** Microsoft vendor attributes (vendor 311, RFC 2548). */
export const MsAttr = Object.freeze({
  MppeEncryptionPolicy: 7,
  MppeEncryptionTypes: 8,
  MppeSendKey: 16,
  MppeRecvKey: 17,
});

/** RFC 2868 section 3: attributes whose value starts with a tag octet. */
export const TAGGED_ATTRIBUTES: ReadonlySet<number> = new Set([
  Attr.TunnelType,
  Attr.TunnelMediumType,
  Attr.TunnelClientEndpoint,
  Attr.TunnelServerEndpoint,
  Attr.TunnelPassword,
  Attr.TunnelPrivateGroupId,
  Attr.TunnelAssignmentId,
  Attr.TunnelPreference,
  Attr.TunnelClientAuthId,
  Attr.TunnelServerAuthId,
]);

function invert(table: Readonly<Record<string, number>>): ReadonlyMap<number, string> {
  return new Map(Object.entries(table).map(([name, value]) => [value, name]));
}

const codeNames = invert(Code);
const attrNames = invert(Attr);

/** `Code` name of a packet code, or the number as text. */
export function codeName(code: number): string {
  return codeNames.get(code) ?? String(code);
}

/** `Attr` name of an attribute type, or the number as text. */
export function attributeName(type: number): string {
  return attrNames.get(type) ?? String(type);
}
