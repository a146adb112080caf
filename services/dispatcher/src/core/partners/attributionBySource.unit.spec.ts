import { describe, expect, it } from 'vitest';
import { NO_SOURCED_CLICKS, type Attribution, type Conversion } from '@sas/contracts';
import { aConversion, aDestination } from '../testConversion.js';
import { isSkip, isUnsendable, type BuildResult } from '../partnerRequest.js';
import { everflowRequest } from './everflow.js';
import { impactRequest } from './impact.js';
import { partnerstackRequest } from './partnerstack.js';
import { tracknowRequest } from './tracknow.js';
import { webhookRequest } from './webhook.js';

/**
 * Issue 15, class 1: each adapter picks the identifier its partner documents from the
 * attribution by source. impact.com ClickId (integrations.impact.com/impact-brand/reference/the-conversion-object),
 * Tracknow click_id (docs.tracknow.io/integrations/supported-parameters), Everflow transaction_id
 * (helpdesk.everflow.io/customer/accessing-editing-s2s-postback-urls), PartnerStack customer_key /
 * partner_key (docs.partnerstack.com/reference/post_v2-transactions). client_reference_id is a
 * click only where the destination says so (clientReferenceIdIsClick).
 */
const ctx = { nowMs: Date.UTC(2025, 10, 24, 16, 5, 0), email: 'jane@example.com' };
const attribution = (o: Partial<Attribution>): Attribution => ({
  ...aConversion().attribution, ...NO_SOURCED_CLICKS, clickId: null, partnerKey: null, ...o,
});
const sale = (o: Partial<Attribution>): Conversion => aConversion({ attribution: attribution(o) });
/** What the mapper now writes for a checkout with an impact click in metadata and a Tracknow click in client_reference_id. */
const impactAndRef = sale({ clickId: 'IR_1', impactClickId: 'IR_1', clientReferenceId: 'tn_9' });
/** A merchant's own user id in client_reference_id, nothing else. */
const userIdOnly = sale({ clientReferenceId: 'user_42' });
/** A record written before the by-source fields: one click of unknown source. */
const legacy = sale({ clickId: 'clk_old' });

const outcome = (r: BuildResult): string | Record<string, string> => {
  if (isSkip(r)) return `skip: ${r.skip}`;
  if (isUnsendable(r)) return `invalid: ${r.invalid}`;
  const u = new URL(r.url);
  return Object.fromEntries(r.method === 'GET' ? u.searchParams : new URLSearchParams(r.body ?? ''));
};
const pick = (o: string | Record<string, string>, key: string): string | null =>
  typeof o === 'string' ? o : o[key] ?? null;

const impact = aDestination('impact', { accountSid: 'IRsid', campaignId: '1000', eventTypeId: '222', recurringEventTypeId: '333' }, { authToken: 'tok' });
const impactRef = aDestination('impact', { ...impact.settings, clientReferenceIdIsClick: true }, { authToken: 'tok' });
const tracknow = aDestination('tracknow', { baseUrl: 'https://acme-tracking.tracknow.test', campaignId: '1' });
const tracknowRef = aDestination('tracknow', { baseUrl: 'https://acme-tracking.tracknow.test', campaignId: '1', clientReferenceIdIsClick: true });
const everflow = aDestination('everflow', { baseUrl: 'https://ef.test', nid: '7' });
const everflowRef = aDestination('everflow', { baseUrl: 'https://ef.test', nid: '7', clientReferenceIdIsClick: true });

describe('impact.com takes only its ClickId', () => {
  it.each([
    { name: 'impact click + client_reference_id: the impact click', c: impactAndRef, d: impact, then: 'IR_1' },
    { name: 'the same where client_reference_id is a click: its own click still wins', c: impactAndRef, d: impactRef, then: 'IR_1' },
    { name: 'a Tracknow click in metadata is not impact\'s', c: sale({ clickId: 'tn_m', tracknowClickId: 'tn_m' }), d: impact, then: null },
    { name: 'a merchant user id in client_reference_id is never a ClickId', c: userIdOnly, d: impact, then: null },
    { name: 'client_reference_id where the destination says it holds the click', c: userIdOnly, d: impactRef, then: 'user_42' },
    { name: 'a record from before by-source: its click, as before', c: legacy, d: impact, then: 'clk_old' },
  ])('$name', ({ c, d, then }) => expect(pick(outcome(impactRequest(c, d, ctx)), 'ClickId')).toBe(then));
});

