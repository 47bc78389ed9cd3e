export * from './authenticators.js';
export * from './build.js';
export * from './dictionary.js';
export * from './eap-message.js';
export * from './hiding.js';
export * from './packet.js';
export * from './values.js';
