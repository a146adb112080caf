-- Up Migration
-- Scheduler: exactly-once release (see services/scheduler/README.md).
--
-- Every held row belongs to a namespace (the Kafka topic prefix of the deployment, '' in
-- production) and to one of 8 release lanes, chosen by a stable hash of its record key so that
-- all conversions of one key are released in order by one lane. A lane is released by one
-- scheduler instance at a time (lease + epoch below) through a Kafka transaction whose
-- transactional id is the lane's: the due records and the lane's release marker (the batch
-- sequence number, committed as a consumer-group offset) become visible together or not at all.
ALTER TABLE held_conversions
  ADD COLUMN namespace     text NOT NULL DEFAULT '',
  ADD COLUMN state         text NOT NULL DEFAULT 'held' CHECK (state IN ('held', 'releasing', 'released', 'cancelled')),
  ADD COLUMN lane          smallint,
  -- when the row may be released: notBefore, or earlier when an operator releases it now
  ADD COLUMN release_after timestamptz,
  -- the lane's batch sequence number while releasing and after
  ADD COLUMN release_seq   bigint,
  ADD COLUMN cancel_reason text;

UPDATE held_conversions
   SET state = CASE WHEN released_at IS NULL THEN 'held' ELSE 'released' END,
       lane = (hashtextextended(record_key, 0) & 7)::smallint,
       release_after = not_before;
ALTER TABLE held_conversions ALTER COLUMN lane SET NOT NULL, ALTER COLUMN release_after SET NOT NULL;

-- Replays dedupe per deployment: a conversion id is held at most once per namespace.
ALTER TABLE held_conversions DROP CONSTRAINT held_conversions_pkey;
ALTER TABLE held_conversions ADD PRIMARY KEY (namespace, conversion_id);

DROP INDEX IF EXISTS held_conversions_due;
CREATE INDEX held_conversions_due ON held_conversions (namespace, lane, release_after) WHERE state = 'held';
CREATE INDEX held_conversions_releasing ON held_conversions (namespace, lane, release_seq) WHERE state = 'releasing';
CREATE INDEX held_conversions_by_integration ON held_conversions (namespace, integration_id, not_before) WHERE state = 'held';

-- One row per (namespace, lane): who releases it (lease), with which epoch (fencing token for
-- PostgreSQL writes), and the batch sequence numbers.
CREATE TABLE scheduler_lanes (
  namespace     text NOT NULL,
  lane          smallint NOT NULL,
  owner         text,
  epoch         bigint NOT NULL DEFAULT 0,
  lease_until   timestamptz NOT NULL DEFAULT '-infinity',
  next_seq      bigint NOT NULL DEFAULT 0,   -- last batch sequence number handed out
  confirmed_seq bigint NOT NULL DEFAULT 0,   -- last batch known committed in Kafka and marked released here
  PRIMARY KEY (namespace, lane)
);

-- Live scheduler instances (heartbeat), so lanes are shared fairly among them.
CREATE TABLE scheduler_instances (
  namespace  text NOT NULL,
  id         text NOT NULL,
  seen_until timestamptz NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (namespace, id)
);

-- Every operator action, applied or refused.
CREATE TABLE scheduler_actions (
  id            bigserial PRIMARY KEY,
  namespace     text NOT NULL,
  conversion_id text NOT NULL,
  action        text NOT NULL CHECK (action IN ('release_now', 'cancel')),
  actor         text NOT NULL,
  reason        text,
  outcome       text NOT NULL,              -- 'applied' or 'refused: <state>'
  at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX scheduler_actions_by_conversion ON scheduler_actions (namespace, conversion_id, at);

-- Down Migration
DROP TABLE scheduler_actions;
DROP TABLE scheduler_instances;
DROP TABLE scheduler_lanes;
DROP INDEX held_conversions_by_integration;
DROP INDEX held_conversions_releasing;
DROP INDEX held_conversions_due;
ALTER TABLE held_conversions DROP CONSTRAINT held_conversions_pkey;
DELETE FROM held_conversions a USING held_conversions b
 WHERE a.conversion_id = b.conversion_id AND a.namespace > b.namespace;
ALTER TABLE held_conversions ADD PRIMARY KEY (conversion_id);
ALTER TABLE held_conversions
  DROP COLUMN cancel_reason, DROP COLUMN release_seq, DROP COLUMN release_after,
  DROP COLUMN lane, DROP COLUMN state, DROP COLUMN namespace;
CREATE INDEX held_conversions_due ON held_conversions (not_before) WHERE released_at IS NULL;
