/**
 * Stripe events beyond invoices (checkout, charges, refunds, customers), shaped as Stripe sends
 * them (Stripe's API reference and stripe-mock's fixtures, trimmed of fields nobody reads).
 * Builders with defaults that each case overrides. Two API shapes for charges: before
 * 2025-03-31.basil a charge carries `invoice` (null when it pays none); from basil on the field
 * is gone and its invoice is found through invoice payments.
 */
import { API_VERSIONS, invoicePaidEvent, type ApiShape, type InvoiceOptions } from './stripeFixtures.js';

let seq = 0;
const nextId = (prefix: string) => `${prefix}_${Date.now().toString(36)}${(seq++).toString(36)}${Math.random().toString(36).slice(2, 8)}`;
const nowSec = () => Math.floor(Date.now() / 1000);

export interface EnvelopeOptions {
  shape?: ApiShape;
  eventId?: string;
  created?: number;
  account?: string;
  livemode?: boolean;
  previousAttributes?: Record<string, unknown>;
}

export const stripeEvent = <T extends Record<string, unknown>>(type: string, object: T, o: EnvelopeOptions = {}) => ({
  id: o.eventId ?? nextId('evt'),
  object: 'event' as const,
  api_version: API_VERSIONS[o.shape ?? 'legacy'],
  created: o.created ?? nowSec(),
  data: { object, ...(o.previousAttributes ? { previous_attributes: o.previousAttributes } : {}) },
  livemode: o.livemode ?? false,
  pending_webhooks: 1,
  request: { id: `req_${nextId('r')}`, idempotency_key: null },
  type,
  ...(o.account ? { account: o.account } : {}),
});

export interface CheckoutOptions extends EnvelopeOptions {
  id?: string;
  mode?: 'payment' | 'subscription' | 'setup';
  type?: 'checkout.session.completed' | 'checkout.session.async_payment_succeeded';
  customer?: string | null;
  email?: string | null;
  currency?: string;
  amountSubtotal?: number;
  tax?: number;
  discount?: number;
  /** promo_... id in `discounts[]`, as the webhook carries it. */
  promotionCode?: string | null;
  clientReferenceId?: string | null;
  metadata?: Record<string, string>;
  paymentIntent?: string | null;
  subscription?: string | null;
  paymentStatus?: 'paid' | 'unpaid' | 'no_payment_required';
}

export const checkoutSessionCompletedEvent = (o: CheckoutOptions = {}) => {
  const mode = o.mode ?? 'payment';
  const subtotal = o.amountSubtotal ?? 4_900;
  const discount = o.discount ?? 0;
  const tax = o.tax ?? 0;
  const created = o.created ?? nowSec();
  const id = o.id ?? `cs_test_${nextId('a')}`;
  const customer = o.customer === undefined ? nextId('cus') : o.customer;
  const email = o.email === undefined ? 'jenny.rosen@example.com' : o.email;
  const session = {
    id,
    object: 'checkout.session',
    after_expiration: null,
    allow_promotion_codes: o.promotionCode ? true : null,
    amount_subtotal: subtotal,
    amount_total: subtotal - discount + tax,
    automatic_tax: { enabled: tax > 0, liability: null, status: tax > 0 ? 'complete' : null },
    billing_address_collection: null,
    cancel_url: 'https://example.com/cancel',
    client_reference_id: o.clientReferenceId ?? null,
    created: created - 120,
    currency: o.currency ?? 'usd',
    customer,
    customer_creation: customer ? 'always' : 'if_required',
    customer_details: { address: null, email, name: 'Jenny Rosen', phone: null, tax_exempt: 'none', tax_ids: [] },
    customer_email: null,
    discounts: o.promotionCode ? [{ coupon: null, promotion_code: o.promotionCode }] : [],
    expires_at: created + 86_400,
    invoice: mode === 'subscription' ? nextId('in') : null,
    livemode: o.livemode ?? false,
    locale: null,
    metadata: o.metadata ?? {},
    mode,
    payment_intent: mode === 'payment' ? (o.paymentIntent === undefined ? nextId('pi') : o.paymentIntent) : null,
    payment_link: null,
    payment_method_types: ['card'],
    payment_status: o.paymentStatus ?? 'paid',
    setup_intent: mode === 'setup' ? nextId('seti') : null,
    shipping_details: null,
    status: 'complete',
    submit_type: null,
    subscription: mode === 'subscription' ? (o.subscription ?? nextId('sub')) : null,
    success_url: 'https://example.com/success',
    total_details: { amount_discount: discount, amount_shipping: 0, amount_tax: tax },
    ui_mode: 'hosted',
    url: null,
  };
  return stripeEvent(o.type ?? 'checkout.session.completed', session, { ...o, created });
};

