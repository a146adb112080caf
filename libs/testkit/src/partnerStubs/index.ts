// Local stubs of the affiliate platforms: they check the documented request shape, refuse what
// the real API would refuse, dedupe where the real one is documented to, count credits, and
// inject 5xx, 429 with Retry-After and timeouts on demand.
export * from './stubServer.js';
export * from './partnerstackStub.js';
export * from './everflowStub.js';
export * from './tracknowStub.js';
export * from './webhookStub.js';
export * from './credited.js';
