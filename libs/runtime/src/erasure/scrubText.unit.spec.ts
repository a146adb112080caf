import { describe, expect, it } from 'vitest';
import { scrubText } from './scrubText.js';

describe('scrubText', () => {
  it.each([
    { name: 'replaces every occurrence, any case', text: '409: customer ADA@example.com exists (ada@example.com)', needles: ['ada@example.com'], then: '409: customer [erased] exists ([erased])' },
    { name: 'a regex character in a needle is literal', text: 'a+b@x.io and aab@x.io', needles: ['a+b@x.io'], then: '[erased] and aab@x.io' },
    { name: 'nothing matched: null (nothing to write)', text: 'partner 500', needles: ['ada@example.com'], then: null },
    { name: 'short needles are ignored', text: 'id 12 ok', needles: ['12'], then: null },
    { name: 'null text stays null', text: null, needles: ['ada@example.com'], then: null },
  ])('$name', ({ text, needles, then }) => expect(scrubText(text, needles)).toBe(then));
});
