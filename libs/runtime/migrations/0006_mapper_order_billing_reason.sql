-- Up Migration
-- An invoice's billing_reason on its order link (stored when the invoice is mapped, or from the
-- API for a charge's link), so a refund of that invoice names the kind of sale it undoes: impact
-- with one tracker per sale kind must reverse a renewal on the recurring tracker. NULL: unknown
-- (links written before this migration, checkout and charge links).
ALTER TABLE mapper_order_links ADD COLUMN billing_reason text;

-- Down Migration
ALTER TABLE mapper_order_links DROP COLUMN billing_reason;
