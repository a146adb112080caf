-- Up Migration
-- A release lane is the partition of conversions.due.v1 the record key lands on (murmur2, as
-- the Java and KafkaJS default partitioners), computed by the scheduler when it holds the
-- conversion; so every due partition has exactly one writer, the lane's transactional producer,
-- and no two aborted transactions ever overlap in one partition. (0010 computed lanes for rows
-- held before it with a PostgreSQL hash; there were none outside development.)
COMMENT ON COLUMN held_conversions.lane IS 'partition of conversions.due.v1 the record key lands on; one release lane per partition';
COMMENT ON TABLE scheduler_lanes IS 'one release lane per partition of conversions.due.v1, per namespace (topic prefix)';

-- Down Migration
COMMENT ON COLUMN held_conversions.lane IS NULL;
COMMENT ON TABLE scheduler_lanes IS NULL;
