import { createRenewing } from '@sas/runtime';
import type { RawEventRecord } from '@sas/runtime';

/** One idempotent acks=all producer, as the batching publisher uses it (KafkaJS's Producer fits). */
export interface RecordSender {
  connect(): Promise<void>;
  send(batch: { topic: string; acks: -1; timeout: number; messages: RawEventRecord[] }): Promise<unknown>;
  disconnect(): Promise<void>;
}

/**
 * The event producer, replaced by a fresh one (new producer id) after any failed send: a
 * 2xx must never rest on a batch the broker dropped as a duplicate of a reused sequence range
 * (libs/runtime renewingProducer.ts says how that happens).
 */
export const createRenewingProducer = (newProducer: () => RecordSender, onRenew?: (cause: unknown) => void) => {
  const r = createRenewing(newProducer, onRenew);
  return {
    connect: r.connect,
    disconnect: r.disconnect,
    send: async (batch: Parameters<RecordSender['send']>[0]): Promise<void> => { await r.use((p) => p.send(batch)); },
  };
};
export type RenewingProducer = ReturnType<typeof createRenewingProducer>;
