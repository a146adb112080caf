-- Up Migration
-- Webhook endpoints sas registered in an integration's Stripe account (sas stripe connect), each
-- with the signing secret Stripe returned when it was created (only then). While a secret is
-- rolled two rows exist: the new one, and the old one with retire_at, when it is deleted from
-- Stripe (its secret in webhook_secrets expires at the same time).
CREATE TABLE stripe_webhook_endpoints (
  endpoint_id    text PRIMARY KEY,
  integration_id text NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
  url            text NOT NULL,
  enabled_events text[] NOT NULL,
  livemode       boolean NOT NULL,
  secret_id      bigint REFERENCES webhook_secrets(id) ON DELETE SET NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  retire_at      timestamptz
);
-- One current (not retiring) endpoint per integration.
CREATE UNIQUE INDEX stripe_webhook_endpoints_current ON stripe_webhook_endpoints (integration_id) WHERE retire_at IS NULL;

-- Down Migration
DROP TABLE stripe_webhook_endpoints;
