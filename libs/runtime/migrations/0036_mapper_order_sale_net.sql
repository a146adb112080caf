-- Up Migration
-- What an order's sale was credited on (issue 14): an invoice's amount_paid net of tax, a
-- Checkout session's amount_total net of amount_tax; stored when the sale's event is mapped, so
-- a refund of that order carries it (saleNetMinor) and every partner's refund is in that basis.
-- NULL: unknown (links written before this migration, charge links): the refund then stays in
-- Stripe's amounts, as before.
ALTER TABLE mapper_order_links ADD COLUMN sale_net_minor bigint;

-- Down Migration
ALTER TABLE mapper_order_links DROP COLUMN sale_net_minor;
