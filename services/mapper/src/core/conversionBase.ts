import { normalizeCurrency, type Conversion, type LineItem } from '@sas/contracts';
import type { MapContext } from './mapContext.js';

/** The typed error of the core: a payload the mapper cannot turn into a conversion (poison). */
export class MappingError extends Error {
  override readonly name = 'MappingError';
  readonly retriable = false;
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

/** Everything one conversion needs; the context fills the rest. */
export interface ConversionParts
  extends Pick<Conversion, 'conversionId' | 'kind' | 'orderId' | 'customerId' | 'subscriptionId' | 'chargeId' | 'attribution' | 'attributed' | 'currency' | 'amountMinor'> {
  readonly saleReason?: string | null;
  readonly occurredSec: number;
  readonly taxMinor?: number;
  readonly discountMinor?: number;
  readonly lineItems?: readonly LineItem[];
  readonly hold?: boolean;
  readonly refundId?: string | null;
  readonly orderAmountMinor?: number | null;
  readonly refundedTotalMinor?: number | null;
  readonly saleNetMinor?: number | null;
}

const ensureMinor = (name: string, v: number): number => {
  if (!Number.isSafeInteger(v)) throw new MappingError('CNV_ERR_AMOUNT', `${name} is not an integer amount in minor units: ${v}`);
  return v;
};

export const conversionOf = (p: ConversionParts, ctx: MapContext): Conversion => {
  let currency: string;
  try {
    currency = normalizeCurrency(p.currency);
  } catch (err) {
    throw new MappingError('CNV_ERR_CURRENCY', (err as Error).message);
  }
  return {
    conversionId: p.conversionId,
    kind: p.kind,
    saleReason: p.saleReason ?? null,
    sourceEventIds: [ctx.eventId],
    integrationId: ctx.integrationId,
    stripeAccount: ctx.stripeAccount,
    livemode: ctx.livemode,
    occurredAt: p.occurredSec * 1000,
    receivedAt: ctx.receivedAt,
    orderId: p.orderId,
    customerId: p.customerId,
    subscriptionId: p.subscriptionId,
    chargeId: p.chargeId,
    attribution: p.attribution,
    attributed: p.attributed,
    currency,
    amountMinor: ensureMinor('amount', p.amountMinor),
    taxMinor: ensureMinor('tax', p.taxMinor ?? 0),
    discountMinor: ensureMinor('discount', p.discountMinor ?? 0),
    lineItems: p.lineItems ?? [],
    notBefore: p.hold ? ctx.receivedAt + ctx.refundHoldSeconds * 1000 : ctx.receivedAt,
    refundId: p.refundId ?? null,
    orderAmountMinor: p.orderAmountMinor ?? null,
    refundedTotalMinor: p.refundedTotalMinor ?? null,
    saleNetMinor: p.saleNetMinor ?? null,
  };
};
