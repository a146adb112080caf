import { createHash, createHmac } from 'node:crypto';
import { ledgerKey, toDecimalString, type Conversion } from '@sas/contracts';
import type { Destination } from '@sas/runtime';
import { actionOf } from '../dispatchAction.js';
import { refundInSaleBasis } from '../saleBasis.js';
import { classifyResponse } from '../classifyResponse.js';
import { requireCredential, requireSetting, type BuildContext, type BuildResult } from '../partnerRequest.js';
import type { PartnerAdapter } from './adapter.js';

/**
 * The signing scheme (Standard Webhooks, as svix): headers `webhook-id` (stable for one
 * ledger entry, so receivers dedupe on it), `webhook-timestamp` (unix seconds) and
 * `webhook-signature: v1,<base64 HMAC-SHA256(secret, "<id>.<timestamp>.<body>")>`. The secret
 * may be `whsec_<base64>` (its decoded bytes are the key) or any other string (its UTF-8
 * bytes are the key). During a secret roll, several space-separated `v1,` signatures.
 */
export const webhookKeyBytes = (secret: string): Buffer =>
  secret.startsWith('whsec_') ? Buffer.from(secret.slice('whsec_'.length), 'base64') : Buffer.from(secret, 'utf8');

export const signWebhook = (secrets: readonly string[], id: string, timestampSec: number, body: string): string =>
  secrets.map((s) => `v1,${createHmac('sha256', webhookKeyBytes(s)).update(`${id}.${timestampSec}.${body}`).digest('base64')}`).join(' ');

export const webhookMessageId = (c: Conversion, d: Destination): string =>
  `msg_${createHash('sha256').update(ledgerKey({ integrationId: c.integrationId, destinationId: d.id, orderId: c.orderId, action: actionOf(c).actionKey })).digest('hex').slice(0, 32)}`;

/** The JSON a generic receiver gets: the conversion as is (money in minor units) plus the decimal amount. */
export const webhookPayload = (c: Conversion, id: string): Record<string, unknown> => ({
  id,
  type: `conversion.${c.kind.toLowerCase()}`,
  action: actionOf(c).action,
  data: {
    ...c,
    occurredAt: new Date(c.occurredAt).toISOString(),
    receivedAt: new Date(c.receivedAt).toISOString(),
    notBefore: new Date(c.notBefore).toISOString(),
    amount: { minor: c.amountMinor, currency: c.currency, decimal: toDecimalString(c.amountMinor, c.currency) },
    // Refunds: the same refund in the basis its sale was credited in (net of tax), saleBasis.ts.
    ...(isRefund(c) ? { saleBasis: refundInSaleBasis(c) } : {}),
  },
});

const isRefund = (c: Conversion): boolean => c.kind === 'REFUND_FULL' || c.kind === 'REFUND_PARTIAL';

/** Generic webhook: a signed JSON POST of every conversion, for any other platform. */
export const webhookRequest = (c: Conversion, d: Destination, ctx: BuildContext): BuildResult => {
  const url = requireSetting(d.settings, 'url', d.id);
  const secrets = [requireCredential(d.credentials, 'signingSecret', d.id), ...(d.credentials.previousSigningSecret ? [d.credentials.previousSigningSecret] : [])];
  const id = webhookMessageId(c, d);
  const body = JSON.stringify(webhookPayload(c, id));
  const ts = Math.floor(ctx.nowMs / 1000);
  return {
    action: actionOf(c).action,
    method: 'POST',
    url,
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(ts),
      'webhook-signature': signWebhook(secrets, id, ts, body),
    },
    body,
  };
};

export const webhookAdapter: PartnerAdapter = {
  skipReason: () => null,
  needsEmail: () => false,
  build: webhookRequest,
  classify: (a) => classifyResponse(a),
};
