import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Partitioners, type PartitionerArgs } from 'kafkajs';
import { Murmur2Partitioner, murmur2 } from './murmur2.js';

const require = createRequire(import.meta.url);
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (k: Buffer | string) => number;

describe('murmur2', () => {
  // The Java client's own test vectors (clients/src/test/.../UtilsTest.java).
  it.each([
    ['21', -973932308], ['foobar', -790332482], ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829], ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971], ['abc', 479470107],
  ])('%s → %i as in Kafka', (key, hash) => {
    expect(murmur2(key)).toBe(hash);
    expect(murmur2(Buffer.from(key))).toBe(hash);
  });

  it('equals KafkaJS for random keys of every length (bytes and UTF-8 strings)', () => {
    for (let len = 0; len < 130; len++) {
      const b = randomBytes(len);
      expect(murmur2(b)).toBe(kafkajsMurmur2(b));
      const s = `cus_${b.toString('base64')}é✓`;
      expect(murmur2(s)).toBe(kafkajsMurmur2(s));
    }
  });

  it('picks the partition KafkaJS DefaultPartitioner picks, and keeps an explicit one', () => {
    const partitionMetadata = Array.from({ length: 12 }, (_, i) => ({ partitionId: i, leader: 1, replicas: [1], isr: [1], partitionErrorCode: 0 }));
    const ours = Murmur2Partitioner();
    const theirs = Partitioners.DefaultPartitioner();
    for (let i = 0; i < 2_000; i++) {
      const args: PartitionerArgs = { topic: 't', partitionMetadata, message: { key: `acct|cus_${i}|sub_${i * 7}`, value: null } };
      expect(ours(args)).toBe(theirs(args));
    }
    expect(ours({ topic: 't', partitionMetadata, message: { key: 'k', value: null, partition: 5 } })).toBe(5);
  });
});
