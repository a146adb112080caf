/**
 * Coalesce concurrent calls into one batched call: under load one query or one produce
 * serves many callers; alone, a caller waits only for the next tick. Each caller's promise
 * settles with its own result after its batch has run.
 */
export const createBatcher = <I, O>(run: (items: I[]) => Promise<O[]>, p: { maxItems: number; maxConcurrent: number }) => {
  const queue: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  let inflight = 0;
  let scheduled = false;

  const flush = () => {
    scheduled = false;
    while (queue.length > 0 && inflight < p.maxConcurrent) {
      const batch = queue.splice(0, p.maxItems);
      inflight++;
      run(batch.map((b) => b.item)).then(
        (out) => batch.forEach((b, i) => b.resolve(out[i] as O)),
        (err) => batch.forEach((b) => b.reject(err)),
      ).finally(() => {
        inflight--;
        if (queue.length > 0) schedule();
      });
    }
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  };
  return {
    add(item: I): Promise<O> {
      return new Promise<O>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        schedule();
      });
    },
    pending: () => queue.length + inflight,
  };
};
export type Batcher<I, O> = ReturnType<typeof createBatcher<I, O>>;
