import { describe, expect, it } from 'vitest';
import { Partitioners } from 'kafkajs';
import { partitionOf } from './partitionOf.js';

const kafkajsPartition = (key: string, n: number): number =>
  Partitioners.DefaultPartitioner()({
    topic: 't', message: { key, value: null },
    partitionMetadata: Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: 1, replicas: [1], isr: [1], partitionErrorCode: 0 })),
  });

const keys = [
  '', 'a', 'ab', 'abc', 'abcd', 'abcde', '-:cus_123:sub_456', 'acct_1:cus_9:in_1', 'ünïcödé:客户:🙂',
  ...Array.from({ length: 200 }, (_, i) => `acct_${i % 7}:cus_${i * 7919}:sub_${i}`),
];

describe('partitionOf', () => {
  // KafkaJS's DefaultPartitioner (a port of the Java client's) is the oracle.
  it.each(keys.flatMap((key) => [3, 12].map((n) => ({ key, n }))))('$key over $n partitions = KafkaJS DefaultPartitioner', ({ key, n }) => {
    expect(partitionOf(key, n)).toBe(kafkajsPartition(key, n));
  });
});
