/** Poll `check` until it returns a value (not undefined) or the time is up. */
export const waitFor = async <T>(check: () => Promise<T | undefined> | T | undefined, p: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<T> => {
  const deadline = Date.now() + (p.timeoutMs ?? 30_000);
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${p.what ?? 'condition'}${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, p.intervalMs ?? 100));
  }
};
