// Stripe event builders beyond invoices (checkout, charges, refunds, customers); filled by the mapper work.
export {};
