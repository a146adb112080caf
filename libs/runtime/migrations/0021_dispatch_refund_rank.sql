-- Up Migration
-- Partner calls that set a new order total (impact's Actions API: Amount = order amount -
-- refunded total) must never go backwards when refunds arrive out of order. Each refund row
-- records the refunded total it brings the order to (full refund: the largest value), so the
-- dispatcher can skip a refund that an already attempted later one supersedes.
ALTER TABLE dispatch_ledger ADD COLUMN refund_rank bigint;

-- Down Migration
ALTER TABLE dispatch_ledger DROP COLUMN refund_rank;
