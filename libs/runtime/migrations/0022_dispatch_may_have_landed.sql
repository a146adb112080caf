-- Up Migration
-- An attempt of this row may have reached the partner and taken effect: it got no answer or a
-- 5xx, or it was still on the wire when its dispatcher died (the row was found 'sending' at the
-- next fence). A reversal (DELETE) answered 404 on a retry counts as "already done" only then
-- (and only once the order's sale was credited); after definite answers only, a 404 is retried.
ALTER TABLE dispatch_ledger ADD COLUMN may_have_landed boolean NOT NULL DEFAULT false;

-- Down Migration
ALTER TABLE dispatch_ledger DROP COLUMN may_have_landed;
