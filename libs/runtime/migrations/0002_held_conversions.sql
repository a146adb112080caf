-- Up Migration
-- Conversions whose notBefore lies in the future (refund holds), kept until released.
CREATE TABLE held_conversions (
  conversion_id  text PRIMARY KEY,          -- deterministic: a replay holds nothing twice
  integration_id text NOT NULL,
  customer_id    text,
  not_before     timestamptz NOT NULL,
  record_key     text NOT NULL,
  record_value   bytea NOT NULL,            -- the Avro record as read, released unchanged
  held_at        timestamptz NOT NULL DEFAULT now(),
  released_at    timestamptz
);
CREATE INDEX held_conversions_due ON held_conversions (not_before) WHERE released_at IS NULL;

-- Down Migration
DROP TABLE held_conversions;
