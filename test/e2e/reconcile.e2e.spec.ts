import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, createPool, migrate } from '@sas/runtime';
import { randomWebhookSecret, stackEndpoints, uniqueId } from '@sas/testkit';
import { startInProcessPipeline, type InProcessPipeline } from './inProcessPipeline.js';
import { simulate } from '../../tools/simulator/history.js';
import { sendHistories } from '../../tools/simulator/sender.js';
import { truthOf } from '../../tools/simulator/truth.js';
import { startReconcileTargets, type ReconcileTargets } from '../../tools/reconcile/destinations.js';
import { drainAndReconcile } from '../../tools/reconcile/drain.js';
import { knownDefects } from '../../tools/reconcile/knownDefects.js';

/**
 * The whole pipeline against Stripe's own numbers: simulated customers (signups with click ids
 * and customer keys, first invoices, renewals, upgrades with prorations, partial and full
 * refunds, failed charges; USD, EUR, GBP, JPY, KWD; duplicate and out-of-order deliveries),
 * signed and sent to ingest as Stripe sends them; once the pipeline is quiet, what impact.com,
 * PartnerStack and a webhook receiver hold per customer must equal Σ amount_paid − Σ refunded,
 * to the minor unit, with no order credited twice and none missing. Refunds are held 1 s by
 * the scheduler (the hold is exercised, not skipped). Everflow and Tracknow are not in this
 * check: partial refunds are dead-lettered at Everflow and Tracknow is at least once, by design.
 */
describe('reconciliation: simulated Stripe histories → partner credits', () => {
  const prefix = `${uniqueId('rec')}.`;
  const integrationId = uniqueId('int_rec_');
  const secret = randomWebhookSecret();
  const histories = simulate({ seed: 20261125, customers: 45, runTag: uniqueId('').slice(-6) });
  let targets: ReconcileTargets;
  let pipeline: InProcessPipeline | undefined;

  beforeAll(async () => {
    const log = createLogger('reconcile', process.env.TEST_LOG_LEVEL ?? 'warn');
    const databaseUrl = stackEndpoints().databaseUrl;
    await migrate(databaseUrl, log);
    const pool = createPool(databaseUrl);
    targets = await startReconcileTargets({ integrationId, webhookSecret: secret, refundHoldSeconds: 1, pool });
    await pool.end();
    pipeline = await startInProcessPipeline(prefix, 'reconcile', { RETRY_SCHEDULE_MS: '200,500,1000,2000,4000' });
  });

  afterAll(async () => {
    await pipeline?.stop();
    await targets?.close();
  });

  it('credits every partner exactly what Stripe was paid, net of refunds, once', async () => {
    const truth = truthOf(histories);
    const deliveries = histories.reduce((s, h) => s + h.deliveries.length, 0);
    const events = histories.reduce((s, h) => s + h.events.length, 0);
    // The mix the issue asks for is really in this run.
    const all = histories.flatMap((h) => h.events);
    expect(new Set(truth.map((t) => t.currency))).toEqual(new Set(['USD', 'EUR', 'GBP', 'JPY', 'KWD']));
    expect(all.some((e) => e.type === 'invoice.paid' && e.invoice.billingReason === 'subscription_update' && e.invoice.lines.some((l) => l.amount < 0))).toBe(true);
    expect(all.some((e) => e.type === 'invoice.payment_failed')).toBe(true);
    expect(truth.some((t) => t.refundedMinor > 0 && t.refundedMinor < t.paidMinor)).toBe(true);
    expect(truth.some((t) => t.refundedMinor === t.paidMinor)).toBe(true);
    expect(deliveries).toBeGreaterThan(events);

    // The mix of issue 14: discounts, tax both ways, a merchant tracking charges, long Checkout ids.
    expect(all.some((e) => e.type === 'invoice.paid' && e.invoice.discount?.promotionCode)).toBe(true);
    expect(all.some((e) => e.type === 'invoice.paid' && e.invoice.tax?.inclusive)).toBe(true);
    expect(all.some((e) => e.type === 'invoice.paid' && e.invoice.tax && !e.invoice.tax.inclusive)).toBe(true);
    expect(histories.some((h) => h.chargeTracked)).toBe(true);
    const sent = await sendHistories(histories, {
      url: `${pipeline!.ingest.url}/webhooks/stripe/${integrationId}`,
      urlFor: (h) => `${pipeline!.ingest.url}/webhooks/stripe/${targets!.integrationFor(h)}`, secret, concurrency: 16,
    });
    expect(sent).toMatchObject({ delivered: deliveries, gaveUp: 0 });

    const result = await drainAndReconcile({ targets, truth, knownDefect: knownDefects, quietMs: 2_500, giveUpQuietMs: 15_000, timeoutMs: 60_000 });
    // Two bugs this check found are reported apart (tools/reconcile/knownDefects.ts); anything else fails here.
    expect(result.details.filter((d) => !d.includes('known defect'))).toEqual([]);
    if (result.known_defects > 0 && process.env.RECONCILE_VERBOSE) console.warn(`reconciliation: ${result.known_defects} known defect(s):\n${result.details.join('\n')}`);
    // The webhook receiver has no known defect: exact for every order.
    expect(result.findings.filter((f) => f.destination === 'webhook')).toEqual([]);
    expect(result).toMatchObject({ mismatches: 0, double_credits: 0, missing: 0 });
    expect(result.orders).toBe(truth.length);

    // Hold accuracy: every refund was held the integration's 1 s and reached the partner no sooner.
    const refunds = targets.webhook.received.filter((r) => String((r.payload.data as { kind?: string }).kind).startsWith('REFUND_'));
    expect(refunds.length).toBeGreaterThan(10);
    for (const r of refunds) {
      const d = r.payload.data as { receivedAt: string; notBefore: string };
      expect(Date.parse(d.notBefore) - Date.parse(d.receivedAt)).toBe(1_000);
      expect(r.at).toBeGreaterThanOrEqual(Date.parse(d.notBefore));
    }
  }, 110_000);
});
