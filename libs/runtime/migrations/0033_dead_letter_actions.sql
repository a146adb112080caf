-- Up Migration
-- What operators did with dead letters (`sas dlq requeue|drop`): the audit trail, and the
-- state `sas dlq list` shows. A dead letter is the record at (topic, partition, offset) of
-- mapper.dlq.v1 or dispatch.dlq.v1 (topic names carry the deployment's prefix); its state is
-- its latest action, or open when it has none. Rows are only ever added.
CREATE TABLE dead_letter_actions (
  id          bigserial PRIMARY KEY,
  source      text NOT NULL CHECK (source IN ('mapper', 'dispatcher')),
  topic       text NOT NULL,
  partition   integer NOT NULL,
  "offset"    bigint NOT NULL,
  action      text NOT NULL CHECK (action IN ('requeued', 'dropped')),
  -- why (required for a drop), or what a requeue did
  reason      text,
  actor       text NOT NULL,
  at          timestamptz NOT NULL DEFAULT now(),
  CHECK (action <> 'dropped' OR length(trim(reason)) > 0)
);
CREATE INDEX dead_letter_actions_by_record ON dead_letter_actions (topic, partition, "offset", id);

-- Down Migration
DROP TABLE dead_letter_actions;
