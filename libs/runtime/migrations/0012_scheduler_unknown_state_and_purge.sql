-- Up Migration
-- A batch whose release is unknown (its release marker was lost while it was `releasing`) gets a
-- state of its own, `unknown`, so no lane recovery touches it again and an operator decides
-- (released / held again), audited like the other operator actions.
ALTER TABLE held_conversions DROP CONSTRAINT held_conversions_state_check;
ALTER TABLE held_conversions ADD CONSTRAINT held_conversions_state_check
  CHECK (state IN ('held', 'releasing', 'released', 'cancelled', 'unknown'));
CREATE INDEX held_conversions_unknown ON held_conversions (namespace, lane, release_seq) WHERE state = 'unknown';

ALTER TABLE scheduler_actions DROP CONSTRAINT scheduler_actions_action_check;
ALTER TABLE scheduler_actions ADD CONSTRAINT scheduler_actions_action_check
  CHECK (action IN ('release_now', 'cancel', 'resolve_released', 'resolve_held'));

-- Released and cancelled rows are purged once no replay can bring their record back (older than
-- the topics' retention). held_at grows with insertion order, so a BRIN index finds them cheaply.
CREATE INDEX held_conversions_held_at ON held_conversions USING brin (held_at);

-- Down Migration
DROP INDEX held_conversions_held_at;
DELETE FROM scheduler_actions WHERE action IN ('resolve_released', 'resolve_held');
ALTER TABLE scheduler_actions DROP CONSTRAINT scheduler_actions_action_check;
ALTER TABLE scheduler_actions ADD CONSTRAINT scheduler_actions_action_check CHECK (action IN ('release_now', 'cancel'));
DROP INDEX held_conversions_unknown;
UPDATE held_conversions SET state = 'releasing' WHERE state = 'unknown';
ALTER TABLE held_conversions DROP CONSTRAINT held_conversions_state_check;
ALTER TABLE held_conversions ADD CONSTRAINT held_conversions_state_check
  CHECK (state IN ('held', 'releasing', 'released', 'cancelled'));
