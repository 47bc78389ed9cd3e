/** Packets with known bytes: the reference's test vectors (its section 3.3 and 5.1) and RFC 2865 section 7.1. */
export const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Reference 5.1: Access-Request, secret "foo", id 0x8f, MA first, User-Name akadmin, password "foo". */
export const referenceRequest = hex(
  '018f004d4ad54798bf180e4b6add00c799b4a657 5012a5f71688c5d8d9ec19c85147095fe560 0109616b61646d696e ' +
    '0212373608a372200ff4c00cd240c1c33fef 04060a78144c 05060000000a',
);
export const referenceSecret = 'foo';
/** Reference 3.3: replies to referenceRequest carrying only Message-Authenticator. */
export const referenceAccept = hex('028f0026 6210e470cae863f91162f01a09bd35cd 5012 33b57a2a13b4e31315b9c9af4bd3ecb5');
export const referenceReject = hex('038f0026 cb62c8e14400b67ec669afa9195ea190 5012 9ceb86f71f3bdd62da8b543e44b06d3c');

/** RFC 2865 section 7.1: user "nemo", password "arctangent", secret "xyzzy5461". */
export const rfc2865Secret = 'xyzzy5461';
export const rfc2865Request = hex(
  '01000038 0f403f9473978057bd83d5cb98f4227a 01066e656d6f 02120dbe708d93d413ce3196e43f782a0aee 0406c0a80110 050600000003',
);
/** Its Access-Accept: Service-Type Login, Login-Service Telnet, Login-IP-Host 192.168.1.3. */
export const rfc2865Accept = hex('02000026 86fe220e7624ba2a1005f6bf9b55e0b2 0606000000010f06000000000e06c0a80103');
