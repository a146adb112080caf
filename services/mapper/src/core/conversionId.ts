import { hash } from 'node:crypto';

/**
 * Deterministic conversion id: the same Stripe facts give the same id on every replay,
 * backfill or duplicate delivery, so downstream dedupe holds.
 */
export const conversionIdOf = (...parts: string[]): string =>
  `cnv_${hash('sha256', parts.join('\u001f'), 'hex').slice(0, 32)}`; // one-shot hash: no Hash object per id

const emailHashes = new Map<string, string>();

/** SHA-256 hex of the trimmed, lower-cased email (memoised: a customer's email recurs on every event). */
export const sha256Email = (email: string | null): string | null => {
  if (!email) return null;
  let h = emailHashes.get(email);
  if (h === undefined) {
    h = hash('sha256', email.trim().toLowerCase(), 'hex');
    if (emailHashes.size >= 50_000) emailHashes.clear();
    emailHashes.set(email, h);
  }
  return h;
};
