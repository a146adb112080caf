import type pg from 'pg';
import { withTransaction } from '@sas/runtime';
import type { HeldFilter, HeldState } from '../core/heldQuery.js';
import { LaneLostError } from '../errors.js';

export interface HeldRecord {
  readonly conversionId: string;
  readonly integrationId: string;
  readonly customerId: string | null;
  readonly notBefore: number;
  readonly key: string;
  readonly value: Buffer;
  /** The partition of conversions.due.v1 the key lands on: the release lane. */
  readonly lane: number;
}

export interface ClaimedRow {
  readonly conversionId: string;
  readonly key: string;
  readonly value: Buffer;
  readonly notBefore: number;
  readonly releaseAfter: number;
}

export interface LaneLease {
  readonly lane: number;
  readonly owner: string;
  readonly epoch: number;
}

export interface HeldView {
  readonly conversionId: string;
  readonly integrationId: string;
  readonly customerId: string | null;
  readonly notBefore: string;
  readonly releaseAfter: string;
  readonly state: HeldState;
  readonly lane: number;
  /** The lane's batch that released (or is releasing) it. */
  readonly releaseSeq: number | null;
  readonly heldAt: string;
  readonly releasedAt: string | null;
  readonly cancelReason: string | null;
}

export interface ActionView {
  readonly id: number;
  readonly conversionId: string;
  readonly action: OperatorAction;
  readonly actor: string;
  readonly reason: string | null;
  readonly outcome: string;
  readonly at: string;
}

export type OperatorAction = 'release_now' | 'cancel' | 'resolve_released' | 'resolve_held';

/** Which rows of unknown release an operator settles: one conversion, or a lane's whole batch. */
export type UnknownSelector = { readonly conversionId: string } | { readonly lane: number; readonly seq: number };

export type ResolveResult =
  | { readonly outcome: 'applied'; readonly conversionIds: readonly string[] }
  /** Nothing of that selector is `unknown`; `states` says what its rows are instead. */
  | { readonly outcome: 'refused'; readonly states: readonly string[] }
  | { readonly outcome: 'not_found' };

export type OperatorResult =
  | { readonly outcome: 'applied'; readonly row: HeldView }
  | { readonly outcome: 'refused'; readonly row: HeldView }
  | { readonly outcome: 'not_found' };

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);
const toView = (r: Record<string, any>): HeldView => ({
  conversionId: r.conversion_id, integrationId: r.integration_id, customerId: r.customer_id,
  notBefore: r.not_before.toISOString(), releaseAfter: r.release_after.toISOString(), state: r.state, lane: r.lane,
  releaseSeq: r.release_seq === null ? null : Number(r.release_seq), heldAt: r.held_at.toISOString(), releasedAt: iso(r.released_at), cancelReason: r.cancel_reason,
});
const VIEW_COLUMNS = `conversion_id, integration_id, customer_id, not_before, release_after, state, lane, release_seq, held_at, released_at, cancel_reason`;

const inTx = withTransaction;

/**
 * Held conversions, release lanes and the operator audit in PostgreSQL, all scoped to one
 * namespace (the deployment's topic prefix). Heartbeats and leases go through `control`, a pool
 * of their own, so a busy release or hold path never starves a lease renewal.
 */
