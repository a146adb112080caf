-- Up Migration
-- Who a Stripe customer is to the partners, filled by the mapper from every event that carries
-- a hint and read by later events of the same customer (and by the dispatcher for the plain
-- email that PartnerStack and Everflow need; the Kafka stream carries only its hash).
CREATE TABLE attribution_store (
  integration_id  text NOT NULL,
  customer_id     text NOT NULL,
  click_id        text,
  partner_key     text,
  customer_key    text,
  product_key     text,
  promo_code      text,
  email           text,
  email_sha256    text,
  source_event_id text,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (integration_id, customer_id)
);

-- Down Migration
DROP TABLE attribution_store;
