import type pg from 'pg';
import type { ErasureIndex } from '@sas/contracts';
import type { PartnerRequest } from '../core/partnerRequest.js';
import { decideOrderAction, type RefundOrderDecision, type SaleRow, type SiblingRefund } from '../core/refundOrder.js';

/** The ledger key: (integration, destination, order, action key). */
export interface LedgerKey {
  readonly integrationId: string;
  readonly destinationId: string;
  readonly orderId: string;
  readonly action: string;
}

export const keyString = (k: LedgerKey): string => `${k.integrationId}\u0000${k.destinationId}\u0000${k.orderId}\u0000${k.action}`;

export interface NewJob extends LedgerKey {
  readonly conversionId: string;
  readonly destinationType: string;
  readonly frame: Buffer;
  /** Taken by this instance at once (it has room), or left for any instance's poller. */
  readonly leased: boolean;
  /** Refunds: the refunded total this one brings the order to (refundRank), else null. */
  readonly refundRank: number | null;
  /** What erasure finds the row by (erasureIndexOf of its conversion; migration 0038). */
  readonly erasure: ErasureIndex;
}

export interface ClaimedJob extends LedgerKey {
  readonly conversionId: string;
  readonly destinationType: string;
  readonly frame: Buffer;
  readonly attempts: number;
  /** The partner queued this row's request here (impact's QueuedUri): follow it instead of sending again. */
  readonly queuedUri: string | null;
  readonly followChecks: number;
}

export type Settlement =
  | { readonly kind: 'sent'; readonly partnerStatus: number | null; readonly partnerRef: string | null }
  | { readonly kind: 'dry_run'; readonly request: PartnerRequest | null; readonly note: string | null }
  /** `mayHaveLanded`: this attempt may have taken effect at the partner (no answer, a 5xx); kept on the row (may_have_landed). */
  | { readonly kind: 'failed'; readonly partnerStatus: number | null; readonly error: string; readonly mayHaveLanded?: boolean }
  | { readonly kind: 'retry'; readonly partnerStatus: number | null; readonly error: string; readonly delayMs: number; readonly mayHaveLanded?: boolean }
  /** Not attempted (circuit open, lane full): back to the pool without counting an attempt. */
  | { readonly kind: 'release'; readonly delayMs: number }
  /**
   * The partner queued the request (`uri` to follow) and has not settled it yet: pending, due
   * for the next check in `delayMs`. Not sent, not failed; a restart resumes from here.
   */
  | { readonly kind: 'following'; readonly uri: string; readonly delayMs: number; readonly partnerStatus: number | null };

const cols = (rows: readonly LedgerKey[]) => [
  rows.map((r) => r.integrationId), rows.map((r) => r.destinationId), rows.map((r) => r.orderId), rows.map((r) => r.action),
];
const KEYS_UNNEST = `unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS k(integration_id, destination_id, order_id, action)`;
const KEY_MATCH = `l.integration_id = k.integration_id AND l.destination_id = k.destination_id AND l.order_id = k.order_id AND l.action = k.action`;

// A row found 'sending' was on the wire when its holder died (or its settle failed): that attempt may have landed.
const FENCE_SQL = `UPDATE dispatch_ledger l SET status = 'sending', attempts = l.attempts + 1, lease_owner = $5,
          lease_until = now() + make_interval(secs => $6), updated_at = now(), may_have_landed = l.may_have_landed OR l.status = 'sending'
     FROM ${KEYS_UNNEST}
    WHERE ${KEY_MATCH} AND l.status IN ('pending', 'sending') AND l.lease_owner = $5
   RETURNING l.integration_id AS "integrationId", l.destination_id AS "destinationId", l.order_id AS "orderId", l.action, l.attempts,
             l.may_have_landed AS "mayHaveLanded"`;

/**
 * The idempotency ledger, which is also the delivery queue. One row per (integration,
 * destination, order, action): inserted once (a replay finds it and sends nothing), fenced
 * by its lease before each attempt, settled after. A row a crash left behind is taken over
 * when its lease runs out and sent again with the same partner-side key.
 */
