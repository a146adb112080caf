import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { stackEndpoints } from '@sas/testkit';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/**
 * A process that talks to Kafka prints nothing but its own output: the sas CLI's --json and
 * progress lines are parsed by scripts and tests. KafkaJS 2.2.4 sets an unthrottled request
 * queue's check timer to about -Date.now() ms; Node 24 warns of it on stderr
 * (TimeoutNegativeWarning, kafkajs#1751), which patches/kafkajs+2.2.4.patch removes.
 */
describe('Node warnings from the Kafka client', () => {
  it('a KafkaJS producer and admin print no warning on Node 24', async () => {
    const script = `
      import { Kafka, logLevel } from 'kafkajs';
      const kafka = new Kafka({ brokers: [process.env.KAFKA_BROKERS], logLevel: logLevel.NOTHING, clientId: 'warnings' });
      const admin = kafka.admin();
      await admin.connect();
      await admin.listTopics();
      const producer = kafka.producer({ allowAutoTopicCreation: false });
      await producer.connect();
      await producer.disconnect();
      await admin.disconnect();
      console.log('ok');
    `;
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      cwd: repoRoot, env: { ...process.env, KAFKA_BROKERS: stackEndpoints().kafkaBrokers, KAFKAJS_NO_PARTITIONER_WARNING: '1' }, timeout: 30_000,
    });
    expect(stdout.trim()).toBe('ok');
    expect(stderr).toBe('');
  });
});
