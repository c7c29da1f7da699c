export * from './lib/schema-helpers.js';
export * from './lib/common.js';
export * from './lib/products.js';
export * from './lib/orders.js';
export * from './lib/validate.js';