export interface RefundOptions {
  id?: string;
  amount: number;
  created?: number;
  status?: 'succeeded' | 'pending' | 'failed' | 'canceled';
}

export type ChargeEventType = 'charge.succeeded' | 'charge.captured' | 'charge.updated' | 'charge.refunded' | 'charge.failed';

export interface ChargeOptions extends EnvelopeOptions {
  id?: string;
  amount?: number;
  amountCaptured?: number;
  amountRefunded?: number;
  captured?: boolean;
  status?: 'succeeded' | 'pending' | 'failed';
  currency?: string;
  customer?: string | null;
  paymentIntent?: string | null;
  /** Legacy shape only: the invoice the charge pays (null: none). */
  invoice?: string | null;
  metadata?: Record<string, string>;
  email?: string | null;
  /** Include the charge's `refunds` list (API versions before 2022-11-15, or an expanded field). */
  refunds?: RefundOptions[];
}

export const refundObject = (chargeId: string, r: RefundOptions, currency = 'usd', paymentIntent: string | null = null) => ({
  id: r.id ?? nextId('re'),
  object: 'refund',
  amount: r.amount,
  balance_transaction: nextId('txn'),
  charge: chargeId,
  created: r.created ?? nowSec(),
  currency,
  metadata: {},
  payment_intent: paymentIntent,
  reason: 'requested_by_customer',
  receipt_number: null,
  source_transfer_reversal: null,
  status: r.status ?? 'succeeded',
  transfer_reversal: null,
});

export const chargeEvent = (type: ChargeEventType, o: ChargeOptions = {}) => {
  const shape = o.shape ?? 'legacy';
  const id = o.id ?? nextId('ch');
  const amount = o.amount ?? 2_000;
  const failed = type === 'charge.failed';
  const refunded = o.amountRefunded ?? (o.refunds ?? []).filter((r) => r.status !== 'failed' && r.status !== 'canceled').reduce((s, r) => s + r.amount, 0);
  const captured = o.captured ?? !failed;
  const currency = o.currency ?? 'usd';
  const pi = o.paymentIntent === undefined ? nextId('pi') : o.paymentIntent;
  const created = o.created ?? nowSec();
  const email = o.email === undefined ? 'jenny.rosen@example.com' : o.email;
  const charge = {
    id,
    object: 'charge',
    amount,
    amount_captured: captured ? o.amountCaptured ?? amount : 0,
    amount_refunded: refunded,
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: failed ? null : nextId('txn'),
    billing_details: { address: { city: null, country: null, line1: null, line2: null, postal_code: null, state: null }, email, name: null, phone: null },
    calculated_statement_descriptor: 'Stripe',
    captured,
    created,
    currency,
    customer: o.customer === undefined ? nextId('cus') : o.customer,
    description: null,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: failed ? 'card_declined' : null,
    failure_message: failed ? 'Your card was declined.' : null,
    fraud_details: {},
    livemode: o.livemode ?? false,
    metadata: o.metadata ?? {},
    on_behalf_of: null,
    outcome: failed
      ? { network_status: 'declined_by_network', reason: 'generic_decline', risk_level: 'normal', seller_message: 'The bank did not return any further details with this decline.', type: 'issuer_declined' }
      : { network_status: 'approved_by_network', reason: null, risk_level: 'normal', seller_message: 'Payment complete.', type: 'authorized' },
    paid: !failed,
    payment_intent: pi,
    payment_method: nextId('pm'),
    payment_method_details: { card: { brand: 'visa', country: 'US', exp_month: 8, exp_year: 2030, funding: 'credit', last4: '4242', network: 'visa' }, type: 'card' },
    receipt_email: email,
    receipt_number: null,
    receipt_url: `https://pay.stripe.com/receipts/${id}`,
    refunded: refunded >= amount && refunded > 0,
    review: null,
    shipping: null,
    source_transfer: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: o.status ?? (failed ? 'failed' : 'succeeded'),
    transfer_data: null,
    transfer_group: null,
    ...(shape === 'legacy' ? { invoice: o.invoice ?? null } : {}),
    ...(o.refunds
      ? { refunds: { object: 'list', data: o.refunds.map((r) => refundObject(id, r, currency, pi)), has_more: false, total_count: o.refunds.length, url: `/v1/charges/${id}/refunds` } }
      : {}),
  };
  return stripeEvent(type, charge, { ...o, created });
};