export const createHoldStore = (pool: pg.Pool, namespace: string, control: pg.Pool = pool) => {
  /** Lease check inside a lane's transactions: the row lock serialises us with a takeover. */
  const checkLease = async (c: pg.PoolClient, l: LaneLease, leaseMs: number, bumpSeq: boolean): Promise<number> => {
    const { rows } = await c.query<{ next_seq: string }>(
      `UPDATE scheduler_lanes SET lease_until = now() + make_interval(secs => $5 / 1000.0)
              ${bumpSeq ? ', next_seq = next_seq + 1' : ''}
        WHERE namespace = $1 AND lane = $2 AND owner = $3 AND epoch = $4 AND lease_until > now()
        RETURNING next_seq`,
      [namespace, l.lane, l.owner, l.epoch, leaseMs],
    );
    if (rows.length === 0) throw new LaneLostError(l.lane);
    return Number(rows[0]!.next_seq);
  };

  return {
    /** Idempotent: a conversion already held (or released, or cancelled) is left as it is. Returns how many are new. */
    async holdMany(records: readonly HeldRecord[]): Promise<number> {
      if (records.length === 0) return 0;
      const res = await pool.query(
        `INSERT INTO held_conversions
           (namespace, conversion_id, integration_id, customer_id, not_before, release_after, record_key, record_value, lane)
         SELECT $1, t.id, t.integration, t.customer, to_timestamp(t.nb / 1000.0), to_timestamp(t.nb / 1000.0), t.k, t.v, t.lane
           FROM unnest($2::text[], $3::text[], $4::text[], $5::float8[], $6::text[], $7::bytea[], $8::smallint[])
                AS t(id, integration, customer, nb, k, v, lane)
         ON CONFLICT (namespace, conversion_id) DO NOTHING`,
        [
          namespace, records.map((r) => r.conversionId), records.map((r) => r.integrationId), records.map((r) => r.customerId),
          records.map((r) => r.notBefore), records.map((r) => r.key), records.map((r) => r.value), records.map((r) => r.lane),
        ],
      );
      return res.rowCount ?? 0;
    },

    async ensureLanes(lanes: number): Promise<void> {
      await control.query(
        `INSERT INTO scheduler_lanes (namespace, lane) SELECT $1, g FROM generate_series(0, $2::int - 1) g ON CONFLICT DO NOTHING`,
        [namespace, lanes],
      );
    },

    /** Heartbeat; returns the live instances of this namespace. */
    async heartbeat(id: string, leaseMs: number, lanes: number): Promise<{ instances: string[]; lanes: { lane: number; liveOwner: string | null; epoch: number }[] }> {
      await control.query(
        `INSERT INTO scheduler_instances (namespace, id, seen_until) VALUES ($1, $2, now() + make_interval(secs => $3 / 1000.0))
         ON CONFLICT (namespace, id) DO UPDATE SET seen_until = EXCLUDED.seen_until`,
        [namespace, id, leaseMs],
      );
      const inst = await control.query<{ id: string }>(
        `SELECT id FROM scheduler_instances WHERE namespace = $1 AND seen_until > now()`, [namespace]);
      const laneRows = await control.query<{ lane: number; owner: string | null; live: boolean; epoch: string }>(
        `SELECT lane, owner, lease_until > now() AS live, epoch FROM scheduler_lanes WHERE namespace = $1 AND lane < $2 ORDER BY lane`, [namespace, lanes]);
      return {
        instances: inst.rows.map((r) => r.id),
        lanes: laneRows.rows.map((r) => ({ lane: r.lane, liveOwner: r.live ? r.owner : null, epoch: Number(r.epoch) })),
      };
    },

    async leaveInstance(id: string): Promise<void> {
      await control.query(`DELETE FROM scheduler_instances WHERE namespace = $1 AND id = $2`, [namespace, id]);
    },

    /** Take a free lane: a new epoch fences the previous owner's PostgreSQL writes. */
    async acquireLane(lane: number, owner: string, leaseMs: number): Promise<LaneLease | null> {
      const { rows } = await control.query<{ epoch: string }>(
        `UPDATE scheduler_lanes SET owner = $3, epoch = epoch + 1, lease_until = now() + make_interval(secs => $4 / 1000.0)
          WHERE namespace = $1 AND lane = $2 AND (lease_until <= now() OR owner IS NULL)
          RETURNING epoch`,
        [namespace, lane, owner, leaseMs],
      );
      return rows[0] ? { lane, owner, epoch: Number(rows[0].epoch) } : null;
    },

    async renewLane(l: LaneLease, leaseMs: number): Promise<boolean> {
      const res = await control.query(
        `UPDATE scheduler_lanes SET lease_until = now() + make_interval(secs => $5 / 1000.0)
          WHERE namespace = $1 AND lane = $2 AND owner = $3 AND epoch = $4 AND lease_until > now()`,
        [namespace, l.lane, l.owner, l.epoch, leaseMs],
      );
      return res.rowCount === 1;
    },

    /** Hand a lane back at once (clean stop or rebalancing), so another instance need not wait for the lease. */
    async releaseLane(l: LaneLease): Promise<void> {
      await control.query(
        `UPDATE scheduler_lanes SET lease_until = '-infinity' WHERE namespace = $1 AND lane = $2 AND owner = $3 AND epoch = $4`,
        [namespace, l.lane, l.owner, l.epoch],
      );
    },

    /** What recovery needs: the lane's confirmed sequence and the batches left `releasing`. */
    async pendingOf(l: LaneLease, leaseMs: number): Promise<{ confirmedSeq: number; pendingSeqs: number[] }> {
      return inTx(pool, async (c) => {
        await checkLease(c, l, leaseMs, false);
        const lane = await c.query<{ confirmed_seq: string }>(
          `SELECT confirmed_seq FROM scheduler_lanes WHERE namespace = $1 AND lane = $2`, [namespace, l.lane]);
        const pending = await c.query<{ release_seq: string }>(
          `SELECT DISTINCT release_seq FROM held_conversions WHERE namespace = $1 AND lane = $2 AND state = 'releasing'`,
          [namespace, l.lane]);
        return { confirmedSeq: Number(lane.rows[0]?.confirmed_seq ?? 0), pendingSeqs: pending.rows.map((r) => Number(r.release_seq)) };
      });
    },

    /** Apply a recovery decision, under the lease. */
    async applyRecovery(
      l: LaneLease, leaseMs: number,
      d: { released: readonly number[]; held: readonly number[]; unknown: readonly number[]; committedSeq: number },
    ): Promise<{ released: number; held: number; unknown: number }> {
      return inTx(pool, async (c) => {
        await checkLease(c, l, leaseMs, false);
        const rel = await c.query(
          `UPDATE held_conversions SET state = 'released', released_at = now()
            WHERE namespace = $1 AND lane = $2 AND state = 'releasing' AND release_seq = ANY($3::bigint[])`,
          [namespace, l.lane, d.released]);
        const held = await c.query(
          `UPDATE held_conversions SET state = 'held', release_seq = NULL
            WHERE namespace = $1 AND lane = $2 AND state = 'releasing' AND release_seq = ANY($3::bigint[])`,
          [namespace, l.lane, d.held]);
        // Out of `releasing` for good: no later recovery looks at them; an operator settles them.
        const unknown = await c.query(
          `UPDATE held_conversions SET state = 'unknown'
            WHERE namespace = $1 AND lane = $2 AND state = 'releasing' AND release_seq = ANY($3::bigint[])`,
          [namespace, l.lane, d.unknown]);
        await c.query(
          `UPDATE scheduler_lanes SET confirmed_seq = GREATEST(confirmed_seq, $3), next_seq = GREATEST(next_seq, $3)
            WHERE namespace = $1 AND lane = $2`,
          [namespace, l.lane, d.committedSeq]);
        return { released: rel.rowCount ?? 0, held: held.rowCount ?? 0, unknown: unknown.rowCount ?? 0 };
      });
    },

    /**
     * Claim the lane's due rows, oldest first, as batch `seq` (state `releasing`), under the
     * lease. Returns null when nothing is due (no sequence number is used up).
     */
    async claim(l: LaneLease, leaseMs: number, limit: number): Promise<{ seq: number; rows: ClaimedRow[] } | null> {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const c = client;
        const seq = await checkLease(c, l, leaseMs, true);
        const { rows } = await c.query<{ conversion_id: string; record_key: string; record_value: Buffer; not_before: Date; release_after: Date }>(
          // ARRAY(...) is evaluated once and the update goes by primary key: a plan that holds
          // whatever the table's statistics say (a join here degrades to a nested loop over the
          // whole namespace while a bulk of fresh rows is not analysed yet).
          `UPDATE held_conversions SET state = 'releasing', release_seq = $4
            WHERE namespace = $1 AND conversion_id = ANY(ARRAY(
              SELECT conversion_id FROM held_conversions
               WHERE namespace = $1 AND lane = $2 AND state = 'held' AND release_after <= now()
               ORDER BY release_after LIMIT $3 FOR UPDATE SKIP LOCKED))
           RETURNING conversion_id, record_key, record_value, not_before, release_after`,
          [namespace, l.lane, limit, seq],
        );
        if (rows.length === 0) {
          await c.query('ROLLBACK'); // nothing due: the sequence number is not used up
          return null;
        }
        await c.query('COMMIT');
        const claimed = rows
          .map((r) => ({ conversionId: r.conversion_id, key: r.record_key, value: r.record_value, notBefore: r.not_before.getTime(), releaseAfter: r.release_after.getTime() }))
          .sort((a, b) => a.releaseAfter - b.releaseAfter || a.notBefore - b.notBefore);
        return { seq, rows: claimed };
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },

    /** After the Kafka transaction committed: the batch is released. No lease check: it is a fact now. */
    async confirm(lane: number, seq: number, conversionIds: readonly string[]): Promise<number> {
      return inTx(pool, async (c) => {
        const res = await c.query(
          `UPDATE held_conversions SET state = 'released', released_at = now()
            WHERE namespace = $1 AND conversion_id = ANY($4::text[]) AND lane = $2 AND state = 'releasing' AND release_seq = $3`,
          [namespace, lane, seq, conversionIds]);
        await c.query(
          `UPDATE scheduler_lanes SET confirmed_seq = GREATEST(confirmed_seq, $3) WHERE namespace = $1 AND lane = $2`,
          [namespace, lane, seq]);
        return res.rowCount ?? 0;
      });
    },

    /** Held count and the oldest due time, for /metrics. */
    async stats(): Promise<{ held: number; oldestDue: number | null; releasing: number; unknown: number }> {
      const { rows } = await pool.query<{ held: string; oldest: Date | null; releasing: string; unknown: string }>(
        `SELECT (SELECT count(*) FROM held_conversions WHERE namespace = $1 AND state = 'held') AS held,
                (SELECT min(release_after) FROM held_conversions WHERE namespace = $1 AND state = 'held') AS oldest,
                (SELECT count(*) FROM held_conversions WHERE namespace = $1 AND state = 'releasing') AS releasing,
                (SELECT count(*) FROM held_conversions WHERE namespace = $1 AND state = 'unknown') AS unknown`,
        [namespace]);
      const r = rows[0]!;
      return { held: Number(r.held), oldestDue: r.oldest ? r.oldest.getTime() : null, releasing: Number(r.releasing), unknown: Number(r.unknown) };
    },

    async list(f: HeldFilter): Promise<HeldView[]> {
      const where = ['namespace = $1', 'state = $2'];
      const args: unknown[] = [namespace, f.state];
      const add = (sql: string, v: unknown) => { args.push(v); where.push(sql.replace('?', `$${args.length}`)); };
      if (f.integrationId) add('integration_id = ?', f.integrationId);
      if (f.customerId) add('customer_id = ?', f.customerId);
      if (f.dueFrom !== null) add('not_before >= to_timestamp(? / 1000.0)', f.dueFrom);
      if (f.dueTo !== null) add('not_before < to_timestamp(? / 1000.0)', f.dueTo);
      if (f.after) {
        args.push(f.after.notBefore, f.after.conversionId);
        where.push(`(not_before, conversion_id) > (to_timestamp($${args.length - 1} / 1000.0), $${args.length})`);
      }
      args.push(f.limit);
      const { rows } = await pool.query(
        `SELECT ${VIEW_COLUMNS} FROM held_conversions WHERE ${where.join(' AND ')}
          ORDER BY not_before, conversion_id LIMIT $${args.length}`, args);
      return rows.map(toView);
    },

    async get(conversionId: string): Promise<{ row: HeldView; actions: ActionView[] } | null> {
      const { rows } = await pool.query(`SELECT ${VIEW_COLUMNS} FROM held_conversions WHERE namespace = $1 AND conversion_id = $2`, [namespace, conversionId]);
      if (!rows[0]) return null;
      return { row: toView(rows[0]), actions: await this.actions(conversionId, 100) };
    },

    async actions(conversionId: string | null, limit: number): Promise<ActionView[]> {
      const { rows } = await pool.query(
        `SELECT id, conversion_id, action, actor, reason, outcome, at FROM scheduler_actions
          WHERE namespace = $1 AND ($2::text IS NULL OR conversion_id = $2) ORDER BY id DESC LIMIT $3`,
        [namespace, conversionId, limit]);
      return rows.map((r) => ({ id: Number(r.id), conversionId: r.conversion_id, action: r.action, actor: r.actor, reason: r.reason, outcome: r.outcome, at: r.at.toISOString() }));
    },

    /**
     * Operator action on one held conversion, recorded in the same transaction. The row lock
     * orders it with a lane's claim: a conversion already claimed (`releasing`) is refused.
     */
    async operate(conversionId: string, action: 'release_now' | 'cancel', actor: string, reason: string | null): Promise<OperatorResult> {
      return inTx(pool, async (c) => {
        const cur = await c.query(`SELECT ${VIEW_COLUMNS} FROM held_conversions WHERE namespace = $1 AND conversion_id = $2 FOR UPDATE`, [namespace, conversionId]);
        if (!cur.rows[0]) return { outcome: 'not_found' } as const;
        const before = toView(cur.rows[0]);
        const ok = before.state === 'held';
        let row = before;
        if (ok) {
          const upd = action === 'cancel'
            ? await c.query(
              `UPDATE held_conversions SET state = 'cancelled', cancel_reason = $3 WHERE namespace = $1 AND conversion_id = $2 RETURNING ${VIEW_COLUMNS}`,
              [namespace, conversionId, reason])
            : await c.query(
              `UPDATE held_conversions SET release_after = LEAST(release_after, now()) WHERE namespace = $1 AND conversion_id = $2 RETURNING ${VIEW_COLUMNS}`,
              [namespace, conversionId]);
          row = toView(upd.rows[0]);
        }
        await c.query(
          `INSERT INTO scheduler_actions (namespace, conversion_id, action, actor, reason, outcome) VALUES ($1, $2, $3, $4, $5, $6)`,
          [namespace, conversionId, action, actor, reason, ok ? 'applied' : `refused: ${before.state}`]);
        return { outcome: ok ? 'applied' : 'refused', row } as const;
      });
    },

    /**
     * Operator's verdict on rows whose release is unknown (marker lost): `released` (they are in
     * conversions.due.v1, checked by the operator) or `held` (not there: the lane's next claim
     * sends them). Only `unknown` rows change; each one's action is audited in the same transaction.
     */
    async resolveUnknown(sel: UnknownSelector, as: 'released' | 'held', actor: string, reason: string): Promise<ResolveResult> {
      return inTx(pool, async (c) => {
        const where = 'conversionId' in sel ? 'conversion_id = $2' : 'lane = $2 AND release_seq = $3';
        const args: unknown[] = 'conversionId' in sel ? [namespace, sel.conversionId] : [namespace, sel.lane, sel.seq];
        const { rows } = await c.query<{ conversion_id: string; state: string }>(
          `SELECT conversion_id, state FROM held_conversions WHERE namespace = $1 AND ${where} ORDER BY conversion_id FOR UPDATE`, args);
        if (rows.length === 0) return { outcome: 'not_found' } as const;
        const ids = rows.filter((r) => r.state === 'unknown').map((r) => r.conversion_id);
        if (ids.length === 0) return { outcome: 'refused', states: [...new Set(rows.map((r) => r.state))] } as const;
        await c.query(
          as === 'released'
            ? `UPDATE held_conversions SET state = 'released', released_at = now() WHERE namespace = $1 AND conversion_id = ANY($2::text[])`
            : `UPDATE held_conversions SET state = 'held', release_seq = NULL WHERE namespace = $1 AND conversion_id = ANY($2::text[])`,
          [namespace, ids]);
        await c.query(
          `INSERT INTO scheduler_actions (namespace, conversion_id, action, actor, reason, outcome)
           SELECT $1, id, $3, $4, $5, 'applied' FROM unnest($2::text[]) AS id`,
          [namespace, ids, as === 'released' ? 'resolve_released' : 'resolve_held', actor, reason]);
        return { outcome: 'applied', conversionIds: ids } as const;
      });
    },

    /**
     * Delete released and cancelled rows held before `olderThanMs` ago, `batch` rows per
     * statement so no lock is held long. Returns how many went. Held and in-flight rows stay.
     */
    async purgeSettled(olderThanMs: number, batch = 5_000): Promise<number> {
      let total = 0;
      for (;;) {
        const res = await pool.query(
          `DELETE FROM held_conversions WHERE ctid = ANY(ARRAY(
             SELECT ctid FROM held_conversions
              WHERE namespace = $1 AND state IN ('released', 'cancelled')
                AND held_at < now() - make_interval(secs => $2 / 1000.0)
              LIMIT $3))`,
          [namespace, olderThanMs, batch]);
        total += res.rowCount ?? 0;
        if ((res.rowCount ?? 0) < batch) return total;
      }
    },
  };
};
export type HoldStore = ReturnType<typeof createHoldStore>;
