import { describe, expect, it } from 'vitest';
import type { Destination } from '@sas/runtime';
import type { PartnerRequest } from '../partnerRequest.js';
import { impactAdapter } from './impact.js';
import { decideSubmission, DEFAULT_SUBMISSION_CHECKS_MS, readSubmission, submissionChecksOf, type SubmissionState } from './impactSubmission.js';

// The API submission object: https://integrations.impact.com/impact-brand/reference/the-api-submission-object
const uri = '/Advertisers/IRsid/APISubmissions/A-1';
const schedule = [1_000, 5_000, 20_000];
const state = (status: string, errorType: string | null = null, errorReason: string | null = null): SubmissionState => ({ status, errorType, errorReason });

describe('impact API submission: what its status means', () => {
  it.each([
    ['Complete without errors: sent', state('Complete'), 1, { settle: 'sent', duplicate: false }],
    ['Complete with CONV_DUPLICATE only: impact already has the OrderId (our resend), a duplicate', state('Complete', 'Validation', 'CONV_DUPLICATE'), 1, { settle: 'sent', duplicate: true }],
    ['Complete with a contract error: rejected with impact\'s type and reasons', state('Complete', 'Contract Error', 'CONTRACT_NOT_FOUND RESTRICTED_PROMOCODE'), 2,
      { settle: 'rejected', reason: `impact rejected submission ${uri}: Contract Error: CONTRACT_NOT_FOUND RESTRICTED_PROMOCODE` }],
    ['Complete with CONV_DUPLICATE beside another reason: rejected', state('Complete', 'Validation', 'CONV_DUPLICATE MALFORMED'), 1,
      { settle: 'rejected', reason: `impact rejected submission ${uri}: Validation: CONV_DUPLICATE MALFORMED` }],
    ['Complete with an ErrorType and no reason: rejected', state('Complete', 'Validation'), 1, { settle: 'rejected', reason: `impact rejected submission ${uri}: Validation` }],
    ['Queued after check 1: check again after the second delay', state('Queued'), 1, { settle: 'check', inMs: 5_000, note: 'still Queued' }],
    ['In Progress after check 2: check again after the third delay', state('In Progress'), 2, { settle: 'check', inMs: 20_000, note: 'still In Progress' }],
    ['no readable submission after check 1: not known yet, check again (never sent)', null, 1, { settle: 'check', inMs: 5_000, note: 'status unknown (HTTP 503)' }],
  ] as const)('%s', (_name, s, checksDone, expected) => {
    expect(decideSubmission({ uri, state: s, checksDone, schedule, answer: 'HTTP 503' })).toEqual(expected);
  });

  it('still queued after the whole schedule: gave up following, visible as a failure, never "sent"', () => {
    const d = decideSubmission({ uri, state: state('In Progress'), checksDone: 3, schedule });
    expect(d).toEqual({ settle: 'gaveUp', reason: `gave up following impact submission ${uri}: still In Progress after 3 checks over 26 s; not known to be credited, check it in impact` });
    expect(decideSubmission({ uri, state: null, checksDone: 3, schedule, answer: 'timed out after 10000 ms' }))
      .toMatchObject({ settle: 'gaveUp', reason: expect.stringContaining('status unknown (timed out after 10000 ms)') });
  });

  it('reads the submission object from a GET answer, and nothing from an error or a body that is not one', () => {
    const body = JSON.stringify({ BatchId: 'A-1', Status: 'Complete', ErrorType: 'Contract Error', ErrorReason: 'CONTRACT_NOT_FOUND' });
    expect(readSubmission({ status: 200, body, retryAfter: null })).toEqual(state('Complete', 'Contract Error', 'CONTRACT_NOT_FOUND'));
    expect(readSubmission({ status: 200, body: JSON.stringify({ Status: 'Complete', ErrorType: '', ErrorReason: '' }), retryAfter: null })).toEqual(state('Complete'));
    expect(readSubmission({ status: 404, body, retryAfter: null })).toBeNull();
    expect(readSubmission({ status: 200, body: '<html>', retryAfter: null })).toBeNull();
    expect(readSubmission({ status: 200, body: '{}', retryAfter: null })).toBeNull();
  });
});

describe('impact follow-up schedule (destination setting submissionChecksMs; impact documents no processing time)', () => {
  const dest = (settings: Record<string, unknown>) => ({ id: 'dst_impact', settings });
  it('defaults, and reads a list or a comma-separated string', () => {
    expect(submissionChecksOf(dest({}))).toBe(DEFAULT_SUBMISSION_CHECKS_MS);
    expect(submissionChecksOf(dest({ submissionChecksMs: [100, 200] }))).toEqual([100, 200]);
    expect(submissionChecksOf(dest({ submissionChecksMs: '100, 200' }))).toEqual([100, 200]);
  });
  it.each([{ v: [] }, { v: [-1] }, { v: ['soon'] }, { v: [100, ''] }, { v: 1.5 }, { v: '' }, { v: '100,,200' }])('refuses $v, naming the setting and the rule', ({ v }) => {
    expect(() => submissionChecksOf(dest({ submissionChecksMs: v }))).toThrow(
      'destination dst_impact: setting "submissionChecksMs" must be a non-empty list of milliseconds (non-negative integers)');
  });
});

describe('impact adapter: a QUEUED answer is followed, not credited', () => {
  const d: Destination = {
    id: 'dst_impact', integrationId: 'int_x', type: 'impact', settings: { accountSid: 'IRsid', baseUrl: 'https://impact.test/' }, credentials: { authToken: 'tok' },
  };
  const post: PartnerRequest = { action: 'credit', method: 'POST', url: 'https://impact.test/Advertisers/IRsid/Conversions', headers: {}, body: '' };
  it('classifies QUEUED with a QueuedUri as accepted, to follow at that URI', () => {
    const a = { status: 200, body: JSON.stringify({ Status: 'QUEUED', QueuedUri: uri }), retryAfter: null };
    expect(impactAdapter.classify(a, post, { mayHaveReached: false })).toEqual({ ok: true, partnerRef: uri, duplicate: false, follow: uri });
  });
  it('an answer that is not QUEUED is settled by itself, as before', () => {
    const a = { status: 200, body: JSON.stringify({ Status: 'OK' }), retryAfter: null };
    expect(impactAdapter.classify(a, post, { mayHaveReached: false })).toEqual({ ok: true, partnerRef: null, duplicate: false });
  });
  it('follows with a GET on the destination\'s base URL and credentials, and refuses a QueuedUri on another host', () => {
    const get = impactAdapter.follow!.request(uri, d, 'credit');
    expect(get).toMatchObject({ action: 'credit', method: 'GET', url: `https://impact.test${uri}`, body: null });
    expect(get.headers.authorization).toBe(`Basic ${Buffer.from('IRsid:tok').toString('base64')}`);
    expect(() => impactAdapter.follow!.request('https://evil.test/x', d, 'credit')).toThrow('destination dst_impact: impact QueuedUri https://evil.test/x is not on https://impact.test');
  });
});
