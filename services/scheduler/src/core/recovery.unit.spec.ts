import { describe, expect, it } from 'vitest';
import { decideRecovery } from './recovery.js';

const cases = [
  { name: 'nothing pending, no marker yet', given: { markerSeq: null, confirmedSeq: 0, pendingSeqs: [] }, then: { released: [], held: [], unknown: [], committedSeq: 0 } },
  { name: 'crash after claim, before publish: marker behind → hold again', given: { markerSeq: 4, confirmedSeq: 4, pendingSeqs: [5] }, then: { released: [], held: [5], unknown: [], committedSeq: 4 } },
  { name: 'crash after Kafka commit, before confirm: marker covers it → released', given: { markerSeq: 5, confirmedSeq: 4, pendingSeqs: [5] }, then: { released: [5], held: [], unknown: [], committedSeq: 5 } },
  { name: 'first batch ever never committed', given: { markerSeq: null, confirmedSeq: 0, pendingSeqs: [1] }, then: { released: [], held: [1], unknown: [], committedSeq: 0 } },
  { name: 'first batch ever committed', given: { markerSeq: 1, confirmedSeq: 0, pendingSeqs: [1] }, then: { released: [1], held: [], unknown: [], committedSeq: 1 } },
  { name: 'marker lost (expired) while a batch was pending → unknown, never re-released', given: { markerSeq: null, confirmedSeq: 7, pendingSeqs: [8] }, then: { released: [], held: [], unknown: [8], committedSeq: 7 } },
  { name: 'confirmed but rows left releasing (confirm raced) → released', given: { markerSeq: 3, confirmedSeq: 3, pendingSeqs: [3] }, then: { released: [3], held: [], unknown: [], committedSeq: 3 } },
  { name: 'several pending, sorted and deduplicated', given: { markerSeq: 6, confirmedSeq: 5, pendingSeqs: [7, 6, 7] }, then: { released: [6], held: [7], unknown: [], committedSeq: 6 } },
];

describe('decideRecovery', () => {
  it.each(cases)('$name', ({ given, then }) => expect(decideRecovery(given)).toEqual(then));
});
