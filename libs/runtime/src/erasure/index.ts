export * from './eraseCustomer.js';
export * from './scrubText.js';
