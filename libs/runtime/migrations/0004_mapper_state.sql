-- Up Migration
-- The mapper's own state: which Stripe events it has fully handled (dedupe by event id),
-- which charges it counted as transactions, which refunds it emitted, and how a payment
-- (payment intent, charge) leads to its order (invoice or checkout session).

-- Per integration: how charges count. 'off' (default): sales come from invoices and checkout;
-- 'all': every captured charge is a TRANSACTION and invoices/checkouts only feed attribution;
-- 'non_invoice': invoices are sales, and a charge is a TRANSACTION only when it pays no invoice.
ALTER TABLE integrations ADD COLUMN charge_tracking text NOT NULL DEFAULT 'off'
  CHECK (charge_tracking IN ('off', 'all', 'non_invoice'));

-- An authoritative identity write (customer.created/updated) carries the event time, so an
-- older customer.updated delivered late does not overwrite a newer one.
ALTER TABLE attribution_store ADD COLUMN identity_at bigint;

CREATE TABLE mapper_processed_events (
  integration_id text NOT NULL,
  event_id       text NOT NULL,
  processed_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (integration_id, event_id)
);
CREATE INDEX mapper_processed_events_age ON mapper_processed_events (processed_at);

CREATE TABLE mapper_charge_transactions (
  integration_id  text NOT NULL,
  charge_id       text NOT NULL,
  status          text NOT NULL CHECK (status IN ('recorded', 'failed', 'reversed')),
  conversion_id   text,
  order_id        text,
  amount_minor    bigint,
  currency        text,
  source_event_id text NOT NULL,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (integration_id, charge_id)
);

CREATE TABLE mapper_refunds (
  integration_id  text NOT NULL,
  refund_key      text NOT NULL,   -- Stripe's re_... id, or charge:cumulative when no list was available
  charge_id       text NOT NULL,
  amount_minor    bigint NOT NULL,
  conversion_id   text NOT NULL,
  source_event_id text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (integration_id, refund_key)
);
CREATE INDEX mapper_refunds_by_charge ON mapper_refunds (integration_id, charge_id);

CREATE TABLE mapper_order_links (
  integration_id  text NOT NULL,
  ref             text NOT NULL,   -- pi_..., ch_... or in_...
  order_id        text NOT NULL,
  order_kind      text NOT NULL CHECK (order_kind IN ('invoice', 'checkout', 'charge')),
  subscription_id text,
  customer_id     text,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (integration_id, ref)
);

-- Down Migration
DROP TABLE mapper_order_links;
DROP TABLE mapper_refunds;
DROP TABLE mapper_charge_transactions;
DROP TABLE mapper_processed_events;
ALTER TABLE attribution_store DROP COLUMN identity_at;
ALTER TABLE integrations DROP COLUMN charge_tracking;
