import { describe, expect, it } from 'vitest';
import { emailSha256Of, erasureSubjectOfCustomer, erasureSubjectOfEmail, type Attribution, type Conversion } from '@sas/contracts';
import type { Effect } from './effects.js';
import type { StoredAttribution } from './facts.js';
import { erasureSubjectsOf, forgetErased } from './forgetErased.js';

const email = 'ada@example.com';
const attribution = (over: Partial<Attribution> = {}): Attribution => ({
  clickId: null, impactClickId: 'clk_ada', tracknowClickId: null, everflowTransactionId: null, clientReferenceId: null,
  partnerKey: 'pk_1', customerKey: 'ck_ada', promoCode: null, emailSha256: emailSha256Of(email), productKey: null, ...over,
});
// Only the fields forgetErased reads or must keep; the rest of a Conversion is carried as is.
const conversion = (over: Partial<Conversion> = {}): Conversion =>
  ({ conversionId: 'cnv_1', integrationId: 'int_a', customerId: 'cus_ada', amountMinor: -1500, currency: 'EUR', attribution: attribution(), ...over }) as Conversion;
const row = (over: Partial<StoredAttribution> = {}): StoredAttribution => ({
  clickId: null, impactClickId: 'clk_ada', tracknowClickId: null, everflowTransactionId: null, clientReferenceId: null,
  partnerKey: 'pk_1', customerKey: 'ck_ada', productKey: null, promoCode: null, email, identityAt: 1, ...over,
});
const store = (key: string, r: StoredAttribution, integrationId = 'int_a') =>
  ({ integrationId, effect: { type: 'attribution', key, row: r, sourceEventId: 'evt_1' } as Effect });

const erasedAt = (integrationId: string, ...subjects: string[]) => new Map([[integrationId, new Set(subjects)]]);

describe('erasureSubjectsOf', () => {
  it('asks about every store key, email and conversion customer of the batch, per integration', () => {
    const subjects = erasureSubjectsOf({ effects: [store('pi_1', row())], conversions: [conversion()] });
    expect([...subjects.get('int_a')!].sort()).toEqual([erasureSubjectOfCustomer('cus_ada'), erasureSubjectOfCustomer('pi_1'), erasureSubjectOfEmail(email)].sort());
  });
});

describe('forgetErased', () => {
  const out = { effects: [store('cus_ada', row({ customerKey: 'ADA@example.com' }))], conversions: [conversion()], duplicates: 0 };

  it.each([
    { name: 'erased by customer id', erased: erasedAt('int_a', erasureSubjectOfCustomer('cus_ada')) },
    { name: 'erased by email (a replay of a checkout names only the email)', erased: erasedAt('int_a', erasureSubjectOfEmail(email)) },
  ])('$name: the store row loses the email and an email-valued customer key; conversions lose the hash, keep money and clicks', ({ erased }) => {
    const got = forgetErased(out, erased);
    expect(got.effects[0]!.effect).toEqual({ type: 'attribution', key: 'cus_ada', row: row({ email: null, customerKey: null }), sourceEventId: 'evt_1' });
    expect(got.conversions[0]).toEqual(conversion({ attribution: attribution({ emailSha256: null }) }));
    expect(got.duplicates).toBe(0);
  });

  it('a conversion without a customer is forgotten by the hash of an erased email in the same batch', () => {
    const guest = { effects: [store('pi_guest', row())], conversions: [conversion({ customerId: null })] };
    expect(forgetErased(guest, erasedAt('int_a', erasureSubjectOfEmail(email))).conversions[0]!.attribution.emailSha256).toBeNull();
  });

  it('another integration, or nobody erased: the output is unchanged', () => {
    expect(forgetErased(out, erasedAt('int_b', erasureSubjectOfCustomer('cus_ada')))).toEqual(out);
    expect(forgetErased(out, new Map())).toBe(out);
  });
});
