import { describe, expect, it } from 'vitest';
import { planLanes, type LaneView } from './laneShare.js';

const lanes = (owners: (string | null)[]): LaneView[] => owners.map((liveOwner, lane) => ({ lane, liveOwner }));
const free8 = lanes([null, null, null, null, null, null, null, null]); // a due topic of 8 partitions

const cases = [
  { name: 'alone: takes every free lane', given: { me: 'a', instances: ['a'], lanes: free8 }, then: { take: [0, 1, 2, 3, 4, 5, 6, 7], giveUp: [] } },
  { name: 'first of two: takes half, from lane 0', given: { me: 'a', instances: ['a', 'b'], lanes: free8 }, then: { take: [0, 1, 2, 3], giveUp: [] } },
  { name: 'second of two: takes half, from the middle', given: { me: 'b', instances: ['a', 'b'], lanes: free8 }, then: { take: [4, 5, 6, 7], giveUp: [] } },
  { name: 'holds all, a second instance appears: gives half back', given: { me: 'a', instances: ['a', 'b'], lanes: lanes(['a', 'a', 'a', 'a', 'a', 'a', 'a', 'a']) }, then: { take: [], giveUp: [4, 5, 6, 7] } },
  { name: 'the other died (its leases expired): takes its lanes', given: { me: 'b', instances: ['b'], lanes: lanes([null, null, null, null, 'b', 'b', 'b', 'b']) }, then: { take: [0, 1, 2, 3], giveUp: [] } },
  { name: 'at its share: nothing to do', given: { me: 'a', instances: ['a', 'b'], lanes: lanes(['a', 'a', 'a', 'a', 'b', 'b', 'b', 'b']) }, then: { take: [], giveUp: [] } },
  { name: 'lanes held by a live other are never taken', given: { me: 'a', instances: ['a'], lanes: lanes(['c', null, 'c', null, null, null, null, null]) }, then: { take: [1, 3, 4, 5, 6, 7], giveUp: [] } },
  { name: 'not yet in the heartbeat table: counts itself', given: { me: 'z', instances: ['a'], lanes: lanes(['a', 'a', 'a', 'a', 'a', 'a', 'a', 'a']) }, then: { take: [], giveUp: [] } },
  { name: 'three instances: ceil(8/3) = 3 each', given: { me: 'c', instances: ['a', 'b', 'c'], lanes: free8 }, then: { take: [5, 6, 7], giveUp: [] } },
];

describe('planLanes', () => {
  it.each(cases)('$name', ({ given, then }) => expect(planLanes(given)).toEqual(then));
});
