import { describe, expect, it } from 'vitest';
import { RawEventHeaders } from '@sas/contracts';
import { parseRawEvent } from './handleRawEvent.js';

const event = { id: 'evt_1', object: 'event', type: 'invoice.paid', created: 1_764_000_000, livemode: false, api_version: '2024-06-20', data: { object: { id: 'in_1' } } };
const headers = { [RawEventHeaders.integrationId]: 'int_1', [RawEventHeaders.eventId]: 'evt_1' };

describe('parseRawEvent', () => {
  it.each([
    ['a record as ingest writes it', headers, false],
    ['a record `sas replay events` re-produced', { ...headers, [RawEventHeaders.replay]: Buffer.from('r1') }, true],
  ])('%s: replay is %s', (_what, h, replay) => {
    const p = parseRawEvent({ value: Buffer.from(JSON.stringify(event)), headers: h });
    expect(p).toMatchObject({ ok: true, integrationId: 'int_1', replay });
  });
});
