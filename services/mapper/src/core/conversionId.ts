import { createHash } from 'node:crypto';

/**
 * Deterministic conversion id: the same Stripe facts give the same id on every replay,
 * backfill or duplicate delivery, so downstream dedupe holds.
 */
export const conversionIdOf = (...parts: string[]): string =>
  `cnv_${createHash('sha256').update(parts.join('\u001f')).digest('hex').slice(0, 32)}`;

export const sha256Email = (email: string | null): string | null =>
  email ? createHash('sha256').update(email.trim().toLowerCase()).digest('hex') : null;
