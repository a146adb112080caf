/** What an erased value is replaced by in free text (partner answers, dry-run requests). */
export const ERASED = '[erased]';

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * `text` with every occurrence of a needle (any case) replaced by `[erased]`; null when
 * nothing matched, so callers write only what changed. Needles shorter than 6 characters are
 * ignored: they would match by chance.
 */
export const scrubText = (text: string | null, needles: readonly string[]): string | null => {
  if (text === null) return null;
  const usable = [...new Set(needles.filter((n) => n.length >= 6))];
  if (usable.length === 0) return null;
  const re = new RegExp(usable.map(escape).join('|'), 'gi');
  const out = text.replace(re, ERASED);
  return out === text ? null : out;
};
