export * from './keys.js';
export * from './packet.js';
export * from './peap.js';
export * from './tls-framing.js';
export * from './ttls-avp.js';
