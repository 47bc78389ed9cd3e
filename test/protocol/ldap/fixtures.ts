/**
 * LDAPMessage fixtures as hex. "captured" ones were recorded from OpenLDAP 2.5 clients (ldapsearch, ldapwhoami,
 * ldapmodify, ldapcompare) against a loopback listener; the others are written by hand from RFC 4511 ASN.1.
 * Every fixture is in the canonical form our encoder produces, so decode then encode must give the same bytes.
 */
export interface Fixture {
  name: string;
  hex: string;
}

export const fixtures: Fixture[] = [
  // Requests (captured)
  { name: 'anonymous simple bind (ldapsearch -x)', hex: '300c020101600702010304008000' },
  {
    name: 'simple bind with DN and password (ldapsearch -D -w)',
    hex: '303502010160300201030423636e3d616c6963652c6f753d75736572732c64633d6578616d706c652c64633d636f6d8006736563726574',
  },
  {
    name: 'search with paged results control (ldapsearch -E pr=100/noprompt)',
    hex:
      '307b0201026351041164633d6578616d706c652c64633d636f6d0a01020a0100020100020100010100a021a313040b6f626a656374436c617373' +
      '040475736572a40a0402636e30048002616c300a0402636e04046d61696ca02330210416312e322e3834302e3131333535362e312e342e333139' +
      '040730050201640400',
  },
  {
    name: 'search, scope children, in-chain extensible match and escaped substrings (ldapsearch)',
    hex:
      '30819302010263818d041b6f753d67726f7570732c64633d6578616d706c652c64633d636f6d0a01030a0100020100020100010100a158a94681' +
      '17312e322e3834302e3131333535362e312e342e3139343182066d656d6265728323636e3d616c6963652c6f753d75736572732c64633d657861' +
      '6d706c652c64633d636f6da20ea30c0402636e0406612a6228632930050403312e31',
  },
  { name: 'StartTLS extended request (ldapsearch -ZZ)', hex: '301d02010177188016312e332e362e312e342e312e313436362e3230303337' },
  { name: 'WhoAmI extended request (ldapwhoami)', hex: '301e02010277198017312e332e362e312e342e312e343230332e312e31312e33' },
  { name: 'unbind', hex: '30050201034200' },
  {
    name: 'add request (ldapmodify)',
    hex:
      '305d02010268580421636e3d626f622c6f753d75736572732c64633d6578616d706c652c64633d636f6d30333017040b6f626a656374436c6173' +
      '7331080406706572736f6e300b0402636e31050403626f62300b0402736e31050403426f62',
  },
  {
    name: 'modify request replace + delete (ldapmodify)',
    hex:
      '305702010366520421636e3d626f622c6f753d75736572732c64633d6578616d706c652c64633d636f6d302d301e0a0102301904046d61696c31' +
      '11040f626f62406578616d706c652e636f6d300b0a010130060402736e3100',
  },
  {
    name: 'modify DN request with newSuperior (ldapmodify)',
    hex:
      '30530201046c4e0421636e3d626f622c6f753d75736572732c64633d6578616d706c652c64633d636f6d0409636e3d726f626572740101ff801b' +
      '6f753d70656f706c652c64633d6578616d706c652c64633d636f6d',
  },
  { name: 'delete request (ldapmodify)', hex: '302a0201054a25636e3d726f626572742c6f753d70656f706c652c64633d6578616d706c652c64633d636f6d' },
  {
    name: 'compare request (ldapcompare)',
    hex:
      '30450201026e400423636e3d616c6963652c6f753d75736572732c64633d6578616d706c652c64633d636f6d301904046d61696c0411616c6963' +
      '65406578616d706c652e636f6d',
  },
  // Requests (by hand)
  { name: 'SASL EXTERNAL bind without credentials', hex: '301602010160110201030400a30a040845585445524e414c' },
  { name: 'abandon', hex: '3006020103500102' },
  { name: 'two-octet messageID', hex: '30060202012c4200' },
  { name: 'largest messageID', hex: '300802047fffffff4200' },
  // Responses (by hand)
  { name: 'bind response success', hex: '300c02010161070a010004000400' },
  {
    name: 'search result entry',
    hex: '3020020102641b0408636e3d616c696365300f300d0402636e31070405616c696365',
  },
  {
    name: 'search done with paged results response control',
    hex: '303102010265070a010004000400a02330210416312e322e3834302e3131333535362e312e342e333139040730050201000400',
  },
  { name: 'search result reference', hex: '3010020102730b04096c6461703a2f2f612f' },
  { name: 'modify response with referral', hex: '301902010567140a010a04000400a30b04096c6461703a2f2f622f' },
  {
    name: 'StartTLS response',
    hex: '3024020101781f0a0100040004008a16312e332e362e312e342e312e313436362e3230303337',
  },
  { name: 'WhoAmI response', hex: '301902010278140a0100040004008b0b646e3a636e3d616c696365' },
  {
    name: 'notice of disconnection',
    hex: '302702010078220a0102040004036279658a16312e332e362e312e342e312e313436362e3230303336',
  },
  { name: 'intermediate response', hex: '300f020104790a8005312e322e33810100' },
];

export function fixtureBytes(name: string): Buffer {
  const found = fixtures.find((f) => f.name === name);
  if (found === undefined) throw new Error(`no fixture ${name}`);
  return Buffer.from(found.hex, 'hex');
}
