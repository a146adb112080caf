import type pg from 'pg';

export interface HeldRecord {
  readonly conversionId: string;
  readonly integrationId: string;
  readonly customerId: string | null;
  readonly notBefore: number;
  readonly key: string;
  readonly value: Buffer;
}

/** Held conversions in PostgreSQL. */
export const createHoldStore = (pool: pg.Pool) => ({
  /** Idempotent: holding the same conversion again (replay, redelivery) changes nothing. */
  async hold(r: HeldRecord): Promise<boolean> {
    const res = await pool.query(
      `INSERT INTO held_conversions (conversion_id, integration_id, customer_id, not_before, record_key, record_value)
       VALUES ($1, $2, $3, to_timestamp($4 / 1000.0), $5, $6) ON CONFLICT (conversion_id) DO NOTHING`,
      [r.conversionId, r.integrationId, r.customerId, r.notBefore, r.key, r.value],
    );
    return res.rowCount === 1;
  },
  /**
   * Release due records, oldest first: rows are locked (SKIP LOCKED, so instances share the
   * work), `publish` must succeed before the release is committed. A crash after publishing
   * and before commit releases the batch again; the dispatcher's ledger absorbs that.
   */
  async releaseDue(limit: number, publish: (rows: { key: string; value: Buffer }[]) => Promise<void>): Promise<number> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ conversion_id: string; record_key: string; record_value: Buffer }>(
        `SELECT conversion_id, record_key, record_value FROM held_conversions
          WHERE released_at IS NULL AND not_before <= now()
          ORDER BY not_before LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [limit],
      );
      if (rows.length > 0) {
        await publish(rows.map((r) => ({ key: r.record_key, value: r.record_value })));
        await client.query(`UPDATE held_conversions SET released_at = now() WHERE conversion_id = ANY($1)`, [rows.map((r) => r.conversion_id)]);
      }
      await client.query('COMMIT');
      return rows.length;
    } catch (err) {
      await client.query('ROLLBACK');
      throw err;
    } finally {
      client.release();
    }
  },
});
