import Stripe from 'stripe';
import { parseStripeEventEnvelope, type StripeEventEnvelope } from '@sas/contracts';

// stripe-node's verifyHeader takes the receive time as a sixth argument its typings omit.
const verifyHeader = Stripe.webhooks.signature.verifyHeader.bind(Stripe.webhooks.signature) as unknown as (
  payload: string, header: string, secret: string, toleranceSeconds: number, cryptoProvider: undefined, receivedAtMs: number,
) => boolean;

export type RejectReason =
  | 'missing_signature'
  | 'malformed_signature'
  | 'signature_mismatch'
  | 'stale_timestamp'
  | 'invalid_json'
  | 'not_an_event'
  | 'account_not_connected';

export type Verified =
  | { readonly ok: true; readonly event: StripeEventEnvelope }
  | { readonly ok: false; readonly reason: RejectReason; readonly detail: string };

const reasonOf = (message: string): RejectReason => {
  if (message.includes('Timestamp outside the tolerance zone')) return 'stale_timestamp';
  if (message.includes('No signatures found matching')) return 'signature_mismatch';
  if (message.includes('No stripe-signature header')) return 'missing_signature';
  return 'malformed_signature';
};

/**
 * Verify a Stripe webhook over its exact raw bytes with stripe-node, against every active
 * secret of the integration (during a roll Stripe signs with each), then check the envelope.
 * Pure: the clock comes in as `nowMs`.
 */
export const verifyWebhook = (p: {
  raw: Buffer;
  signatureHeader: string | undefined;
  secrets: readonly string[];
  toleranceSeconds: number;
  nowMs: number;
  connectedAccounts: readonly string[];
}): Verified => {
  if (!p.signatureHeader) return { ok: false, reason: 'missing_signature', detail: 'no Stripe-Signature header' };
  if (p.secrets.length === 0) return { ok: false, reason: 'signature_mismatch', detail: 'integration has no active signing secret' };
  // Decoded once for both the HMAC and the parse. Invalid UTF-8 would decode to replacement
  // characters and so fail the signature: the check stays on what Stripe sent.
  const text = p.raw.toString('utf8');
  let failure: RejectReason = 'signature_mismatch';
  let matched = false;
  for (const secret of p.secrets) {
    try {
      verifyHeader(text, p.signatureHeader, secret, p.toleranceSeconds, undefined, p.nowMs);
      matched = true;
      break;
    } catch (err) {
      const reason = reasonOf(err instanceof Error ? err.message : String(err));
      // A stale timestamp means a secret matched: report that rather than a mismatch from another secret.
      if (reason === 'stale_timestamp' || failure === 'signature_mismatch') failure = reason;
      if (reason === 'malformed_signature' || reason === 'missing_signature') break;
    }
  }
  if (!matched) return { ok: false, reason: failure, detail: detailOf(failure) };

  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'invalid_json', detail: 'body is not valid JSON' };
  }
  const parsed = parseStripeEventEnvelope(json);
  if (!parsed.ok) return { ok: false, reason: 'not_an_event', detail: parsed.reason };
  const account = parsed.event.account;
  if (account !== undefined && !p.connectedAccounts.includes(account)) {
    return { ok: false, reason: 'account_not_connected', detail: `account ${account} is not connected to this integration` };
  }
  return parsed;
};

const detailOf = (r: RejectReason): string => {
  switch (r) {
    case 'missing_signature': return 'no Stripe-Signature header';
    case 'malformed_signature': return 'Stripe-Signature header is malformed';
    case 'stale_timestamp': return 'signature timestamp is outside the tolerance';
    case 'signature_mismatch': return 'no signature matches an active secret';
    default: return r;
  }
};
