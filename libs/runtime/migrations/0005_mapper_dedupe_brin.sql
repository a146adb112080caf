-- Up Migration
-- Dedupe ids arrive in time order and are only ever pruned by age: a BRIN index costs almost
-- nothing per insert, where the btree cost a page write per handled event.
DROP INDEX IF EXISTS mapper_processed_events_age;
CREATE INDEX mapper_processed_events_age_brin ON mapper_processed_events USING brin (processed_at);

-- Down Migration
DROP INDEX IF EXISTS mapper_processed_events_age_brin;
CREATE INDEX mapper_processed_events_age ON mapper_processed_events (processed_at);
