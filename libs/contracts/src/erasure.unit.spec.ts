import { describe, expect, it } from 'vitest';
import {
  emailSha256Of, erasureIndexOf, erasureSubjectOfCustomer, erasureSubjectOfEmail, isConversionOf, withoutPersonalData, type ErasedPerson,
} from './erasure.js';
import type { Attribution } from './conversion.js';

const email = 'Ada.Lovelace@Example.com';
const attribution = (over: Partial<Attribution> = {}): Attribution => ({
  clickId: 'clk_1', impactClickId: 'clk_1', tracknowClickId: null, everflowTransactionId: null, clientReferenceId: 'user_42',
  partnerKey: 'pk_partner', customerKey: 'ck_42', promoCode: 'SPRING', emailSha256: emailSha256Of(email), productKey: null, ...over,
});
const person: ErasedPerson = { customerIds: new Set(['cus_ada']), emailSha256s: new Set([emailSha256Of(email)]) };

describe('erasure subjects', () => {
  it('an email is compared trimmed and lower-cased, and its subject is not the hash partners are sent', () => {
    expect(erasureSubjectOfEmail(` ${email.toUpperCase()} `)).toBe(erasureSubjectOfEmail(email));
    expect(erasureSubjectOfEmail(email)).not.toContain(emailSha256Of(email));
    expect(erasureSubjectOfEmail(email)).not.toContain('lovelace');
    expect(erasureSubjectOfCustomer('cus_ada')).toBe('customer:cus_ada');
  });
});

describe('isConversionOf', () => {
  it.each([
    { name: 'by customer id', given: { customerId: 'cus_ada', attribution: attribution({ emailSha256: null }) }, then: true },
    { name: 'by email hash (a checkout without a customer)', given: { customerId: null, attribution: attribution() }, then: true },
    { name: 'someone else', given: { customerId: 'cus_bob', attribution: attribution({ emailSha256: emailSha256Of('bob@example.com') }) }, then: false },
  ])('$name', ({ given, then }) => expect(isConversionOf(given, person)).toBe(then));
});

describe('erasureIndexOf: what a stored conversion is found by when its person is erased', () => {
  const hash = emailSha256Of(email);
  it.each([
    { name: 'a customer with an email: the customer and the hash', given: { customerId: 'cus_ada', attribution: attribution() }, then: { customerId: 'cus_ada', emailSha256s: [hash] } },
    { name: 'a guest checkout (no customer): the hash alone, as erasure by email finds it', given: { customerId: null, attribution: attribution() }, then: { customerId: null, emailSha256s: [hash] } },
    { name: 'a customer without an email: the customer alone', given: { customerId: 'cus_ada', attribution: attribution({ emailSha256: null }) }, then: { customerId: 'cus_ada', emailSha256s: [] } },
    { name: 'nothing to find it by: neither (indexed as having none)', given: { customerId: null, attribution: attribution({ emailSha256: null }) }, then: { customerId: null, emailSha256s: [] } },
    {
      name: 'a customer key that is the same email: one hash, compared trimmed and lower-cased',
      given: { customerId: null, attribution: attribution({ customerKey: ` ${email.toUpperCase()} ` }) }, then: { customerId: null, emailSha256s: [hash] },
    },
    {
      name: 'a customer key or client reference that is an email, without an email hash: their hashes (they can reach a partner request)',
      given: { customerId: null, attribution: attribution({ emailSha256: null, customerKey: email, clientReferenceId: 'bob@example.com' }) },
      then: { customerId: null, emailSha256s: [hash, emailSha256Of('bob@example.com')] },
    },
    { name: 'merchant ids that are not emails add nothing', given: { customerId: null, attribution: attribution({ customerKey: 'ck_42', clientReferenceId: 'user_42' }) }, then: { customerId: null, emailSha256s: [hash] } },
  ])('$name', ({ given, then }) => expect(erasureIndexOf(given)).toEqual(then));
});

describe('withoutPersonalData', () => {
  it('drops the email hash and keeps money-relevant ids, clicks and partner keys', () => {
    expect(withoutPersonalData({ amountMinor: 4900, attribution: attribution() })).toEqual({
      amountMinor: 4900, attribution: attribution({ emailSha256: null }),
    });
  });
  it('drops a customer key or client reference that is the email itself', () => {
    expect(withoutPersonalData({ attribution: attribution({ customerKey: email, clientReferenceId: email.toLowerCase() }) }).attribution)
      .toEqual(attribution({ emailSha256: null, customerKey: null, clientReferenceId: null }));
  });
  it('keeps an email-like customer key that is another address (not this person)', () => {
    expect(withoutPersonalData({ attribution: attribution({ customerKey: 'shop@merchant.example' }) }).attribution.customerKey).toBe('shop@merchant.example');
  });
});
