import type pg from 'pg';

export interface LedgerEntry {
  readonly integrationId: string;
  readonly destinationId: string;
  readonly orderId: string;
  readonly action: string;
  readonly conversionId: string;
}

export type LedgerState = 'new' | 'sending' | 'sent' | 'failed';

/**
 * The idempotency ledger: one row per (integration, destination, order, action). A row left
 * in 'sending' by a crash is sent again with the same partner-side key (OrderId), so the
 * partner can dedupe; a 'sent' row is never sent again.
 */
export const createLedger = (pool: pg.Pool) => ({
  async claim(e: LedgerEntry): Promise<LedgerState> {
    const inserted = await pool.query(
      `INSERT INTO dispatch_ledger (integration_id, destination_id, order_id, action, conversion_id, status)
       VALUES ($1, $2, $3, $4, $5, 'sending') ON CONFLICT DO NOTHING`,
      [e.integrationId, e.destinationId, e.orderId, e.action, e.conversionId],
    );
    if (inserted.rowCount === 1) return 'new';
    const { rows } = await pool.query<{ status: LedgerState }>(
      `SELECT status FROM dispatch_ledger WHERE integration_id = $1 AND destination_id = $2 AND order_id = $3 AND action = $4`,
      [e.integrationId, e.destinationId, e.orderId, e.action],
    );
    return rows[0]?.status ?? 'new';
  },
  async settle(e: LedgerEntry, p: { status: 'sent' | 'failed'; attempts: number; partnerStatus: number | null; partnerRef: string | null }) {
    await pool.query(
      `UPDATE dispatch_ledger SET status = $5, attempts = attempts + $6, partner_status = $7, partner_ref = $8, updated_at = now()
        WHERE integration_id = $1 AND destination_id = $2 AND order_id = $3 AND action = $4`,
      [e.integrationId, e.destinationId, e.orderId, e.action, p.status, p.attempts, p.partnerStatus, p.partnerRef],
    );
  },
});
export type Ledger = ReturnType<typeof createLedger>;
