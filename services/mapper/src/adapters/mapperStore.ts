import type pg from 'pg';
import { sha256Email } from '../core/conversionId.js';
import type { Effect } from '../core/effects.js';
import type { OrderLink, RecordedTransaction, StoredAttribution } from '../core/facts.js';
import type { ChargeTracking } from '../core/mapContext.js';
import { bigintArray, textArray } from './pgArrays.js';

/** The integration as the mapper reads it (its own query: charge tracking and the Stripe key are mapper concerns). */
export interface MapperSettings {
  readonly id: string;
  readonly saleTrigger: 'invoice.paid' | 'invoice.payment_succeeded';
  readonly refundHoldSeconds: number;
  readonly chargeTracking: ChargeTracking;
  readonly stripeKeyCiphertext: string | null;
}

export interface BatchState {
  readonly attribution: Map<string, StoredAttribution>;
  readonly transactions: Map<string, RecordedTransaction>;
  readonly refundKeys: Map<string, Set<string>>;
  readonly links: Map<string, OrderLink>;
}

export interface StateQuery {
  readonly attributionKeys: readonly string[];
  readonly chargeIds: readonly string[];
  readonly linkRefs: readonly string[];
}

export interface MapperStore {
  settingsOf(integrationId: string): Promise<MapperSettings | null>;
  /** Event ids (of these integrations) already handled. */
  processed(events: readonly { integrationId: string; eventId: string }[]): Promise<Set<string>>;
  loadState(integrationId: string, q: StateQuery): Promise<BatchState>;
  /** After the batch's records are acknowledged: apply the effects and mark the events handled, atomically. */
  commit(effects: readonly { integrationId: string; effect: Effect }[], events: readonly { integrationId: string; eventId: string }[]): Promise<void>;
  /** Forget handled ids older than Stripe's event retention (replays beyond it are impossible). */
  prune(olderThanDays: number): Promise<number>;
}

export const processedKey = (integrationId: string, eventId: string): string => `${integrationId}\u0000${eventId}`;

const uniq = <T>(xs: readonly T[]): T[] => [...new Set(xs)];

/** The commit statement's parameters: the batch's effects, last write per key, as array literals. */
export const commitParams = (
  effects: readonly { integrationId: string; effect: Effect }[], events: readonly { integrationId: string; eventId: string }[],
): string[] => {
  // Last write per key wins within the batch: effects are in event order.
  const attribution = new Map<string, { integrationId: string; e: Extract<Effect, { type: 'attribution' }> }>();
  const links = new Map<string, { integrationId: string; e: Extract<Effect, { type: 'orderLink' }> }>();
  const transactions = new Map<string, { integrationId: string; e: Extract<Effect, { type: 'transaction' }> }>();
  const refunds = new Map<string, { integrationId: string; e: Extract<Effect, { type: 'refund' }> }>();
  for (const { integrationId, effect: e } of effects) {
    switch (e.type) {
      case 'attribution': attribution.set(`${integrationId}\u0000${e.key}`, { integrationId, e }); break;
      case 'orderLink': links.set(`${integrationId}\u0000${e.ref}`, { integrationId, e }); break;
      case 'transaction': transactions.set(`${integrationId}\u0000${e.chargeId}`, { integrationId, e }); break;
      case 'refund': refunds.set(`${integrationId}\u0000${e.refundKey}`, { integrationId, e }); break;
      default: { const _exhaustive: never = e; void _exhaustive; }
    }
  }
  const a = [...attribution.values()];
  const l = [...links.values()];
  const t = [...transactions.values()];
  const r = [...refunds.values()];
  return [
    textArray(a.map((x) => x.integrationId)), textArray(a.map((x) => x.e.key)), textArray(a.map((x) => x.e.row.clickId)),
    textArray(a.map((x) => x.e.row.partnerKey)), textArray(a.map((x) => x.e.row.customerKey)), textArray(a.map((x) => x.e.row.productKey)),
    textArray(a.map((x) => x.e.row.promoCode)), textArray(a.map((x) => x.e.row.email)), bigintArray(a.map((x) => x.e.row.identityAt)),
    textArray(a.map((x) => x.e.sourceEventId)), textArray(a.map((x) => sha256Email(x.e.row.email))),
    textArray(l.map((x) => x.integrationId)), textArray(l.map((x) => x.e.ref)), textArray(l.map((x) => x.e.orderId)),
    textArray(l.map((x) => x.e.kind)), textArray(l.map((x) => x.e.subscriptionId)), textArray(l.map((x) => x.e.customerId)),
    textArray(t.map((x) => x.integrationId)), textArray(t.map((x) => x.e.chargeId)), textArray(t.map((x) => x.e.status)),
    textArray(t.map((x) => x.e.conversionId)), textArray(t.map((x) => x.e.orderId)), bigintArray(t.map((x) => x.e.amountMinor)),
    textArray(t.map((x) => x.e.currency)), textArray(t.map((x) => x.e.sourceEventId)),
    textArray(r.map((x) => x.integrationId)), textArray(r.map((x) => x.e.refundKey)), textArray(r.map((x) => x.e.chargeId)),
    bigintArray(r.map((x) => x.e.amountMinor)), textArray(r.map((x) => x.e.conversionId)), textArray(r.map((x) => x.e.sourceEventId)),
    textArray(events.map((e) => e.integrationId)), textArray(events.map((e) => e.eventId)),
    textArray(l.map((x) => x.e.billingReason ?? null)),
    textArray(a.map((x) => x.e.row.impactClickId)), textArray(a.map((x) => x.e.row.tracknowClickId)),
    textArray(a.map((x) => x.e.row.everflowTransactionId)), textArray(a.map((x) => x.e.row.clientReferenceId)),
    bigintArray(l.map((x) => x.e.saleNetMinor ?? null)),
  ];
};