describe('Tracknow takes only its click_id', () => {
  it.each([
    { name: 'impact click + client_reference_id, client_reference_id is the Tracknow click', c: impactAndRef, d: tracknowRef, then: 'tn_9' },
    { name: 'impact click + client_reference_id, not said to be a click: not sent (never the impact click)', c: impactAndRef, d: tracknow, then: 'skip: tracknow: no click_id' },
    { name: 'a merchant user id in client_reference_id is never a click_id', c: userIdOnly, d: tracknow, then: 'skip: tracknow: no click_id' },
    { name: 'its own metadata click wins over client_reference_id', c: sale({ clickId: 'tn_m', tracknowClickId: 'tn_m', clientReferenceId: 'tn_9' }), d: tracknowRef, then: 'tn_m' },
    { name: 'an Everflow transaction id is not Tracknow\'s', c: sale({ clickId: 'ef_1', everflowTransactionId: 'ef_1' }), d: tracknow, then: 'skip: tracknow: no click_id' },
    { name: 'a record from before by-source: its click, as before', c: legacy, d: tracknow, then: 'clk_old' },
  ])('$name', ({ c, d, then }) => expect(pick(outcome(tracknowRequest(c, d)), 'click_id')).toBe(then));
});

describe('Everflow takes only its transaction_id', () => {
  const noTid = 'skip: everflow: no transaction id, and no email attribution for this offer';
  it.each([
    { name: 'impact click + client_reference_id: neither', c: impactAndRef, d: everflow, then: noTid },
    { name: 'an Everflow transaction id found in metadata', c: sale({ clickId: 'IR_1', impactClickId: 'IR_1', everflowTransactionId: 'ef_1', clientReferenceId: 'tn_9' }), d: everflow, then: 'ef_1' },
    { name: 'a merchant user id in client_reference_id is never a transaction_id', c: userIdOnly, d: everflow, then: noTid },
    { name: 'client_reference_id where the destination says it holds the transaction id', c: userIdOnly, d: everflowRef, then: 'user_42' },
    { name: 'a record from before by-source: its click, as before', c: legacy, d: everflow, then: 'clk_old' },
  ])('$name', ({ c, d, then }) => expect(pick(outcome(everflowRequest(c, d, ctx)), 'transaction_id')).toBe(then));
});

describe('PartnerStack takes its keys, never a click', () => {
  const ps = aDestination('partnerstack', { publicKey: 'pub', baseUrl: 'https://ps.test/api/v2' }, { secretKey: 'sec' });
  it.each([
    { name: 'impact click + client_reference_id + keys: its merchant key as customer_external_key, no click anywhere', c: sale({ ...impactAndRef.attribution, customerKey: 'ck_1', partnerKey: 'pk_1' }), then: { customer_external_key: 'ck_1' } },
    { name: 'a merchant user id in client_reference_id is not the customer key', c: userIdOnly, then: { customer_external_key: 'cus_9' } },
  ])('$name', ({ c, then }) => {
    const r = partnerstackRequest(c, ps, ctx);
    if (isSkip(r) || isUnsendable(r)) throw new Error('not sent');
    const body = r.body ?? '';
    expect(JSON.parse(body)).toMatchObject(then);
    for (const id of ['IR_1', 'tn_9', 'user_42']) expect(body).not.toContain(id);
  });
});

describe('the generic webhook sends every identifier under its source name', () => {
  const wh = aDestination('webhook', { url: 'https://hooks.test/c' }, { signingSecret: 'whsec_c2VjcmV0' });
  it('client_reference_id stays clientReferenceId, never the click', () => {
    const r = webhookRequest(impactAndRef, wh, ctx);
    if (isSkip(r) || isUnsendable(r)) throw new Error('not sent');
    expect(JSON.parse(r.body ?? '').data.attribution).toMatchObject({
      clickId: 'IR_1', impactClickId: 'IR_1', tracknowClickId: null, everflowTransactionId: null, clientReferenceId: 'tn_9',
    });
  });
});
