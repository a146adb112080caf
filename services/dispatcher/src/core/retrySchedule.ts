/** Delay before each retry (attempt 1 is the first try); past the end, dead-letter. Full jitter. */
export const nextDelayMs = (schedule: readonly number[], attempt: number, random: number): number | undefined => {
  const base = schedule[attempt - 1];
  return base === undefined ? undefined : Math.round(base * random);
};
