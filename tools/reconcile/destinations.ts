/**
 * The partners a reconciliation run credits: the ones that hold money exactly and dedupe,
 * so "credited = Stripe's net, once" is a promise we can check to the minor unit.
 * - impact.com: sale, then PUT of the order's refunded total, DELETE on a full refund; twice:
 *   `impact` with the seed's separate first/recurring trackers, `impact_one_tracker` with one;
 * - PartnerStack: transactions keyed by order, negative ones for partial refunds, DELETE on a full refund;
 *   only the orders of customers PartnerStack knows (`owed`);
 * - the generic webhook: receivers dedupe on webhook-id.
 * A second integration of the same merchant tracks charges (`charge_tracking` all, issue 14):
 * `partnerstack_charges` (trackBy charge) and `webhook_charges` are credited each charge under its
 * charge id, and its refunds must find it there; the simulator sends its charge-tracked
 * customers to it (`integrationFor`), and each destination is held to its integration's orders (`scope`).
 * Left out on purpose (documented semantics, services/dispatcher/README.md): Everflow
 * dead-letters partial refunds (it has no partial reversal) and, like Tracknow, is at least once
 * (no dedupe under "Allow Duplicate Conversions": a resend after a crash may credit twice).
 */
import type { Pool } from 'pg';
import type { CustomerHistory } from '../simulator/history.js';
import type { TruthOrder } from '../simulator/truth.js';
import { createIntegration, createSecretBox, parseKey } from '@sas/runtime';
import {
  TEST_SECRETS_KEY, impactCredited, partnerstackCredited, startImpactStub, startPartnerstackStub, startWebhookStub,
  webhookCredited, type CreditedOrder,
} from '@sas/testkit';

export const RECONCILED_DESTINATIONS = ['impact', 'impact_one_tracker', 'partnerstack', 'webhook', 'partnerstack_charges', 'webhook_charges'] as const;

/** The charge-tracking integration's destinations end in `_charges`. */
export const isChargeDestination = (destination: string): boolean => destination.endsWith('_charges');
export type ReconciledDestination = (typeof RECONCILED_DESTINATIONS)[number];

