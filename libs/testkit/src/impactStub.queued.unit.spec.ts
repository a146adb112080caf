import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startImpactStub, type ImpactStub } from './impactStub.js';

/**
 * The stub's queued behaviour, as impact documents it: Conversions and Actions calls answer
 * QUEUED with a QueuedUri, and GET of that API submission reports Queued → In Progress →
 * Complete, with ErrorType / ErrorReason on a completed submission that had errors
 * (https://integrations.impact.com/impact-brand/reference/the-api-submission-object).
 */
describe('impact stub: queued submissions', () => {
  let stub: ImpactStub;
  const auth = `Basic ${Buffer.from('IRsid:tok').toString('base64')}`;
  const form = { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' };
  const sale = (orderId: string) => new URLSearchParams({
    CampaignId: '1', EventTypeId: '10', OrderId: orderId, EventDate: '2026-01-01T00:00:00Z', ClickId: 'clk', CurrencyCode: 'USD', ItemSku1: 'Subscription', ItemQuantity1: '1', ItemPrice1: '49.00',
  }).toString();
  const post = async (orderId: string) => {
    const r = await fetch(`${stub.baseUrl}/Advertisers/IRsid/Conversions`, { method: 'POST', headers: form, body: sale(orderId) });
    return { status: r.status, body: (await r.json()) as { Status: string; QueuedUri: string } };
  };
  const look = async (uri: string, authorization = auth) => {
    const r = await fetch(`${stub.baseUrl}${uri}`, { headers: { authorization } });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };

  beforeAll(async () => { stub = await startImpactStub({ accountSid: 'IRsid', authToken: 'tok' }); });
  afterAll(async () => { await stub.close(); });

  it('answers QUEUED with the submission\'s URI; processed at once by default, Complete without errors', async () => {
    stub.holdSubmissions(false);
    const r = await post('in_1');
    expect(r).toMatchObject({ status: 200, body: { Status: 'QUEUED', QueuedUri: expect.stringMatching(/^\/Advertisers\/IRsid\/APISubmissions\/A-/) } });
    expect((await look(r.body.QueuedUri)).body).toMatchObject({ Type: 'Conversion', OrderId: 'in_1', Status: 'Complete', ErrorType: '', ErrorReason: '' });
    expect(stub.credits.get('10:in_1')).toBe(49);
  });

  it('a second submission of the same OrderId completes with CONV_DUPLICATE and credits nothing more', async () => {
    const r = await post('in_1');
    expect((await look(r.body.QueuedUri)).body).toMatchObject({ Status: 'Complete', ErrorReason: 'CONV_DUPLICATE' });
    expect(stub.duplicates()).toBe(1);
  });

  it('held: Queued, then In Progress once looked at; not credited (its action does not exist) until settled', async () => {
    stub.holdSubmissions(true);
    const r = await post('in_2');
    expect((await look(r.body.QueuedUri)).body.Status).toBe('Queued');
    expect((await look(r.body.QueuedUri)).body.Status).toBe('In Progress');
    expect(stub.credits.has('10:in_2')).toBe(false);
    const refund = await fetch(`${stub.baseUrl}/Advertisers/IRsid/Actions`, { method: 'DELETE', headers: form, body: 'ActionTrackerId=10&OrderId=in_2&DispositionCode=ITEM_RETURNED' });
    expect(refund.status).toBe(404);
    stub.settleSubmission(String(r.body.QueuedUri).split('/').pop()!);
    expect((await look(r.body.QueuedUri)).body).toMatchObject({ Status: 'Complete', ErrorType: '' });
    expect(stub.credits.get('10:in_2')).toBe(49);
  });

  it('held then rejected: Complete with the given ErrorType and ErrorReason, nothing credited', async () => {
    stub.holdSubmissions(true);
    const r = await post('in_3');
    stub.rejectSubmission(String(r.body.QueuedUri).split('/').pop()!, 'Contract Error', 'CONTRACT_NOT_FOUND');
    expect((await look(r.body.QueuedUri)).body).toMatchObject({ Status: 'Complete', ErrorType: 'Contract Error', ErrorReason: 'CONTRACT_NOT_FOUND' });
    expect(stub.credits.has('10:in_3')).toBe(false);
    stub.holdSubmissions(false);
  });

  it('an unknown submission is 404; a look without the credentials is 401', async () => {
    expect((await look('/Advertisers/IRsid/APISubmissions/A-nope')).status).toBe(404);
    const r = await post('in_4');
    expect((await look(r.body.QueuedUri, 'Basic eDp5')).status).toBe(401);
  });
});
