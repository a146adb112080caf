-- Up Migration
-- The ledger row is also the delivery job: it is written (with the conversion's Avro frame)
-- before the Kafka offset is committed, then sent by a per-destination lane; retries are
-- scheduled in next_attempt_at instead of blocking a partition. A lease (owner + expiry)
-- lets several instances share the work; a crashed instance's rows are taken over once its
-- lease runs out and are sent again with the same partner-side key.
ALTER TABLE dispatch_ledger DROP CONSTRAINT dispatch_ledger_status_check;
ALTER TABLE dispatch_ledger ADD CONSTRAINT dispatch_ledger_status_check
  CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'dry_run'));
ALTER TABLE dispatch_ledger
  -- the deployment (KAFKA_TOPIC_PREFIX) whose dispatchers work this row
  ADD COLUMN scope            text NOT NULL DEFAULT '',
  ADD COLUMN destination_type text,
  -- the conversion's Avro record (Confluent frame), for retries and the dead-letter topic
  ADD COLUMN conversion_frame bytea,
  -- NULL: never picked up by the poller (rows written before this migration)
  ADD COLUMN next_attempt_at  timestamptz,
  ADD COLUMN lease_owner      text,
  ADD COLUMN lease_until      timestamptz,
  ADD COLUMN last_error       text,
  -- dry-run destinations: what would have been sent (credentials redacted)
  ADD COLUMN dry_run_request  jsonb,
  ADD COLUMN created_at       timestamptz NOT NULL DEFAULT now();
CREATE INDEX dispatch_ledger_due ON dispatch_ledger (scope, next_attempt_at)
  WHERE status IN ('pending', 'sending') AND next_attempt_at IS NOT NULL;

-- Down Migration
DROP INDEX dispatch_ledger_due;
UPDATE dispatch_ledger SET status = 'failed' WHERE status IN ('pending', 'dry_run');
ALTER TABLE dispatch_ledger
  DROP COLUMN scope, DROP COLUMN destination_type, DROP COLUMN conversion_frame, DROP COLUMN next_attempt_at,
  DROP COLUMN lease_owner, DROP COLUMN lease_until, DROP COLUMN last_error, DROP COLUMN dry_run_request,
  DROP COLUMN created_at;
ALTER TABLE dispatch_ledger DROP CONSTRAINT dispatch_ledger_status_check;
ALTER TABLE dispatch_ledger ADD CONSTRAINT dispatch_ledger_status_check CHECK (status IN ('sending', 'sent', 'failed'));
