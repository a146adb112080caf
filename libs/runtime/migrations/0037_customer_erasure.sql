-- Up Migration
-- Erasure of a customer's personal data (issue 21). A row per erased subject: the Stripe
-- customer (or payment intent) id the attribution store keys it by, or the fingerprint of an
-- email (`erasureSubject` in @sas/contracts: a SHA-256 under a domain prefix, so it matches no
-- hash a partner was sent). The mapper reads it for every event: a replay or a backfill of
-- the customer's events writes no email back. It is also the erasure's own record (who, why,
-- when); rows are only ever added.
CREATE TABLE erased_customers (
  integration_id text NOT NULL,
  subject        text NOT NULL,
  source         text NOT NULL CHECK (source IN ('operator', 'stripe_customer_deleted')),
  reason         text NOT NULL CHECK (length(trim(reason)) > 0),
  actor          text NOT NULL,
  erased_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (integration_id, subject)
);

-- Stripe's customer.deleted erases the customer as an operator's erasure would (default on).
ALTER TABLE integrations ADD COLUMN erase_on_customer_deleted boolean NOT NULL DEFAULT true;

-- Down Migration
ALTER TABLE integrations DROP COLUMN erase_on_customer_deleted;
DROP TABLE erased_customers;
