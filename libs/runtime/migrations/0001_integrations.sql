-- Up Migration
CREATE TABLE integrations (
  id                     text PRIMARY KEY,
  name                   text NOT NULL,
  status                 text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  -- which invoice event counts a subscription sale, so one invoice is never counted from both
  sale_trigger           text NOT NULL DEFAULT 'invoice.paid'
                         CHECK (sale_trigger IN ('invoice.paid', 'invoice.payment_succeeded')),
  refund_hold_seconds    integer NOT NULL DEFAULT 3600 CHECK (refund_hold_seconds >= 0),
  -- Stripe restricted (read-only) key, encrypted with SECRETS_KEY
  stripe_key_ciphertext  text,
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now()
);

-- Stripe Connect: accounts whose events this integration accepts (besides the platform's own).
CREATE TABLE integration_accounts (
  integration_id text NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
  stripe_account text NOT NULL,
  PRIMARY KEY (integration_id, stripe_account)
);

-- Several secrets may be active at once while a merchant rolls its signing secret.
CREATE TABLE webhook_secrets (
  id                bigserial PRIMARY KEY,
  integration_id    text NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
  secret_ciphertext text NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  expires_at        timestamptz
);
CREATE INDEX webhook_secrets_by_integration ON webhook_secrets (integration_id);

CREATE TABLE destinations (
  id                     text PRIMARY KEY,
  integration_id         text NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
  type                   text NOT NULL CHECK (type IN ('impact', 'partnerstack', 'everflow', 'tracknow', 'webhook', 'dry_run')),
  enabled                boolean NOT NULL DEFAULT true,
  -- non-secret settings (campaign id, event type ids, base URL, ...)
  settings               jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- secret settings (tokens, keys), a JSON object encrypted with SECRETS_KEY
  credentials_ciphertext text,
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX destinations_by_integration ON destinations (integration_id);

-- The dispatcher credits each (integration, destination, order, action) at most once.
CREATE TABLE dispatch_ledger (
  integration_id  text NOT NULL,
  destination_id  text NOT NULL,
  order_id        text NOT NULL,
  action          text NOT NULL,
  conversion_id   text NOT NULL,
  status          text NOT NULL CHECK (status IN ('sending', 'sent', 'failed')),
  attempts        integer NOT NULL DEFAULT 0,
  partner_status  integer,
  partner_ref     text,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (integration_id, destination_id, order_id, action)
);

-- Down Migration
DROP TABLE dispatch_ledger;
DROP TABLE destinations;
DROP TABLE webhook_secrets;
DROP TABLE integration_accounts;
DROP TABLE integrations;
