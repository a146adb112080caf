-- Up Migration
-- Attribution identifiers by source (issue 15): a customer can carry an impact click, a Tracknow
-- click and an Everflow transaction id at once, and a checkout's client_reference_id is kept as
-- what it is (a click only where a destination says so). click_id keeps what rows written before
-- hold, one click of unknown source; the mapper no longer puts a new click there.
ALTER TABLE attribution_store
  ADD COLUMN impact_click_id         text,
  ADD COLUMN tracknow_click_id       text,
  ADD COLUMN everflow_transaction_id text,
  ADD COLUMN client_reference_id     text;

-- Down Migration
ALTER TABLE attribution_store
  DROP COLUMN impact_click_id,
  DROP COLUMN tracknow_click_id,
  DROP COLUMN everflow_transaction_id,
  DROP COLUMN client_reference_id;
