import { describe, expect, it } from 'vitest';
import { entryOf, parseEntryId, stateOf, type DeadLetterAction } from './entries.js';
import { summarize } from './readDeadLetters.js';

const act = (action: DeadLetterAction['action']): DeadLetterAction => ({ action, reason: 'r', actor: 'ops', at: '2026-11-25T17:00:00.000Z' });
const dispatcherValue = (integrationId: string) => Buffer.from(JSON.stringify({
  conversionId: 'cnv_1', integrationId, destinationId: 'd1', action: 'credit', reason: 'HTTP 401', httpStatus: 401, attempts: 1, at: 5, conversionBase64: 'AA==',
}));

describe('dead-letter entries', () => {
  it.each([
    ['dispatcher:2:17', { source: 'dispatcher', partition: 2, offset: '17' }],
    [' mapper:0:0 ', { source: 'mapper', partition: 0, offset: '0' }],
    ['dispatcher:2', null],
    ['scheduler:1:1', null],
    ['mapper:a:1', null],
  ])('parses the id %j', (id, expected) => {
    expect(parseEntryId(id)).toEqual(expected);
  });

  it.each([
    [[], 'open'],
    [[act('requeued')], 'requeued'],
    [[act('requeued'), act('dropped')], 'dropped'],
    [[act('dropped'), act('requeued')], 'requeued'],
  ] as const)('the state is the latest action (%#)', (actions, state) => {
    expect(stateOf(actions)).toBe(state);
  });

  it('reads both record shapes, and lists what it cannot read with why', () => {
    expect(entryOf('dispatcher', 't', 1, '9', dispatcherValue('int_a'), [])).toMatchObject({
      id: 'dispatcher:1:9', integrationId: 'int_a', code: 'HTTP_401', reason: 'HTTP 401', attempts: 1, destinationId: 'd1', state: 'open',
    });
    const mapper = Buffer.from(JSON.stringify({ code: 'RAW_ERR_JSON', reason: 'body is not JSON', integrationId: 'int_b', eventId: 'evt_1', eventType: null, topic: 's', partition: 3, offset: '4', at: 7, rawBase64: null }));
    expect(entryOf('mapper', 't', 0, '2', mapper, [act('dropped')])).toMatchObject({ id: 'mapper:0:2', code: 'RAW_ERR_JSON', eventId: 'evt_1', state: 'dropped' });
    expect(entryOf('mapper', 't', 0, '3', Buffer.from('{oops'), [])).toMatchObject({ code: 'UNREADABLE', state: 'open' });
  });

  it('filters by integration and state and counts every state', () => {
    const all = [
      entryOf('dispatcher', 't', 0, '1', dispatcherValue('int_a'), []),
      entryOf('dispatcher', 't', 0, '2', dispatcherValue('int_a'), [act('dropped')]),
      entryOf('dispatcher', 't', 0, '3', dispatcherValue('int_b'), []),
    ];
    const r = summarize(all, { integrationId: 'int_a' });
    expect(r.entries.map((e) => e.id)).toEqual(['dispatcher:0:1']);
    expect(r.counts.dispatcher).toEqual({ open: 1, requeued: 0, dropped: 1 });
    expect(summarize(all, { state: 'all' }).entries).toHaveLength(3);
  });
});
