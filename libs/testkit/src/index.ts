export * from './stripeFixtures.js';
export * from './signing.js';
export * from './waitFor.js';
export * from './impactStub.js';
export * from './stackEndpoints.js';
export * from './privateKafka.js';
export * from './stripeEventFixtures.js';
export * from './partnerStubs/index.js';
