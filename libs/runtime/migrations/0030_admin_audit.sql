-- Up Migration
-- Every change made through the admin API or the sas CLI: who, when, what, and the object
-- before and after, with secret values replaced by "(write-only)". No foreign key: the trail
-- outlives what it describes.
CREATE TABLE admin_audit (
  id             bigserial PRIMARY KEY,
  at             timestamptz NOT NULL DEFAULT now(),
  actor          text NOT NULL,
  action         text NOT NULL,
  integration_id text,
  target         text,
  before         jsonb,
  after          jsonb
);
CREATE INDEX admin_audit_by_integration ON admin_audit (integration_id, id);

-- Down Migration
DROP TABLE admin_audit;
