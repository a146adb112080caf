import Stripe from 'stripe';

/** A Stripe-Signature header made the way Stripe makes it, with stripe-node's own test helper. */
export const stripeSignature = (payload: string, secret: string, timestampSec = Math.floor(Date.now() / 1000)): string =>
  Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp: timestampSec });

/** A header carrying one v1 signature per secret, as Stripe sends during a secret roll. */
export const stripeSignatureMulti = (payload: string, secrets: string[], timestampSec = Math.floor(Date.now() / 1000)): string => {
  const sigs = secrets.map((s) => stripeSignature(payload, s, timestampSec).split(',').find((p) => p.startsWith('v1='))!);
  return [`t=${timestampSec}`, ...sigs].join(',');
};

export const randomWebhookSecret = (): string => `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString('base64url')}`;
