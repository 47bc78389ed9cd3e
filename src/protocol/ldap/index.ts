export * from './controls.js';
export * from './decode-error.js';
export * from './dn.js';
export * from './filter.js';
export * from './messages.js';
export * from './oids.js';
export * from './result-codes.js';
export * from './search-response.js';
