/**
 * Stripe events shaped as Stripe sends them, for tests and the simulator. Builders with
 * defaults that each case overrides. Two API shapes: before 2025-03-31.basil (`invoice.subscription`,
 * `line.price`) and basil and later (`invoice.parent.subscription_details`, `line.pricing.price_details`).
 */
export type ApiShape = 'legacy' | 'basil';

export const API_VERSIONS: Record<ApiShape, string> = { legacy: '2024-06-20', basil: '2025-03-31.basil' };

let seq = 0;
const nextId = (prefix: string) => `${prefix}_${Date.now().toString(36)}${(seq++).toString(36)}${Math.random().toString(36).slice(2, 8)}`;

export interface InvoiceOptions {
  shape?: ApiShape;
  id?: string;
  eventId?: string;
  customer?: string;
  customerEmail?: string | null;
  subscription?: string;
  billingReason?: string;
  currency?: string;
  amountPaid?: number;
  tax?: number;
  quantity?: number;
  unitAmount?: number;
  description?: string;
  clickId?: string | null;
  paidAt?: number;
  account?: string;
  livemode?: boolean;
  type?: 'invoice.paid' | 'invoice.payment_succeeded';
}

export const invoicePaidEvent = (o: InvoiceOptions = {}) => {
  const shape = o.shape ?? 'legacy';
  const invoiceId = o.id ?? nextId('in');
  const customer = o.customer ?? nextId('cus');
  const subscription = o.subscription ?? nextId('sub');
  const quantity = o.quantity ?? 1;
  const unitAmount = o.unitAmount ?? 4900;
  const lineAmount = unitAmount * quantity;
  const tax = o.tax ?? 0;
  const amountPaid = o.amountPaid ?? lineAmount + tax;
  const paidAt = o.paidAt ?? Math.floor(Date.now() / 1000) - 5;
  const price = nextId('price');
  const product = nextId('prod');
  const metadata = o.clickId === null ? {} : { impact_click_id: o.clickId ?? 'IRclk_' + nextId('c') };
  const line = {
    id: nextId('il'),
    object: 'line_item',
    amount: lineAmount,
    currency: o.currency ?? 'usd',
    description: o.description ?? `${quantity} × Pro plan (at $${(unitAmount / 100).toFixed(2)} / month)`,
    metadata,
    period: { start: paidAt, end: paidAt + 30 * 86400 },
    quantity,
    ...(shape === 'legacy'
      ? { price: { id: price, object: 'price', product, unit_amount: unitAmount, currency: o.currency ?? 'usd', recurring: { interval: 'month' } }, subscription, type: 'subscription' }
      : { pricing: { type: 'price_details', price_details: { price, product }, unit_amount_decimal: String(unitAmount) },
          parent: { type: 'subscription_item_details', subscription_item_details: { subscription, subscription_item: nextId('si') } } }),
  };
  const invoice = {
    id: invoiceId,
    object: 'invoice',
    account_country: 'US',
    amount_due: amountPaid,
    amount_paid: amountPaid,
    amount_remaining: 0,
    billing_reason: o.billingReason ?? 'subscription_create',
    collection_method: 'charge_automatically',
    created: paidAt - 60,
    currency: o.currency ?? 'usd',
    customer,
    customer_email: o.customerEmail === undefined ? 'Jane.Doe@example.com' : o.customerEmail,
    lines: { object: 'list', data: [line], has_more: false, total_count: 1, url: `/v1/invoices/${invoiceId}/lines` },
    livemode: o.livemode ?? false,
    metadata: {},
    number: 'ABCD-0001',
    paid: true,
    status: 'paid',
    status_transitions: { finalized_at: paidAt - 60, paid_at: paidAt, marked_uncollectible_at: null, voided_at: null },
    subtotal: lineAmount,
    total: lineAmount + tax,
    total_discount_amounts: [],
    ...(shape === 'legacy'
      ? { subscription, charge: nextId('ch'), tax, subscription_details: { metadata } }
      : { parent: { type: 'subscription_details', quote_details: null, subscription_details: { metadata, subscription } },
          total_taxes: tax > 0 ? [{ amount: tax, tax_behavior: 'exclusive', taxability_reason: 'standard_rated' }] : [] }),
  };
  return {
    id: o.eventId ?? nextId('evt'),
    object: 'event',
    api_version: API_VERSIONS[shape],
    created: paidAt,
    data: { object: invoice },
    livemode: o.livemode ?? false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: o.type ?? 'invoice.paid',
    ...(o.account ? { account: o.account } : {}),
  };
};
