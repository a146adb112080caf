import { describe, expect, it } from 'vitest';
import { destinationProblems } from './destinations.js';

const impact = { accountSid: 'IRsid', campaignId: 1000, eventTypeId: '222', recurringEventTypeId: '333' };

describe('destinationProblems: what the dispatcher needs, named by field', () => {
  it.each([
    { name: 'a complete impact destination', type: 'impact', settings: impact, creds: ['authToken'], then: [] },
    { name: 'impact without its campaign', type: 'impact', settings: { ...impact, campaignId: undefined }, creds: ['authToken'],
      then: ['settings.campaignId is required for impact'] },
    { name: 'impact without its auth token', type: 'impact', settings: impact, creds: [], then: ['credentials.authToken is required for impact'] },
    { name: 'a typo in a setting name', type: 'impact', settings: { ...impact, campaignID: 1 }, creds: ['authToken'],
      then: [expect.stringMatching(/^settings\.campaignID is not a setting of impact \(known: .*campaignId/)] },
    { name: 'a credential the type does not take', type: 'tracknow', settings: { namespace: 'acme', campaignId: '7' }, creds: ['token'],
      then: ['credentials.token is not a credential of tracknow (it takes none)'] },
    { name: 'everflow needs its tracking domain or a base URL', type: 'everflow', settings: { nid: '12' }, creds: [],
      then: ['settings.trackingDomain or settings.baseUrl is required for everflow'] },
    { name: 'everflow tracking domain with a scheme', type: 'everflow', settings: { trackingDomain: 'https://t.example.com', nid: 12 }, creds: [],
      then: ['settings.trackingDomain must be a host name, without https://'] },
    { name: 'partnerstack with invoice/charge tracking', type: 'partnerstack', settings: { publicKey: 'pk', trackBy: 'charge' }, creds: ['secretKey'], then: [] },
    { name: 'a tracking mode that does not exist', type: 'partnerstack', settings: { publicKey: 'pk', trackBy: 'both' }, creds: ['secretKey'],
      then: ['settings.trackBy must be one of invoice, charge'] },
    { name: 'a webhook URL that is not http(s)', type: 'webhook', settings: { url: 'ftp://x' }, creds: ['signingSecret'], then: ['settings.url must be an http(s) URL'] },
    { name: 'rate limits and concurrency are common', type: 'webhook', settings: { url: 'https://x.test/h', rateLimitPerSecond: 5, concurrency: 2 }, creds: ['signingSecret'], then: [] },
    { name: 'a concurrency of 0', type: 'webhook', settings: { url: 'https://x.test/h', concurrency: 0 }, creds: ['signingSecret'],
      then: ['settings.concurrency must be an integer of at least 1'] },
    { name: 'a dry run of webhook needs no credentials', type: 'dry_run', settings: { url: 'https://x.test/h' }, creds: [], then: [] },
    { name: 'a dry run of impact needs impact\'s settings', type: 'dry_run', settings: { target: 'impact', accountSid: 'IR' }, creds: [],
      then: ['settings.campaignId is required for a dry run of impact', 'settings.eventTypeId is required for a dry run of impact', 'settings.recurringEventTypeId is required for a dry run of impact'] },
    { name: 'a dry run of nothing', type: 'dry_run', settings: { target: 'mail' }, creds: [], then: ['settings.target must be one of impact, partnerstack, everflow, tracknow, webhook'] },
    { name: 'Tracknow whose click the merchant puts in client_reference_id (issue 15)', type: 'tracknow', settings: { namespace: 'acme', campaignId: 7, clientReferenceIdIsClick: true }, creds: [], then: [] },
    // issue 14, item 12: the rule is said with the field.
    { name: 'Tracknow without its campaign id', type: 'tracknow', settings: { namespace: 'acme' }, creds: [],
      then: [expect.stringMatching(/^settings\.campaignId is required for tracknow: every documented Tracknow postback carries campaign_id.*docs\.tracknow\.io\/integrations\/supported-parameters/)] },
    { name: 'a dry run of Tracknow needs the campaign id too', type: 'dry_run', settings: { target: 'tracknow', namespace: 'acme' }, creds: [],
      then: [expect.stringMatching(/^settings\.campaignId is required for a dry run of tracknow: /)] },
    { name: 'client_reference_id as a click must be a boolean', type: 'everflow', settings: { trackingDomain: 't.example.com', nid: '12', clientReferenceIdIsClick: 'yes' }, creds: [],
      then: ['settings.clientReferenceIdIsClick must be true or false'] },
    { name: 'PartnerStack takes no click, so no client_reference_id either', type: 'partnerstack', settings: { publicKey: 'pk', clientReferenceIdIsClick: true }, creds: ['secretKey'],
      then: [expect.stringMatching(/^settings\.clientReferenceIdIsClick is not a setting of partnerstack/)] },
    // issue 14 item 7: how a queued impact submission is followed (impact documents no processing time: a setting).
    { name: 'impact: a follow-up schedule for queued submissions', type: 'impact', settings: { ...impact, submissionChecksMs: [1_000, 60_000] }, creds: ['authToken'], then: [] },
    { name: 'impact: a follow-up schedule as a comma-separated string', type: 'impact', settings: { ...impact, submissionChecksMs: '1000, 60000' }, creds: ['authToken'], then: [] },
    { name: 'impact: an empty follow-up schedule', type: 'impact', settings: { ...impact, submissionChecksMs: [] }, creds: ['authToken'],
      then: ['settings.submissionChecksMs must be a non-empty list of milliseconds (non-negative integers)'] },
    { name: 'impact: a follow-up schedule with a word in it', type: 'impact', settings: { ...impact, submissionChecksMs: '1000,soon' }, creds: ['authToken'],
      then: ['settings.submissionChecksMs must be a non-empty list of milliseconds (non-negative integers)'] },
    // issue 15 class 6: where impact credits invoices that are neither a subscription's first nor its cycle.
    { name: 'impact: other invoice reasons skipped', type: 'impact', settings: { ...impact, otherInvoiceSales: 'skip' }, creds: ['authToken'], then: [] },
    { name: 'impact: other invoice reasons on the first-sale tracker', type: 'impact', settings: { ...impact, otherInvoiceSales: 'firstSaleTracker' }, creds: ['authToken'], then: [] },
    { name: 'impact: other invoice reasons on the recurring tracker', type: 'impact', settings: { ...impact, otherInvoiceSales: 'recurringTracker' }, creds: ['authToken'], then: [] },
    { name: 'impact: a misspelt choice for other invoice reasons', type: 'impact', settings: { ...impact, otherInvoiceSales: 'recurring' }, creds: ['authToken'],
      then: ['settings.otherInvoiceSales must be one of recurringTracker, firstSaleTracker, skip'] },
    { name: 'a dry run of impact takes the choice too', type: 'dry_run', settings: { target: 'impact', ...impact, otherInvoiceSales: 'Skip' }, creds: [],
      then: ['settings.otherInvoiceSales must be one of recurringTracker, firstSaleTracker, skip'] },
    // issue 14 item 6: impact matches CustomerEmail raw, as SHA-1 or HMAC, never SHA-256
    // (integrations.impact.com/impact-brand/docs/impactcom-customer-email-hashing-explained).
    { name: 'impact: CustomerEmail as SHA-1', type: 'impact', settings: { ...impact, customerEmailHash: 'sha1' }, creds: ['authToken'], then: [] },
    { name: 'impact: no CustomerEmail', type: 'impact', settings: { ...impact, customerEmailHash: 'off' }, creds: ['authToken'], then: [] },
    { name: 'impact: a hashing impact does not document', type: 'impact', settings: { ...impact, customerEmailHash: 'sha256' }, creds: ['authToken'],
      then: ['settings.customerEmailHash must be one of sha1, off (impact matches CustomerEmail raw, as SHA-1 or as its HMAC; SHA-256 is not documented)'] },
    { name: 'impact: the Reason of a partial refund is not a setting (impact documents only ORDER_UPDATE)', type: 'impact', settings: { ...impact, refundReason: 'OTHER' }, creds: ['authToken'],
      then: [expect.stringMatching(/^settings\.refundReason is not a setting of impact/)] },
    // issue 14, item 10: Everflow's documented minimum, and the offer's duplicate setting.
    { name: 'Everflow without its network id', type: 'everflow', settings: { trackingDomain: 't.example.com' }, creds: [],
      then: [expect.stringMatching(/^settings\.nid is required for everflow: an Everflow S2S postback carries the network id .*accessing-editing-s2s-postback-urls/)] },
    { name: 'Everflow on an offer that rejects duplicates', type: 'everflow', settings: { trackingDomain: 't.example.com', nid: '12', allowDuplicateConversions: false }, creds: [], then: [] },
    { name: 'Everflow duplicate setting must be a boolean', type: 'everflow', settings: { trackingDomain: 't.example.com', nid: '12', allowDuplicateConversions: 'no' }, creds: [],
      then: ['settings.allowDuplicateConversions must be true or false'] },
    { name: 'an unknown type', type: 'mailchimp', settings: {}, creds: [], then: ['type must be one of impact, partnerstack, everflow, tracknow, webhook, dry_run'] },
  ])('$name', ({ type, settings, creds, then }) => {
    expect(destinationProblems(type, settings, creds)).toEqual(then);
  });
});
