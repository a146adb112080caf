-- Up Migration
-- Erasure finds a customer's ledger rows by index (issue 21 follow-up) instead of reading every
-- frame, answer and dry run of the integration. The dispatcher writes, with each row, what
-- `erasureIndexOf` (@sas/contracts) gives for its conversion:
--   customer_id    the conversion's Stripe customer (null for a guest checkout);
--   email_sha256s  its email hashes (the attribution's, and that of a customer key or client
--                  reference that is an email); a guest's rows are found by these, as erasure
--                  by email finds the guest in the attribution store. Empty: none.
-- Rows written before this migration (or by a dispatcher older than it) have both NULL: erasure
-- still searches their bytes, and only theirs (dispatch_ledger_erasure_unindexed). Erasure
-- removes the person's hashes from email_sha256s, as it does from the frame; ids stay.
ALTER TABLE dispatch_ledger
  ADD COLUMN customer_id   text,
  ADD COLUMN email_sha256s text[];
CREATE INDEX dispatch_ledger_erasure_customer ON dispatch_ledger (integration_id, customer_id);
CREATE INDEX dispatch_ledger_erasure_email ON dispatch_ledger USING gin (email_sha256s);
CREATE INDEX dispatch_ledger_erasure_unindexed ON dispatch_ledger (integration_id) WHERE email_sha256s IS NULL;

-- Down Migration
DROP INDEX dispatch_ledger_erasure_unindexed;
DROP INDEX dispatch_ledger_erasure_email;
DROP INDEX dispatch_ledger_erasure_customer;
ALTER TABLE dispatch_ledger DROP COLUMN customer_id, DROP COLUMN email_sha256s;
