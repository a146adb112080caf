/**
 * Avro schema of `Conversion`, registered under the topic-name strategy subjects
 * (`<topic>-value`) with BACKWARD compatibility: add fields only with defaults, add enum
 * symbols only at the end.
 */
export const CONVERSION_SCHEMA_NAMESPACE = 'io.stripeaffiliates.conversions.v1';

const nullableString = (name: string, doc?: string) => ({
  name,
  type: ['null', 'string'],
  default: null,
  ...(doc ? { doc } : {}),
});

export const conversionAvroSchema = {
  type: 'record',
  name: 'Conversion',
  namespace: CONVERSION_SCHEMA_NAMESPACE,
  doc: 'A partner-agnostic affiliate conversion derived from Stripe events.',
  fields: [
    { name: 'conversionId', type: 'string' },
    {
      name: 'kind',
      type: {
        type: 'enum',
        name: 'ConversionKind',
        symbols: [
          'SALE_FIRST', 'SALE_RECURRING', 'SALE_OTHER', 'SALE_ONE_TIME', 'TRANSACTION',
          'REFUND_FULL', 'REFUND_PARTIAL', 'REVERSAL', 'CUSTOMER_IDENTITY',
        ],
      },
    },
    nullableString('saleReason', 'Stripe billing_reason of the invoice'),
    { name: 'sourceEventIds', type: { type: 'array', items: 'string' } },
    { name: 'integrationId', type: 'string' },
    nullableString('stripeAccount'),
    { name: 'livemode', type: 'boolean' },
    { name: 'occurredAt', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'receivedAt', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'orderId', type: 'string' },
    nullableString('customerId'),
    nullableString('subscriptionId'),
    nullableString('chargeId'),
    {
      name: 'attribution',
      type: {
        type: 'record',
        name: 'Attribution',
        fields: [
          nullableString('clickId', 'deprecated: one click of unknown source on records written before the by-source fields; on newer records the first metadata click, never client_reference_id'),
          nullableString('partnerKey'),
          nullableString('customerKey'),
          nullableString('promoCode'),
          nullableString('emailSha256'),
          nullableString('productKey'),
          // Added with defaults (BACKWARD): a record written before reads them as null, and its
          // clickId keeps its old meaning (one click of unknown source).
          nullableString('impactClickId', 'impact.com click id from metadata (impact_click_id, irclickid)'),
          nullableString('tracknowClickId', 'Tracknow click_id from metadata (tn_click_id, click_id)'),
          nullableString('everflowTransactionId', 'Everflow transaction id from metadata (ef_transaction_id)'),
          nullableString('clientReferenceId', 'Checkout Session client_reference_id as sent; a click only where the destination says so'),
        ],
      },
    },
    { name: 'attributed', type: 'boolean' },
    { name: 'currency', type: 'string', doc: 'ISO 4217, upper case' },
    { name: 'amountMinor', type: 'long', doc: 'integer, minor units of currency' },
    { name: 'taxMinor', type: 'long', default: 0 },
    { name: 'discountMinor', type: 'long', default: 0 },
    {
      name: 'lineItems',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'LineItem',
          fields: [
            { name: 'sku', type: 'string' },
            nullableString('description'),
            nullableString('productId'),
            nullableString('priceId'),
            { name: 'quantity', type: 'int' },
            { name: 'unitAmountMinor', type: 'long' },
            { name: 'amountMinor', type: 'long' },
          ],
        },
      },
    },
    { name: 'notBefore', type: { type: 'long', logicalType: 'timestamp-millis' } },
    nullableString('refundId', 'Stripe refund id for refunds'),
    { name: 'orderAmountMinor', type: ['null', 'long'], default: null, doc: 'original order amount, for refunds and reversals' },
    { name: 'refundedTotalMinor', type: ['null', 'long'], default: null, doc: 'cumulative refunded on the order, this refund included' },
    // Added with a default (BACKWARD): a record written before reads null, "basis unknown".
    { name: 'saleNetMinor', type: ['null', 'long'], default: null, doc: 'refunds: what the refunded sale was credited on (paid net of tax; a charge-tracked sale: the charge amount); null when unknown' },
  ],
} as const;

/** Subject under Confluent's TopicNameStrategy. */
export const valueSubject = (topic: string): string => `${topic}-value`;
