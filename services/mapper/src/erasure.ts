import type pg from 'pg';
import { RawEventHeaders } from '@sas/contracts';
import { eraseCustomer, erasedSubjects, withTransaction, type FrameRewriter, type Logger } from '@sas/runtime';
import { ErasureEventTypes, erasureSubjectsOf, forgetErased } from './core/forgetErased.js';
import { parseRawEvent, type RawHeaders } from './handleRawEvent.js';

/**
 * The mapper's part in erasure (issue 21): Stripe's customer.deleted erases the customer, as
 * `sas customers erase` would, where the integration's `erase_on_customer_deleted` is on
 * (default); and every batch's output forgets what it says about erased people.
 */
export interface MapperErasure {
  /** Erase the customers of the batch's customer.deleted events; how many were erased. */
  onCustomerDeleted(records: readonly { value: Buffer | null; headers: RawHeaders }[]): Promise<number>;
  forget<O extends Parameters<typeof forgetErased>[0]>(out: O): Promise<O>;
}

const isCustomerDeleted = (h: RawHeaders): boolean => {
  const v = h[RawEventHeaders.eventType];
  const one = Array.isArray(v) ? v[0] : v;
  return one !== undefined && (ErasureEventTypes as readonly string[]).includes(one.toString());
};

export const createMapperErasure = (pool: pg.Pool, frames: FrameRewriter, log: Logger): MapperErasure => ({
  onCustomerDeleted: async (records) => {
    let erased = 0;
    for (const r of records) {
      if (!isCustomerDeleted(r.headers)) continue;
      const p = parseRawEvent(r);
      // A record that does not parse is the batch's dead letter: handleBatch says why.
      if (!p.ok || p.event.type !== 'customer.deleted') continue;
      const customerId = typeof p.event.data.object.id === 'string' ? p.event.data.object.id : null;
      if (!customerId) continue;
      const { rows } = await pool.query<{ on: boolean }>(`SELECT erase_on_customer_deleted AS on FROM integrations WHERE id = $1`, [p.integrationId]);
      if (!rows[0]?.on) continue;
      const result = await withTransaction(pool, (db) => eraseCustomer(db, frames, {
        integrationId: p.integrationId, customerId, email: null, source: 'stripe_customer_deleted', actor: 'stripe',
        reason: `Stripe customer.deleted (${p.event.id})`,
      }));
      if (!result.alreadyErased) log.info({ integrationId: p.integrationId, stripeEventId: p.event.id, scrubbed: result.scrubbed }, 'customer erased (customer.deleted)');
      erased++;
    }
    return erased;
  },
  forget: async (out) => {
    const wanted = erasureSubjectsOf(out);
    if (wanted.size === 0) return out;
    const found = new Map<string, Set<string>>();
    await Promise.all([...wanted].map(async ([integrationId, subjects]) => {
      const s = await erasedSubjects(pool, integrationId, subjects);
      if (s.size > 0) found.set(integrationId, s);
    }));
    return forgetErased(out, found);
  },
});
