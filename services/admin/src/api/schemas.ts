import { DestinationTypes } from '@sas/contracts';
import { ChargeTrackings, SaleTriggers } from '../integrations/views.js';

/** JSON schemas of the admin API (validation, and the OpenAPI document at /openapi.json). */
export const idPattern = '^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$';
export const objectId = (description: string) => ({ type: 'string', pattern: idPattern, description } as const);

export const integrationParams = {
  type: 'object', required: ['integrationId'], properties: { integrationId: objectId('integration id') },
} as const;
export const destinationParams = {
  type: 'object', required: ['integrationId', 'destinationId'],
  properties: { integrationId: objectId('integration id'), destinationId: objectId('destination id') },
} as const;

const account = { type: 'string', pattern: '^acct_[a-zA-Z0-9]+$', description: 'a Stripe Connect account id' } as const;
const time = { type: 'string', format: 'date-time' } as const;
const nullableTime = { type: ['string', 'null'], format: 'date-time' } as const;

export const stripeKeyField = {
  type: 'string', pattern: '^(rk|sk)_(test|live)_[A-Za-z0-9]+$', description: 'the Stripe restricted (read-only) key, rk_live_...; write-only',
} as const;

export const integrationFields = {
  name: { type: 'string', minLength: 1, maxLength: 200 },
  saleTrigger: { type: 'string', enum: SaleTriggers, description: 'which invoice event counts a subscription sale' },
  refundHoldSeconds: { type: 'integer', minimum: 0, maximum: 2_678_400, description: 'how long a sale waits for a refund before it is sent' },
  chargeTracking: { type: 'string', enum: ChargeTrackings, description: "'off', 'all' (every charge is a TRANSACTION) or 'non_invoice'" },
  eraseOnCustomerDeleted: { type: 'boolean', description: "Stripe's customer.deleted erases the customer's personal data (default true; README, \"Personal data\")" },
  accounts: { type: 'array', items: account, maxItems: 1000, description: 'Connect accounts whose events this integration accepts (replaced as a whole)' },
  stripeKey: stripeKeyField,
} as const;

export const integrationSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' }, name: { type: 'string' }, status: { type: 'string', enum: ['active', 'disabled'] },
    saleTrigger: { type: 'string' }, refundHoldSeconds: { type: 'integer' }, chargeTracking: { type: 'string' }, eraseOnCustomerDeleted: { type: 'boolean' },
    accounts: { type: 'array', items: { type: 'string' } },
    hasStripeKey: { type: 'boolean', description: 'the restricted key itself is write-only' },
    activeWebhookSecrets: { type: 'integer' },
    createdAt: time, updatedAt: time,
  },
} as const;

export const credentialsInput = {
  type: 'object',
  additionalProperties: { type: 'string', minLength: 1 },
  description: 'write-only: replaced as a whole, never returned',
} as const;

export const destinationSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' }, integrationId: { type: 'string' }, type: { type: 'string', enum: DestinationTypes },
    enabled: { type: 'boolean' },
    settings: { type: 'object', additionalProperties: true },
    credentials: { type: 'array', items: { type: 'string' }, description: 'names of the credentials held; values are write-only' },
    createdAt: time, updatedAt: time,
  },
} as const;

export const webhookSecretSchema = {
  type: 'object',
  properties: { id: { type: 'string' }, createdAt: time, expiresAt: nullableTime, active: { type: 'boolean' } },
} as const;

export const auditEntrySchema = {
  type: 'object',
  properties: {
    id: { type: 'string' }, at: time, actor: { type: 'string' }, action: { type: 'string' },
    integrationId: { type: ['string', 'null'] }, target: { type: ['string', 'null'] },
    before: { type: ['object', 'null'], additionalProperties: true },
    after: { type: ['object', 'null'], additionalProperties: true },
  },
} as const;

export const errorSchema = {
  type: 'object',
  properties: { error: { type: 'string' }, message: { type: 'string' }, problems: { type: 'array', items: { type: 'string' } } },
} as const;
