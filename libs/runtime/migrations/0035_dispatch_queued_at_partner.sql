-- Up Migration
-- A partner that processes a request later (impact.com answers QUEUED with a QueuedUri) leaves
-- the row 'pending' while the dispatcher follows that URI: queued_uri says where, follow_checks
-- how many times it has looked, queued_at since when. Kept in PostgreSQL so a restart resumes
-- the follow-up (the poller claims the row when next_attempt_at is due) instead of losing it.
-- Cleared when the row settles, so a requeued dead letter sends its request again.
ALTER TABLE dispatch_ledger
  ADD COLUMN queued_uri    text,
  ADD COLUMN queued_at     timestamptz,
  ADD COLUMN follow_checks integer NOT NULL DEFAULT 0;

-- Down Migration
ALTER TABLE dispatch_ledger DROP COLUMN queued_uri, DROP COLUMN queued_at, DROP COLUMN follow_checks;
