import { Kafka, Partitioners, logLevel, type ICustomPartitioner, type KafkaConfig, type Producer, type ProducerBatch, type ProducerRecord, type RecordMetadata } from 'kafkajs';
import { topicSpecs } from '@sas/contracts';
import type { Logger } from './logger.js';
import { createRenewing } from './renewingProducer.js';

const toPinoLevel = (level: logLevel): 'error' | 'warn' | 'info' | 'debug' => {
  switch (level) {
    case logLevel.ERROR:
    case logLevel.NOTHING:
      return 'error';
    case logLevel.WARN:
      return 'warn';
    case logLevel.INFO:
      return 'info';
    default:
      return 'debug';
  }
};

/** A KafkaJS client that logs through pino. */
export const createKafka = (p: { brokers: string[]; clientId: string; log: Logger } & Partial<KafkaConfig>): Kafka => {
  const { brokers, clientId, log, ...rest } = p;
  const kafkaLog = log.child({ component: 'kafkajs' });
  return new Kafka({
    brokers,
    clientId,
    logLevel: logLevel.WARN,
    logCreator: () => ({ namespace, level, log: entry }) => {
      const { message, ...extra } = entry;
      // KafkaJS warns on every idempotent producer with finite retries. We keep them finite so a
      // send fails and is answered (503, redelivery) instead of hanging; the duplicates that
      // can follow are what deterministic ids and the dedupe downstream are for.
      const known = message?.startsWith('Limiting retries for the idempotent producer');
      kafkaLog[known ? 'debug' : toPinoLevel(level)]({ namespace, ...extra }, message);
    },
    retry: { initialRetryTime: 200, retries: 8 },
    ...rest,
  });
};

/** Create the system's topics if they are missing; existing topics are left as they are. */
export const ensureTopics = async (kafka: Kafka, prefix: string, replicationFactor = 1): Promise<void> => {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topicSpecs(prefix).filter((t) => !existing.has(t.name));
    if (missing.length === 0) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((t) => ({
        topic: t.name,
        numPartitions: t.partitions,
        replicationFactor,
        configEntries: Object.entries(t.config).map(([name, value]) => ({ name, value })),
      })),
    });
  } finally {
    await admin.disconnect();
  }
};

/** The producer every service writes with: only what they use, so its renewal stays whole. */
export interface DurableProducer {
  connect(): Promise<void>;
  send(record: ProducerRecord): Promise<RecordMetadata[]>;
  sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]>;
  disconnect(): Promise<void>;
}

export interface DurableProducerOptions {
  /** Default: murmur2, as Java clients, so keys land alike. */
  readonly createPartitioner?: ICustomPartitioner;
  /** Told each time a failed send retires the producer. */
  readonly onRenew?: (cause: unknown) => void;
}

/** One idempotent KafkaJS producer, without renewal: for callers that renew it themselves (ingest). */
export const createIdempotentProducer = (kafka: Kafka, createPartitioner: ICustomPartitioner = Partitioners.DefaultPartitioner): Producer =>
  kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner });

/**
 * Idempotent producer with acks from all in-sync replicas (KafkaJS's default acks = -1):
 * a write is acknowledged only once it is durable. After a failed send the next one goes
 * through a new producer (new producer id), so a reused sequence range can never make the
 * broker drop a later batch as a duplicate of one it wrote (see renewingProducer.ts).
 */
export const createDurableProducer = (kafka: Kafka, o: DurableProducerOptions = {}): DurableProducer => {
  const r = createRenewing(() => createIdempotentProducer(kafka, o.createPartitioner), o.onRenew);
  return {
    connect: r.connect,
    disconnect: r.disconnect,
    send: (record) => r.use((p) => p.send(record)),
    sendBatch: (batch) => r.use((p) => p.sendBatch(batch)),
  };
};
