import { describe, expect, it } from 'vitest';
import { destinationAudit, mergeSettings, type DestinationView } from './views.js';
import { validationProblems } from '../api/errors.js';

describe('mergeSettings', () => {
  it.each([
    { name: 'a given key replaces its value, the rest stay', current: { a: 1, b: 'x' }, patch: { a: 2 }, then: { a: 2, b: 'x' } },
    { name: 'null removes a key', current: { a: 1, b: 'x' }, patch: { b: null }, then: { a: 1 } },
    { name: 'new keys are added', current: {}, patch: { c: true }, then: { c: true } },
  ])('$name', ({ current, patch, then }) => expect(mergeSettings(current, patch)).toEqual(then));
});

describe('destinationAudit', () => {
  it('names each credential and replaces its value', () => {
    const v: DestinationView = { id: 'd', integrationId: 'i', type: 'impact', enabled: true, settings: {}, credentials: ['authToken'], createdAt: 't', updatedAt: 't' };
    expect(destinationAudit(v).credentials).toEqual({ authToken: '(write-only)' });
  });
});

describe('validationProblems: each ajv error names its field', () => {
  it.each([
    { issue: { instancePath: '', keyword: 'required', params: { missingProperty: 'name' } }, then: 'body.name is required' },
    { issue: { instancePath: '', keyword: 'additionalProperties', params: { additionalProperty: 'saleTriger' } }, then: 'body.saleTriger is not a known field' },
    { issue: { instancePath: '/refundHoldSeconds', keyword: 'minimum', message: 'must be >= 0' }, then: 'body.refundHoldSeconds must be >= 0' },
    { issue: { instancePath: '/type', keyword: 'enum', params: { allowedValues: ['a', 'b'] } }, then: 'body.type must be one of a, b' },
  ])('$then', ({ issue, then }) => expect(validationProblems('body', [issue])).toEqual([then]));
});