export const startReconcileTargets = async (p: { integrationId: string; webhookSecret: string; secretsKey?: string; refundHoldSeconds?: number; pool: Pool }) => {
  const impactAuth = { accountSid: 'IRsimSID', authToken: `tok_${p.integrationId}` };
  const psAuth = { publicKey: 'pk_sim', secretKey: `sk_${p.integrationId}` };
  const hookSecret = `whsec_${Buffer.from(p.integrationId.padEnd(24, '0')).toString('base64')}`;
  const [impact, impactOne, partnerstack, webhook, partnerstackCharges, webhookCharges] = await Promise.all([
    startImpactStub(impactAuth),
    startImpactStub(impactAuth),
    // PartnerStack refuses a transaction of a customer it does not know (issue 14, item 1): see `owed`.
    startPartnerstackStub(psAuth),
    startWebhookStub({ secret: hookSecret }),
    startPartnerstackStub(psAuth),
    startWebhookStub({ secret: hookSecret }),
  ]);
  const chargeIntegrationId = `${p.integrationId}_ch`;
  // No rate limit of ours in the way: the stubs take whatever the dispatcher sends.
  const lane = { concurrency: 16, rateLimitPerSecond: 5_000, rateLimitBurst: 5_000 };
  await createIntegration(p.pool, createSecretBox(parseKey(p.secretsKey ?? TEST_SECRETS_KEY)), {
    id: p.integrationId,
    name: 'Simulated merchant',
    refundHoldSeconds: p.refundHoldSeconds ?? 1,
    webhookSecrets: [p.webhookSecret],
    destinations: [
      {
        id: `${p.integrationId}_impact`, type: 'impact', credentials: { authToken: impactAuth.authToken },
        settings: { ...lane, accountSid: impactAuth.accountSid, campaignId: '1000', eventTypeId: '2001', recurringEventTypeId: '2002', baseUrl: impact.baseUrl },
      },
      {
        id: `${p.integrationId}_impact_one_tracker`, type: 'impact', credentials: { authToken: impactAuth.authToken },
        settings: { ...lane, accountSid: impactAuth.accountSid, campaignId: '1000', eventTypeId: '2001', recurringEventTypeId: '2001', baseUrl: impactOne.baseUrl },
      },
      {
        id: `${p.integrationId}_partnerstack`, type: 'partnerstack', credentials: { secretKey: psAuth.secretKey },
        settings: { ...lane, publicKey: psAuth.publicKey, baseUrl: partnerstack.apiBase },
      },
      {
        id: `${p.integrationId}_webhook`, type: 'webhook', credentials: { signingSecret: hookSecret },
        settings: { ...lane, url: `${webhook.baseUrl}/hook` },
      },
    ],
  });
  await createIntegration(p.pool, createSecretBox(parseKey(p.secretsKey ?? TEST_SECRETS_KEY)), {
    id: chargeIntegrationId,
    name: 'Simulated merchant, charge tracking',
    refundHoldSeconds: p.refundHoldSeconds ?? 1,
    webhookSecrets: [p.webhookSecret],
    destinations: [
      {
        id: `${chargeIntegrationId}_partnerstack`, type: 'partnerstack', credentials: { secretKey: psAuth.secretKey },
        settings: { ...lane, publicKey: psAuth.publicKey, baseUrl: partnerstackCharges.apiBase, trackBy: 'charge' },
      },
      {
        id: `${chargeIntegrationId}_webhook`, type: 'webhook', credentials: { signingSecret: hookSecret },
        settings: { ...lane, url: `${webhookCharges.baseUrl}/hook` },
      },
    ],
  });
  await p.pool.query(`UPDATE integrations SET charge_tracking = 'all' WHERE id = $1`, [chargeIntegrationId]);
  const all = [impact, impactOne, partnerstack, webhook, partnerstackCharges, webhookCharges];
  return {
    impact, impactOne, partnerstack, webhook, partnerstackCharges, webhookCharges, chargeIntegrationId,
    /** The integration a simulated customer's Stripe account sends to. */
    integrationFor: (h: CustomerHistory): string => (h.chargeTracked ? chargeIntegrationId : p.integrationId),
    scope: (destination: string) => (t: TruthOrder): boolean => (t.tracking === 'charge') === isChargeDestination(destination),
    /**
     * PartnerStack is owed only the orders of customers it knows: ours are created by the
     * CUSTOMER_IDENTITY of a customer with a partner_key (POST /customers needs one,
     * docs.partnerstack.com/reference/post_v2-customers-1), and a transaction naming any other
     * customer is refused (post_v2-transactions). The others owe every order.
     */
    owed: (destination: string, t: TruthOrder): boolean => !destination.startsWith('partnerstack') || Boolean(t.partnerKey),
    /** `orderIds`: Stripe's order ids, for partners that credit some under a shortened id (impact's 64 characters). */
    credited: (orderIds: readonly string[] = []): Record<ReconciledDestination, CreditedOrder[]> => ({
      impact: impactCredited(impact.submissions, impact.actions, orderIds),
      impact_one_tracker: impactCredited(impactOne.submissions, impactOne.actions, orderIds),
      partnerstack: partnerstackCredited(partnerstack.transactions.values()),
      webhook: webhookCredited(webhook.received),
      partnerstack_charges: partnerstackCredited(partnerstackCharges.transactions.values()),
      webhook_charges: webhookCredited(webhookCharges.received),
    }),
    /** Requests the stubs answered so far (for "has the pipeline gone quiet"). */
    requests: () => all.reduce((s, t) => s + t.stats.requests, 0),
    close: () => Promise.all(all.map((t) => t.close())).then(() => undefined),
  };
};
export type ReconcileTargets = Awaited<ReturnType<typeof startReconcileTargets>>;
