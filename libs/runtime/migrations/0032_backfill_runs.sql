-- Up Migration
-- `sas backfill`: one run lists an integration's Stripe events over a time range and writes
-- them to stripe.events.v1. Each account of the run (the platform's own, '' here, and
-- Connect accounts) pages on its own, newest first; its cursor is the last event written
-- with the broker's acknowledgement, so an interrupted run resumes after it.
CREATE TABLE backfill_runs (
  id             text PRIMARY KEY,
  integration_id text NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
  range_from     timestamptz NOT NULL,
  range_to       timestamptz NOT NULL,
  only_failed    boolean NOT NULL DEFAULT false,
  status         text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'interrupted', 'failed', 'done')),
  error          text,
  started_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  CHECK (range_from <= range_to)
);
CREATE INDEX backfill_runs_by_integration ON backfill_runs (integration_id, started_at DESC);

CREATE TABLE backfill_run_accounts (
  run_id          text NOT NULL REFERENCES backfill_runs(id) ON DELETE CASCADE,
  stripe_account  text NOT NULL,           -- '' for the platform account
  cursor_event_id text,                    -- last event written (acknowledged); the next page starts after it
  oldest_created  timestamptz,             -- creation time of that event: how far back the run got
  events_read     bigint NOT NULL DEFAULT 0,
  events_written  bigint NOT NULL DEFAULT 0,
  pages           integer NOT NULL DEFAULT 0,
  done            boolean NOT NULL DEFAULT false,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, stripe_account)
);

-- Down Migration
DROP TABLE backfill_run_accounts;
DROP TABLE backfill_runs;