export interface CustomerOptions extends EnvelopeOptions {
  id?: string;
  email?: string | null;
  name?: string | null;
  currency?: string | null;
  metadata?: Record<string, string>;
}

export const customerEvent = (type: 'customer.created' | 'customer.updated', o: CustomerOptions = {}) => {
  const created = o.created ?? nowSec();
  const customer = {
    id: o.id ?? nextId('cus'),
    object: 'customer',
    address: null,
    balance: 0,
    created,
    currency: o.currency === undefined ? null : o.currency,
    default_source: null,
    delinquent: false,
    description: null,
    email: o.email === undefined ? 'jenny.rosen@example.com' : o.email,
    invoice_prefix: 'C0FFEE1',
    invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
    livemode: o.livemode ?? false,
    metadata: o.metadata ?? {},
    name: o.name === undefined ? 'Jenny Rosen' : o.name,
    phone: null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: 'none',
    test_clock: null,
  };
  return stripeEvent(type, customer, { ...o, created });
};

/** The alternative trigger PartnerStack offers: the same invoice, another event type. */
export const invoicePaymentSucceededEvent = (o: Omit<InvoiceOptions, 'type'> = {}) => invoicePaidEvent({ ...o, type: 'invoice.payment_succeeded' });

export interface InvoiceLineOptions {
  amount: number;
  quantity?: number;
  unitAmount?: number;
  description?: string;
  /** A proration line (an upgrade's credit for unused time is negative). */
  proration?: boolean;
}

export interface InvoiceEventOptions extends Omit<InvoiceOptions, 'type' | 'amountPaid' | 'unitAmount' | 'quantity'> {
  /** The invoice's lines; amount_paid is their sum (plus tax) when paid, 0 when open. */
  lines: InvoiceLineOptions[];
  /** Legacy shape: the invoice's `charge` (the attempt's charge). */
  chargeId?: string;
  status?: 'paid' | 'open';
}

/**
 * An invoice event with the given lines (several lines, proration lines), in the legacy shape
 * unless `shape` says otherwise: `invoice.paid` / `invoice.payment_succeeded` for a paid
 * invoice, `invoice.payment_failed` for an open one whose attempt failed (amount_paid 0).
 */
export const invoiceEvent = (type: 'invoice.paid' | 'invoice.payment_succeeded' | 'invoice.payment_failed', o: InvoiceEventOptions) => {
  const base = invoicePaidEvent({ ...o, type: 'invoice.paid' });
  const inv = base.data.object as Record<string, unknown>;
  const first = (inv.lines as { data: Record<string, unknown>[] }).data[0]!;
  const currency = o.currency ?? 'usd';
  const lines = o.lines.map((l, i) => {
    const quantity = l.quantity ?? 1;
    const unitAmount = l.unitAmount ?? Math.round(l.amount / quantity);
    const line: Record<string, unknown> = {
      ...first, id: `${String(first.id)}_${i}`, amount: l.amount, currency, quantity, proration: l.proration ?? false,
      description: l.description ?? `${quantity} × Plan`,
    };
    if (line.price) line.price = { ...(line.price as object), unit_amount: unitAmount, currency };
    if (line.pricing) line.pricing = { ...(line.pricing as object), unit_amount_decimal: String(unitAmount) };
    return line;
  });
  const subtotal = o.lines.reduce((s, l) => s + l.amount, 0);
  const total = subtotal + (o.tax ?? 0);
  const paid = (o.status ?? (type === 'invoice.payment_failed' ? 'open' : 'paid')) === 'paid';
  Object.assign(inv, {
    lines: { ...(inv.lines as object), data: lines, total_count: lines.length },
    subtotal, total, amount_due: total, amount_paid: paid ? total : 0, amount_remaining: paid ? 0 : total,
    paid, status: paid ? 'paid' : 'open', attempt_count: 1, attempted: true,
    status_transitions: { ...(inv.status_transitions as object), paid_at: paid ? base.created : null },
    ...(o.chargeId && 'charge' in inv ? { charge: o.chargeId } : {}),
  });
  return { ...base, type };
};