export const createMapperStore = (pool: pg.Pool): MapperStore => ({
  settingsOf: async (integrationId) => {
    const { rows } = await pool.query(
      `SELECT id, sale_trigger, refund_hold_seconds, charge_tracking, stripe_key_ciphertext FROM integrations WHERE id = $1`,
      [integrationId],
    );
    const r = rows[0];
    return r
      ? { id: r.id, saleTrigger: r.sale_trigger, refundHoldSeconds: r.refund_hold_seconds, chargeTracking: r.charge_tracking, stripeKeyCiphertext: r.stripe_key_ciphertext }
      : null;
  },

  processed: async (events) => {
    if (events.length === 0) return new Set();
    const { rows } = await pool.query<{ integration_id: string; event_id: string }>(
      `SELECT p.integration_id, p.event_id FROM mapper_processed_events p
         JOIN unnest($1::text[], $2::text[]) AS q(integration_id, event_id)
           ON p.integration_id = q.integration_id AND p.event_id = q.event_id`,
      [textArray(events.map((e) => e.integrationId)), textArray(events.map((e) => e.eventId))],
    );
    return new Set(rows.map((r) => processedKey(r.integration_id, r.event_id)));
  },

  loadState: async (integrationId, q) => {
    const keys = uniq(q.attributionKeys);
    const charges = uniq(q.chargeIds);
    const refs = uniq(q.linkRefs);
    const [a, t, rf, l] = await Promise.all([
      keys.length === 0 ? { rows: [] } : pool.query(
        `SELECT customer_id, click_id, impact_click_id, tracknow_click_id, everflow_transaction_id, client_reference_id,
                partner_key, customer_key, product_key, promo_code, email, identity_at
           FROM attribution_store WHERE integration_id = $1 AND customer_id = ANY($2::text[])`, [integrationId, textArray(keys)]),
      charges.length === 0 ? { rows: [] } : pool.query(
        `SELECT charge_id, status, conversion_id, order_id, amount_minor, currency, source_event_id
           FROM mapper_charge_transactions WHERE integration_id = $1 AND charge_id = ANY($2::text[])`, [integrationId, textArray(charges)]),
      charges.length === 0 ? { rows: [] } : pool.query(
        `SELECT charge_id, refund_key FROM mapper_refunds WHERE integration_id = $1 AND charge_id = ANY($2::text[])`, [integrationId, textArray(charges)]),
      // The refs' links, and the own links of the invoices they lead to (its subscription and
      // billing_reason, for a charge whose link was stored without them).
      refs.length === 0 ? { rows: [] } : pool.query(
        `SELECT ref, order_id, order_kind, subscription_id, customer_id, billing_reason, sale_net_minor
           FROM mapper_order_links WHERE integration_id = $1 AND (ref = ANY($2::text[]) OR ref IN (
             SELECT order_id FROM mapper_order_links WHERE integration_id = $1 AND ref = ANY($2::text[]) AND order_kind = 'invoice'))`,
        [integrationId, textArray(refs)]),
    ]);
    const state: BatchState = { attribution: new Map(), transactions: new Map(), refundKeys: new Map(), links: new Map() };
    for (const r of a.rows) {
      state.attribution.set(r.customer_id, {
        clickId: r.click_id, impactClickId: r.impact_click_id, tracknowClickId: r.tracknow_click_id,
        everflowTransactionId: r.everflow_transaction_id, clientReferenceId: r.client_reference_id, partnerKey: r.partner_key, customerKey: r.customer_key, productKey: r.product_key,
        promoCode: r.promo_code, email: r.email, identityAt: r.identity_at === null ? null : Number(r.identity_at),
      });
    }
    for (const r of t.rows) {
      state.transactions.set(r.charge_id, {
        status: r.status, conversionId: r.conversion_id, orderId: r.order_id,
        amountMinor: r.amount_minor === null ? null : Number(r.amount_minor), currency: r.currency, sourceEventId: r.source_event_id,
      });
    }
    for (const r of rf.rows) {
      const set = state.refundKeys.get(r.charge_id) ?? new Set<string>();
      set.add(r.refund_key);
      state.refundKeys.set(r.charge_id, set);
    }
    for (const r of l.rows) {
      state.links.set(r.ref, {
        orderId: r.order_id, kind: r.order_kind, subscriptionId: r.subscription_id, customerId: r.customer_id, billingReason: r.billing_reason,
        saleNetMinor: r.sale_net_minor === null ? null : Number(r.sale_net_minor),
      });
    }
    return state;
  },

  commit: async (effects, events) => {
    if (effects.length === 0 && events.length === 0) return;
    // One statement (data-modifying CTEs): atomic without BEGIN/COMMIT, one round trip, and
    // always the same text, so PostgreSQL plans it once per connection.
    await pool.query({
      name: 'mapper_commit_v4', // a new name whenever the text changes: a connection keeps its prepared statements
      text: `
      WITH attribution AS (
        INSERT INTO attribution_store AS s (integration_id, customer_id, click_id, partner_key, customer_key, product_key, promo_code, email, email_sha256, identity_at, source_event_id, updated_at,
                                            impact_click_id, tracknow_click_id, everflow_transaction_id, client_reference_id)
        SELECT i, c, ck, pk, cu, pr, pc, em, eh, ia, se, now(), ic, tc, et, cr
          FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::text[], $11::text[],
                      $35::text[], $36::text[], $37::text[], $38::text[])
            AS x(i, c, ck, pk, cu, pr, pc, em, ia, se, eh, ic, tc, et, cr)
        ON CONFLICT (integration_id, customer_id) DO UPDATE SET
          click_id = EXCLUDED.click_id, impact_click_id = EXCLUDED.impact_click_id, tracknow_click_id = EXCLUDED.tracknow_click_id,
          everflow_transaction_id = EXCLUDED.everflow_transaction_id, client_reference_id = EXCLUDED.client_reference_id, partner_key = EXCLUDED.partner_key, customer_key = EXCLUDED.customer_key,
          product_key = EXCLUDED.product_key, promo_code = EXCLUDED.promo_code, email = EXCLUDED.email,
          email_sha256 = EXCLUDED.email_sha256, identity_at = EXCLUDED.identity_at,
          source_event_id = EXCLUDED.source_event_id, updated_at = now()
        RETURNING 1
      ), links AS (
        INSERT INTO mapper_order_links (integration_id, ref, order_id, order_kind, subscription_id, customer_id, billing_reason, sale_net_minor)
        SELECT * FROM unnest($12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $34::text[], $39::bigint[])
        ON CONFLICT (integration_id, ref) DO UPDATE SET order_id = EXCLUDED.order_id, order_kind = EXCLUDED.order_kind,
          subscription_id = COALESCE(EXCLUDED.subscription_id, mapper_order_links.subscription_id),
          billing_reason = COALESCE(EXCLUDED.billing_reason, mapper_order_links.billing_reason),
          sale_net_minor = COALESCE(EXCLUDED.sale_net_minor, mapper_order_links.sale_net_minor),
          customer_id = COALESCE(EXCLUDED.customer_id, mapper_order_links.customer_id), updated_at = now()
        RETURNING 1
      ), transactions AS (
        INSERT INTO mapper_charge_transactions (integration_id, charge_id, status, conversion_id, order_id, amount_minor, currency, source_event_id)
        SELECT * FROM unnest($18::text[], $19::text[], $20::text[], $21::text[], $22::text[], $23::bigint[], $24::text[], $25::text[])
        ON CONFLICT (integration_id, charge_id) DO UPDATE SET status = EXCLUDED.status,
          conversion_id = COALESCE(EXCLUDED.conversion_id, mapper_charge_transactions.conversion_id),
          order_id = COALESCE(EXCLUDED.order_id, mapper_charge_transactions.order_id),
          amount_minor = COALESCE(EXCLUDED.amount_minor, mapper_charge_transactions.amount_minor),
          currency = COALESCE(EXCLUDED.currency, mapper_charge_transactions.currency),
          source_event_id = EXCLUDED.source_event_id, updated_at = now()
        RETURNING 1
      ), refunds AS (
        INSERT INTO mapper_refunds (integration_id, refund_key, charge_id, amount_minor, conversion_id, source_event_id)
        SELECT * FROM unnest($26::text[], $27::text[], $28::text[], $29::bigint[], $30::text[], $31::text[])
        ON CONFLICT (integration_id, refund_key) DO NOTHING
        RETURNING 1
      ), handled AS (
        INSERT INTO mapper_processed_events (integration_id, event_id)
        SELECT * FROM unnest($32::text[], $33::text[]) ON CONFLICT DO NOTHING
        RETURNING 1
      )
      SELECT (SELECT count(*) FROM attribution) + (SELECT count(*) FROM links) + (SELECT count(*) FROM transactions)
           + (SELECT count(*) FROM refunds) + (SELECT count(*) FROM handled) AS n`,
      values: commitParams(effects, events),
    });
  },

  prune: async (olderThanDays) => {
    const r = await pool.query(`DELETE FROM mapper_processed_events WHERE processed_at < now() - make_interval(days => $1)`, [olderThanDays]);
    return r.rowCount ?? 0;
  },
});