export const createLedger = (pool: pg.Pool, p: { scope: string; owner: string; leaseMs: number }) => ({
  /** Insert new jobs; returns the keys that were new (the others exist: replay or duplicate). */
  async insert(jobs: readonly NewJob[]): Promise<Set<string>> {
    if (jobs.length === 0) return new Set();
    const { rows } = await pool.query<LedgerKey>(
      // A row's email hashes travel as a JSON array (unnest flattens an array of arrays).
      `INSERT INTO dispatch_ledger (integration_id, destination_id, order_id, action, conversion_id, status, scope,
                                    destination_type, conversion_frame, next_attempt_at, lease_owner, lease_until, refund_rank,
                                    customer_id, email_sha256s)
       SELECT k.integration_id, k.destination_id, k.order_id, k.action, k.conversion_id, 'pending', $9, k.destination_type, k.frame, now(),
              CASE WHEN k.leased THEN $10 END, CASE WHEN k.leased THEN now() + make_interval(secs => $11) END, k.refund_rank,
              k.customer_id, ARRAY(SELECT jsonb_array_elements_text(k.email_sha256s))
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bytea[], $8::bool[], $12::int8[],
                     $13::text[], $14::jsonb[])
              AS k(integration_id, destination_id, order_id, action, conversion_id, destination_type, frame, leased, refund_rank,
                   customer_id, email_sha256s)
       ON CONFLICT DO NOTHING
       RETURNING integration_id AS "integrationId", destination_id AS "destinationId", order_id AS "orderId", action`,
      [...cols(jobs), jobs.map((j) => j.conversionId), jobs.map((j) => j.destinationType), jobs.map((j) => j.frame),
        jobs.map((j) => j.leased), p.scope, p.owner, p.leaseMs / 1000, jobs.map((j) => j.refundRank),
        jobs.map((j) => j.erasure.customerId), jobs.map((j) => JSON.stringify(j.erasure.emailSha256s))],
    );
    return new Set(rows.map(keyString));
  },

  /**
   * Before an attempt: take the row if it is still ours and unsettled, count the attempt and
   * stretch the lease over the request. Returns the attempt number, or null (settled meanwhile,
   * or another instance took it over).
   */
  async fence(keys: readonly LedgerKey[], holdMs: number): Promise<(number | null)[]> {
    if (keys.length === 0) return [];
    const { rows } = await pool.query<LedgerKey & { attempts: number }>(FENCE_SQL, [...cols(keys), p.owner, holdMs / 1000]);
    const got = new Map(rows.map((r) => [keyString(r), r.attempts]));
    return keys.map((k) => got.get(keyString(k)) ?? null);
  },

  /**
   * Before checking a queued request's status: take the row if it is still ours, still pending
   * and still following that URI; count the check (not an attempt: the request was sent once)
   * and stretch the lease over the GET. Returns the check number, or null.
   */
  async fenceFollow(key: LedgerKey, uri: string, holdMs: number): Promise<{ check: number; attempts: number } | null> {
    const { rows } = await pool.query<{ check: number; attempts: number }>(
      `UPDATE dispatch_ledger SET status = 'sending', follow_checks = follow_checks + 1, lease_until = now() + make_interval(secs => $7), updated_at = now()
        WHERE integration_id = $1 AND destination_id = $2 AND order_id = $3 AND action = $4 AND lease_owner = $5 AND queued_uri = $6
          AND status IN ('pending', 'sending')
       RETURNING follow_checks AS check, attempts`,
      [key.integrationId, key.destinationId, key.orderId, key.action, p.owner, uri, holdMs / 1000]);
    return rows[0] ?? null;
  },

  /**
   * The fence for a refund or reversal to a partner that needs the order's sale first (impact,
   * PartnerStack): under a per-order advisory lock, read the destination's sale row of the order
   * and (partners whose refund sets a total, impact) the order's other refund rows, and decide
   * (decideOrderAction) before fencing, so two instances cannot both see "nothing in flight" and
   * race on the wire. `send`, `skip` and `dead` fence it (recorded as an attempt); `wait` hands
   * the row back (pending, due in the decision's delay, no lease) in the same transaction, and
   * only if this instance still holds it, so a row another instance has taken over is never
   * released under it. `mayHaveLanded`: an earlier attempt of this row may have taken effect.
   */
  async fenceRefund(key: LedgerKey, holdMs: number, o: { setsTotal: boolean }): Promise<{ attempt: number | null; mayHaveLanded: boolean; decision: RefundOrderDecision }> {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      await client.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`,
        [`dispatch_refund|${p.scope}|${key.integrationId}|${key.destinationId}|${key.orderId}`]);
      const { rows } = await client.query<{ action: string; rank: string | null; status: SiblingRefund['status']; attempts: number; leaseAlive: boolean; dueInMs: number; lastError: string | null; queued: boolean }>(
        `SELECT action, refund_rank AS rank, status, attempts, (lease_until IS NOT NULL AND lease_until > now()) AS "leaseAlive",
                GREATEST(0, COALESCE(EXTRACT(EPOCH FROM next_attempt_at - now()) * 1000, 0))::float8 AS "dueInMs", last_error AS "lastError",
                queued_uri IS NOT NULL AS queued
           FROM dispatch_ledger
          WHERE integration_id = $1 AND destination_id = $2 AND order_id = $3 AND (refund_rank IS NOT NULL OR action = 'credit')`,
        [key.integrationId, key.destinationId, key.orderId]);
      const saleRow = rows.find((r) => r.action === 'credit');
      const sale: SaleRow | null = saleRow ? { status: saleRow.status, dueInMs: saleRow.dueInMs, lastError: saleRow.lastError, queuedAtPartner: saleRow.queued } : null;
      const siblings: SiblingRefund[] = rows.filter((r) => r.rank !== null).map((r) => ({
        action: r.action, rank: Number(r.rank), status: r.status, attempts: r.attempts, leaseAlive: r.leaseAlive,
      }));
      const me = siblings.find((s) => s.action === key.action) ?? null;
      const decision = decideOrderAction({ orderId: key.orderId, sale, setsTotal: o.setsTotal, mine: me, siblings });
      let attempt: number | null = null;
      let mayHaveLanded = false;
      if (decision.go !== 'wait') {
        const fenced = await client.query<{ attempts: number; mayHaveLanded: boolean }>(FENCE_SQL, [...cols([key]), p.owner, holdMs / 1000]);
        attempt = fenced.rows[0]?.attempts ?? null;
        mayHaveLanded = fenced.rows[0]?.mayHaveLanded ?? false;
      } else {
        await client.query(
          `UPDATE dispatch_ledger SET status = 'pending', next_attempt_at = now() + make_interval(secs => $6),
                  lease_owner = NULL, lease_until = NULL, updated_at = now(), may_have_landed = may_have_landed OR status = 'sending'
            WHERE integration_id = $1 AND destination_id = $2 AND order_id = $3 AND action = $4
              AND lease_owner = $5 AND status IN ('pending', 'sending')`,
          [key.integrationId, key.destinationId, key.orderId, key.action, p.owner, decision.delayMs / 1000]);
      }
      await client.query('COMMIT');
      return { attempt, mayHaveLanded, decision };
    } catch (err) {
      // A failed ROLLBACK means the connection is gone: destroy it rather than pool it.
      await client.query('ROLLBACK').catch((e: Error) => { broken = e; });
      throw err;
    } finally {
      client.release(broken);
    }
  },

  async settle(items: readonly { key: LedgerKey; s: Settlement }[]): Promise<void[]> {
    if (items.length === 0) return [];
    const status = items.map(({ s }) =>
      s.kind === 'retry' || s.kind === 'release' || s.kind === 'following' ? 'pending' : s.kind === 'failed' ? 'failed' : s.kind);
    const delay = items.map(({ s }) => (s.kind === 'retry' || s.kind === 'release' || s.kind === 'following' ? s.delayMs / 1000 : 0));
    // Following keeps (or sets) the URI; a retry or a release leaves it as it is; a settled row drops it (a requeue sends anew).
    const queued = items.map(({ s }) => (s.kind === 'following' ? s.uri : null));
    const queueMode = items.map(({ s }) => (s.kind === 'following' ? 'set' : s.kind === 'retry' || s.kind === 'release' ? 'keep' : 'clear'));
    const partnerStatus = items.map(({ s }) => ('partnerStatus' in s ? s.partnerStatus : null));
    const ref = items.map(({ s }) => (s.kind === 'sent' ? s.partnerRef : null));
    const error = items.map(({ s }) => (s.kind === 'failed' || s.kind === 'retry' ? s.error.slice(0, 2000) : s.kind === 'dry_run' ? s.note : null));
    const dry = items.map(({ s }) => (s.kind === 'dry_run' && s.request ? JSON.stringify(s.request) : null));
    const landed = items.map(({ s }) => ((s.kind === 'retry' || s.kind === 'failed') && s.mayHaveLanded === true));
    // A row handed back unattempted while still 'sending' was on the wire under its previous holder (a crash): keep that.
    const release = items.map(({ s }) => s.kind === 'release');
    const keys = items.map((i) => i.key);
    await pool.query(
      `UPDATE dispatch_ledger l SET status = k.status,
              partner_status = COALESCE(k.partner_status, l.partner_status), partner_ref = COALESCE(k.ref, l.partner_ref),
              last_error = CASE WHEN k.status = 'sent' THEN l.last_error ELSE COALESCE(k.error, l.last_error) END,
              dry_run_request = k.dry::jsonb,
              next_attempt_at = CASE WHEN k.status = 'pending' THEN now() + make_interval(secs => k.delay) ELSE NULL END,
              lease_owner = NULL, lease_until = NULL, updated_at = now(), may_have_landed = l.may_have_landed OR k.landed OR (k.release AND l.status = 'sending'),
              queued_uri = CASE k.queue_mode WHEN 'set' THEN k.queued WHEN 'keep' THEN l.queued_uri END,
              queued_at = CASE k.queue_mode WHEN 'set' THEN COALESCE(l.queued_at, now()) WHEN 'keep' THEN l.queued_at END,
              follow_checks = CASE k.queue_mode WHEN 'clear' THEN 0 ELSE l.follow_checks END
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::int[], $8::text[], $9::text[], $10::text[], $11::bool[], $12::bool[],
                     $13::text[], $14::text[])
              AS k(integration_id, destination_id, order_id, action, status, delay, partner_status, ref, error, dry, landed, release, queued, queue_mode)
        WHERE ${KEY_MATCH} AND l.status IN ('pending', 'sending')`,
      [...cols(keys), status, delay, partnerStatus, ref, error, dry, landed, release, queued, queueMode],
    );
    return items.map(() => undefined);
  },

  /**
   * Take due rows whose lease is free or has run out (a crashed instance's), at most
   * `perDestination` per destination so one backlog does not crowd out the others, and none
   * of the destinations this instance has no room for.
   */
  async claim(q: { limit: number; perDestination: number; exclude: readonly string[] }): Promise<ClaimedJob[]> {
    const { rows } = await pool.query<ClaimedJob>(
      `WITH c AS (
         SELECT integration_id, destination_id, order_id, action FROM (
           SELECT integration_id, destination_id, order_id, action,
                  row_number() OVER (PARTITION BY destination_id ORDER BY next_attempt_at) AS rn
             FROM dispatch_ledger
            WHERE scope = $1 AND status IN ('pending', 'sending') AND next_attempt_at IS NOT NULL AND next_attempt_at <= now()
              AND (lease_until IS NULL OR lease_until < now()) AND NOT (destination_id = ANY($2::text[]))
         ) x WHERE rn <= $3 LIMIT $4
       )
       UPDATE dispatch_ledger l SET lease_owner = $5, lease_until = now() + make_interval(secs => $6)
         FROM c
        WHERE l.integration_id = c.integration_id AND l.destination_id = c.destination_id AND l.order_id = c.order_id
          AND l.action = c.action AND l.status IN ('pending', 'sending') AND (l.lease_until IS NULL OR l.lease_until < now())
       RETURNING l.integration_id AS "integrationId", l.destination_id AS "destinationId", l.order_id AS "orderId", l.action,
                 l.conversion_id AS "conversionId", l.destination_type AS "destinationType", l.conversion_frame AS frame, l.attempts,
                 l.queued_uri AS "queuedUri", l.follow_checks AS "followChecks"`,
      [p.scope, q.exclude, q.perDestination, q.limit, p.owner, p.leaseMs / 1000],
    );
    return rows;
  },

  /**
   * What the attribution store holds now for each customer, for the partners that need it: the
   * plain email (never from Kafka) and the merchant's customer key, which may have arrived after
   * the conversion was mapped (Stripe does not order webhooks).
   */
  async customers(keys: readonly { integrationId: string; customerId: string }[]): Promise<({ email: string | null; customerKey: string | null } | null)[]> {
    if (keys.length === 0) return [];
    const { rows } = await pool.query<{ integration_id: string; customer_id: string; email: string | null; customer_key: string | null }>(
      `SELECT a.integration_id, a.customer_id, a.email, a.customer_key FROM attribution_store a
         JOIN unnest($1::text[], $2::text[]) AS k(integration_id, customer_id)
           ON a.integration_id = k.integration_id AND a.customer_id = k.customer_id`,
      [keys.map((k) => k.integrationId), keys.map((k) => k.customerId)],
    );
    const m = new Map(rows.map((r) => [`${r.integration_id}\u0000${r.customer_id}`, { email: r.email, customerKey: r.customer_key }]));
    return keys.map((k) => m.get(`${k.integrationId}\u0000${k.customerId}`) ?? null);
  },
});
export type Ledger = ReturnType<typeof createLedger>;
