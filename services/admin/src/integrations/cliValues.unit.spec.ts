import { describe, expect, it } from 'vitest';
import { parseDurationSeconds, parseSettingArg, renderTable } from './cliValues.js';

describe('parseDurationSeconds', () => {
  it.each([
    { given: '0', then: 0 }, { given: '90', then: 90 }, { given: '90s', then: 90 }, { given: '30m', then: 1800 },
    { given: '24h', then: 86_400 }, { given: '7d', then: 604_800 }, { given: 'soon', then: null }, { given: '1.5h', then: null }, { given: '-1', then: null },
  ])('$given → $then', ({ given, then }) => expect(parseDurationSeconds(given)).toBe(then));
});

describe('parseSettingArg', () => {
  it.each([
    { given: 'campaignId=1000', then: ['campaignId', 1000] },
    { given: 'eventTypeId=0123', then: ['eventTypeId', '0123'] },
    { given: 'rateLimitPerSecond=0.5', then: ['rateLimitPerSecond', 0.5] },
    { given: 'sendRefunds=false', then: ['sendRefunds', false] },
    { given: 'url=https://x.test/a?b=c', then: ['url', 'https://x.test/a?b=c'] },
    { given: 'accountSid=', then: ['accountSid', ''] },
    { given: 'noequals', then: null },
    { given: '=value', then: null },
  ])('$given', ({ given, then }) => expect(parseSettingArg(given)).toEqual(then));
});

describe('renderTable', () => {
  it.each([
    { name: 'columns padded to the widest cell, missing values as -', headers: ['ID', 'NAME'], rows: [['a', 'Acme'], ['long-id', null]],
      then: 'ID       NAME\na        Acme\nlong-id  -' },
    { name: 'no rows', headers: ['ID'], rows: [], then: '(none)' },
  ])('$name', ({ headers, rows, then }) => expect(renderTable(headers, rows)).toBe(then));
});
