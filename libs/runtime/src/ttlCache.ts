/**
 * Read-through cache with a time to live: settings change without a restart, yet a burst of
 * webhooks costs one query. Concurrent misses for one key share a single load.
 */
export const createTtlCache = <V>(load: (key: string) => Promise<V>, ttlMs: number, now: () => number = Date.now) => {
  const entries = new Map<string, { at: number; value: Promise<V> }>();
  return {
    get(key: string): Promise<V> {
      const hit = entries.get(key);
      if (hit && now() - hit.at < ttlMs) return hit.value;
      const value = load(key);
      entries.set(key, { at: now(), value });
      value.catch(() => entries.delete(key));
      return value;
    },
    invalidate(key?: string): void {
      if (key === undefined) entries.clear();
      else entries.delete(key);
    },
  };
};
