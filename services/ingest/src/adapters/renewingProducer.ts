import type { RawEventRecord } from '../core/rawEventRecord.js';

/** One idempotent acks=all producer, as the batching publisher uses it (KafkaJS's Producer fits). */
export interface RecordSender {
  connect(): Promise<void>;
  send(batch: { topic: string; acks: -1; timeout: number; messages: RawEventRecord[] }): Promise<unknown>;
  disconnect(): Promise<void>;
}

/**
 * An idempotent producer that is replaced by a fresh one (new producer id) after any
 * failed send.
 *
 * Why: a send that fails may still have been written (the broker died after appending, the
 * connection dropped before the answer). KafkaJS (and @platformatic/kafka alike) then keep
 * their sequence numbers where they were before the send, so the
 * NEXT send reuses them for different records. If the earlier batch was in fact written, the
 * broker takes the new batch for a retry of it (same producer id and sequence range), answers
 * success and writes nothing: acknowledged records lost. Seen in brokerKill.int.spec.ts as
 * OUT_OF_ORDER_SEQUENCE_NUMBER after the restart, then 2xx'd events missing from the topic.
 * A new producer id starts its sequences at 0 and cannot collide with what the broker holds;
 * the possibly written batch was answered 503, so at worst it is a duplicate the mapper drops.
 */
export const createRenewingProducer = (newProducer: () => RecordSender, onRenew?: (cause: unknown) => void) => {
  let current: Promise<RecordSender> | null = null;
  let closed = false;

  const connected = (): Promise<RecordSender> => {
    if (current) return current;
    const p = newProducer();
    const ready = p.connect().then(() => p);
    current = ready;
    ready.catch(() => { if (current === ready) current = null; });
    return ready;
  };

  const retire = (p: Promise<RecordSender>) => {
    if (current === p) current = null;
    void p.then((old) => old.disconnect()).catch(() => undefined);
  };

  return {
    connect: async (): Promise<void> => { await connected(); },
    send: async (batch: Parameters<RecordSender['send']>[0]): Promise<void> => {
      if (closed) throw new Error('producer is disconnected');
      const p = connected();
      const producer = await p;
      try {
        await producer.send(batch);
      } catch (err) {
        onRenew?.(err);
        retire(p);
        throw err;
      }
    },
    disconnect: async (): Promise<void> => {
      closed = true;
      const p = current;
      current = null;
      if (p) await (await p.catch(() => null))?.disconnect();
    },
  };
};
export type RenewingProducer = ReturnType<typeof createRenewingProducer>;
