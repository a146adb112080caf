/** What a producer needs for renewal: KafkaJS's and @platformatic/kafka's (wrapped) both fit. */
export interface Connectable {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
}

/**
 * An idempotent producer that is replaced by a fresh one (new producer id) after any failed
 * send.
 *
 * Why: a send that fails may still have been written (the broker died after appending, the
 * connection dropped before the answer). KafkaJS (and @platformatic/kafka alike) then keep
 * their sequence numbers where they were before the send, so the NEXT send reuses them for
 * different records. If the earlier batch was in fact written and the new one has as many
 * records, the broker takes it for a retry of the earlier one (same producer id and sequence
 * range), answers success and writes nothing: acknowledged records lost. Ingest's broker-kill
 * test saw it (OUT_OF_ORDER_SEQUENCE_NUMBER after the restart, then 2xx'd events missing).
 * A new producer id starts its sequences at 0 and cannot collide with what the broker holds;
 * the failed batch was reported as failed to its caller, so at worst it is a duplicate that
 * the deterministic ids downstream absorb.
 *
 * Sends go through one at a time: KafkaJS rolls the sequence back under its broker lock, and
 * a concurrent send waiting on that lock would take the rolled-back range on the same producer
 * before the failure reaches us (and @platformatic/kafka reads sequences without a lock at
 * all). Serialised, a failure retires the producer before the next send enters it. With one
 * in-flight request per producer (maxInFlightRequests: 1) this costs no throughput.
 */
export const createRenewing = <P extends Connectable>(newProducer: () => P, onRenew?: (cause: unknown) => void) => {
  let current: Promise<P> | null = null;
  let closed = false;
  let queue: Promise<unknown> = Promise.resolve();

  const connected = (): Promise<P> => {
    if (current) return current;
    const p = newProducer();
    const ready = p.connect().then(() => p);
    current = ready;
    ready.catch(() => {
      if (current === ready) current = null;
      void p.disconnect().catch(() => undefined); // sockets a half-done connect left open
    });
    return ready;
  };

  const retire = (p: Promise<P>) => {
    if (current === p) current = null;
    void p.then((old) => old.disconnect()).catch(() => undefined);
  };

  return {
    connect: async (): Promise<void> => { await connected(); },
    /** Run one send on the current producer; if it fails, the next send gets a new producer. */
    use: <T>(send: (producer: P) => Promise<T>): Promise<T> => {
      const run = async (): Promise<T> => {
        if (closed) throw new Error('producer is disconnected');
        const p = connected();
        const producer = await p;
        try {
          return await send(producer);
        } catch (err) {
          onRenew?.(err);
          retire(p);
          throw err;
        }
      };
      const result = queue.then(run, run);
      queue = result.catch(() => undefined);
      return result;
    },
    disconnect: async (): Promise<void> => {
      closed = true;
      const p = current;
      current = null;
      if (p) await (await p.catch(() => null))?.disconnect();
    },
  };
};
