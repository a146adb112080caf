import { describe, expect, it } from 'vitest';
import { chunkTopicMessages } from './chunkTopicMessages.js';

const m = (key: string, bytes: number) => ({ key, value: 'x'.repeat(bytes - key.length) });

describe('chunkTopicMessages', () => {
  it.each([
    { why: 'nothing', batch: [], max: 100, then: [] },
    { why: 'all fits in one send', batch: [{ topic: 'a', messages: [m('k1', 40), m('k2', 40)] }], max: 100, then: [[['a', ['k1', 'k2']]]] },
    {
      why: 'split in order, across topics, each send within the bound',
      batch: [{ topic: 'a', messages: [m('k1', 60), m('k2', 30)] }, { topic: 'dlq', messages: [m('d1', 50), m('d2', 90)] }],
      max: 100,
      then: [[['a', ['k1', 'k2']]], [['dlq', ['d1']]], [['dlq', ['d2']]]],
    },
    { why: 'a message over the bound goes alone', batch: [{ topic: 'dlq', messages: [m('s', 10), m('big', 500), m('t', 10)] }], max: 100, then: [[['dlq', ['s']]], [['dlq', ['big']]], [['dlq', ['t']]]] },
    { why: 'multi-byte characters count as bytes', batch: [{ topic: 'a', messages: [{ key: 'k', value: 'é'.repeat(30) }, { key: 'l', value: 'é'.repeat(30) }] }], max: 100, then: [[['a', ['k']]], [['a', ['l']]]] },
  ])('$why', ({ batch, max, then }) => {
    const chunks = chunkTopicMessages(batch, max);
    expect(chunks.map((c) => c.map((t) => [t.topic, t.messages.map((x) => x.key)]))).toEqual(then);
    expect(chunks.flatMap((c) => c.flatMap((t) => t.messages))).toEqual(batch.flatMap((t) => t.messages));
  });
});
