import type pg from 'pg';
import {
  emailSha256Of, erasureSubjectOfCustomer, erasureSubjectOfEmail, isConversionOf, normaliseEmail, withoutPersonalData,
  type Conversion, type ErasedPerson,
} from '@sas/contracts';
import type { FrameRewriter } from '../frameRewriter.js';
import { scrubText } from './scrubText.js';

export type ErasureSource = 'operator' | 'stripe_customer_deleted';

export interface ErasureRequest {
  readonly integrationId: string;
  /** The Stripe customer (cus_...), or null to find the person by `email`. */
  readonly customerId: string | null;
  readonly email: string | null;
  readonly reason: string;
  readonly actor: string;
  readonly source: ErasureSource;
}

export interface ErasureResult {
  readonly integrationId: string;
  /** The attribution-store keys (customer and payment intent ids) that held the person. */
  readonly customerIds: readonly string[];
  /** True when every subject had been erased before: nothing new was recorded. */
  readonly alreadyErased: boolean;
  readonly scrubbed: { readonly attributionRows: number; readonly ledgerRows: number; readonly heldConversions: number };
}

/** A request erasure refuses, before anything is written: `field` names what is wrong. */
export class ErasureError extends Error {
  override readonly name = 'ErasureError';
  constructor(readonly code: 'unknown_customer' | 'invalid', readonly field: string, message: string) {
    super(message);
  }
}

interface StoreRow { customer_id: string; email: string | null; email_sha256: string | null }

/**
 * Erases one person of one integration, in the caller's transaction: the attribution store
 * forgets their email (and a customer key or client reference that is the email), the
 * dispatcher's ledger frames and the scheduler's held refunds lose the email hash, partner
 * answers and dry-run requests lose any copy of the email or hash, and `erased_customers`
 * remembers the subjects so the mapper writes none of it back on a replay or a backfill.
 * Money, ids, clicks and partner keys stay, so a held refund still reaches every partner.
 * Idempotent: a second call finds nothing left and reports `alreadyErased`. The ledger's rows
 * are found by index (its cost is the person's rows, not the ledger's: the mapper runs this
 * inline for customer.deleted); only rows written before migration 0038 are read by bytes.
 *
 * The tables are the mapper's, the dispatcher's and the scheduler's: this function is the one
 * interface through which anything else (the admin API, the mapper's customer.deleted) changes
 * them for an erasure.
 */
export const eraseCustomer = async (db: pg.PoolClient, frames: FrameRewriter, req: ErasureRequest): Promise<ErasureResult> => {
  const reason = req.reason.trim();
  if (!reason) throw new ErasureError('invalid', 'reason', 'reason is required: say why the customer is erased (it is kept with the erasure)');
  if (!req.customerId === !req.email) throw new ErasureError('invalid', 'customerId', 'give exactly one of customerId or email');
  if (req.customerId !== null && !req.customerId.trim()) throw new ErasureError('invalid', 'customerId', 'customerId must not be empty');
  if (req.email !== null && !/^[^@\s]+@[^@\s]+$/.test(req.email.trim())) throw new ErasureError('invalid', 'email', 'email must be an address (name@domain)');
  const id = req.integrationId;

  // 1. Who: the store's rows of the customer or email, then every row sharing one of their
  // email hashes (a checkout without a customer is kept under its payment intent).
  const givenEmail = req.email ? normaliseEmail(req.email) : null;
  const first = req.customerId
    ? await db.query<StoreRow>(`SELECT customer_id, email, email_sha256 FROM attribution_store WHERE integration_id = $1 AND customer_id = $2`, [id, req.customerId])
    : await db.query<StoreRow>(
      `SELECT customer_id, email, email_sha256 FROM attribution_store WHERE integration_id = $1 AND (email_sha256 = $2 OR lower(trim(email)) = $3)`,
      [id, emailSha256Of(givenEmail!), givenEmail]);
  const hashes = new Set<string>(givenEmail ? [emailSha256Of(givenEmail)] : []);
  for (const r of first.rows) if (r.email_sha256) hashes.add(r.email_sha256);
  const rows = hashes.size === 0 ? first.rows : [
    ...first.rows,
    ...(await db.query<StoreRow>(`SELECT customer_id, email, email_sha256 FROM attribution_store WHERE integration_id = $1 AND email_sha256 = ANY($2::text[])`,
      [id, [...hashes]])).rows,
  ];
  const keys = new Set(rows.map((r) => r.customer_id));
  if (req.customerId) keys.add(req.customerId);
  const emails = new Set<string>(givenEmail ? [givenEmail] : []);
  for (const r of rows) if (r.email) { emails.add(normaliseEmail(r.email)); hashes.add(emailSha256Of(r.email)); }
  const subjects = [...[...keys].map(erasureSubjectOfCustomer), ...[...emails].map(erasureSubjectOfEmail)];

  // An operator's request for someone the pipeline never saw changes nothing and says so.
  if (req.source === 'operator' && rows.length === 0) {
    const seen = await db.query(
      `SELECT 1 FROM erased_customers WHERE integration_id = $1 AND subject = ANY($2::text[])
       UNION ALL SELECT 1 FROM mapper_order_links WHERE integration_id = $1 AND customer_id = ANY($3::text[])
       UNION ALL SELECT 1 FROM held_conversions WHERE integration_id = $1 AND customer_id = ANY($3::text[]) LIMIT 1`,
      [id, subjects, [...keys]]);
    if (seen.rowCount === 0) {
      throw new ErasureError('unknown_customer', req.customerId ? 'customerId' : 'email',
        `integration ${id} has no customer ${req.customerId ? req.customerId : 'with that email'}: nothing was erased`);
    }
  }

  // 2. Remember the erasure (first record of each subject wins: who, why, when).
  const recorded = await db.query(
    `INSERT INTO erased_customers (integration_id, subject, source, reason, actor)
     SELECT $1, s, $3, $4, $5 FROM unnest($2::text[]) AS s ON CONFLICT DO NOTHING`,
    [id, subjects, req.source, reason, req.actor]);

  // 3. The attribution store: no email, no hash; ids, clicks and partner keys stay.
  const store = await db.query(
    `UPDATE attribution_store SET email = NULL, email_sha256 = NULL,
            customer_key = CASE WHEN lower(trim(customer_key)) = ANY($3::text[]) THEN NULL ELSE customer_key END,
            client_reference_id = CASE WHEN lower(trim(client_reference_id)) = ANY($3::text[]) THEN NULL ELSE client_reference_id END,
            updated_at = now()
      WHERE integration_id = $1 AND customer_id = ANY($2::text[])
        AND (email IS NOT NULL OR email_sha256 IS NOT NULL OR lower(trim(customer_key)) = ANY($3::text[]) OR lower(trim(client_reference_id)) = ANY($3::text[]))`,
    [id, [...keys], [...emails]]);

  // 4. Stored frames, decoded to be sure before they are rewritten.
  const person: ErasedPerson = { customerIds: keys, emailSha256s: hashes };
  const needles = [...keys, ...hashes];
  const scrubConversion = (c: Conversion): Conversion | null => {
    if (!isConversionOf(c, person)) return null;
    const scrubbed = withoutPersonalData(c);
    return JSON.stringify(scrubbed.attribution) === JSON.stringify(c.attribution) ? null : scrubbed;
  };
  // Found by their bytes (Avro keeps strings as UTF-8): `param` is the text[] of needles.
  const frameHas = (col: string, param: string) =>
    `EXISTS (SELECT 1 FROM unnest(${param}::text[]) AS n WHERE position(convert_to(n, 'UTF8') IN ${col}) > 0)`;
  // The ledger's rows of the person, by index (migration 0038: the dispatcher writes each row's
  // customer and email hashes, erasureIndexOf). Rows written before it (or by an older
  // dispatcher) have both columns NULL and are still found by a byte search of their frame,
  // partner answer and dry run, restricted to them (index dispatch_ledger_erasure_unindexed), so
  // nothing is missed and the search no longer grows with the ledger. Locked once found.
  let ledgerRows = 0;
  const ledger = await db.query<{
    destination_id: string; order_id: string; action: string; conversion_frame: Buffer | null; last_error: string | null; dry_run_request: unknown;
    email_sha256s: string[] | null;
  }>(
    `WITH found AS (
       SELECT destination_id, order_id, action FROM dispatch_ledger WHERE integration_id = $1 AND customer_id = ANY($2::text[])
       UNION
       SELECT destination_id, order_id, action FROM dispatch_ledger WHERE integration_id = $1 AND email_sha256s && $3::text[]
       UNION
       SELECT destination_id, order_id, action FROM dispatch_ledger
        WHERE integration_id = $1 AND customer_id IS NULL AND email_sha256s IS NULL
          AND ((conversion_frame IS NOT NULL AND ${frameHas('conversion_frame', '$4')})
            OR EXISTS (SELECT 1 FROM unnest($5::text[]) AS n WHERE strpos(lower(coalesce(last_error, '') || coalesce(dry_run_request::text, '')), n) > 0))
     )
     SELECT l.destination_id, l.order_id, l.action, l.conversion_frame, l.last_error, l.dry_run_request, l.email_sha256s
       FROM dispatch_ledger l JOIN found f ON l.destination_id = f.destination_id AND l.order_id = f.order_id AND l.action = f.action
      WHERE l.integration_id = $1
        FOR UPDATE OF l`,
    [id, [...keys], [...hashes], needles, [...emails, ...hashes]]);
  for (const r of ledger.rows) {
    const frame = r.conversion_frame ? await frames.rewrite(r.conversion_frame, scrubConversion) : null;
    const lastError = scrubText(r.last_error, [...emails, ...hashes]);
    const dryRun = r.dry_run_request === null ? null : scrubText(JSON.stringify(r.dry_run_request), [...emails, ...hashes]);
    // The index holds the hashes too: they go as they go from the frame (the customer id stays).
    const keptHashes = r.email_sha256s?.filter((h) => !hashes.has(h)) ?? null;
    const index = keptHashes !== null && keptHashes.length !== r.email_sha256s!.length ? keptHashes : null;
    if (!frame && lastError === null && dryRun === null && index === null) continue;
    await db.query(
      `UPDATE dispatch_ledger SET conversion_frame = coalesce($5, conversion_frame), last_error = coalesce($6, last_error),
              dry_run_request = coalesce($7::jsonb, dry_run_request), email_sha256s = coalesce($8::text[], email_sha256s)
        WHERE integration_id = $1 AND destination_id = $2 AND order_id = $3 AND action = $4`,
      [id, r.destination_id, r.order_id, r.action, frame, lastError, dryRun, index]);
    ledgerRows++;
  }
  let heldConversions = 0;
  const held = await db.query<{ namespace: string; conversion_id: string; record_value: Buffer }>(
    `SELECT namespace, conversion_id, record_value FROM held_conversions WHERE integration_id = $1 AND ${frameHas('record_value', '$2')} FOR UPDATE`, [id, needles]);
  for (const r of held.rows) {
    const frame = await frames.rewrite(r.record_value, scrubConversion);
    if (!frame) continue;
    await db.query(`UPDATE held_conversions SET record_value = $3 WHERE namespace = $1 AND conversion_id = $2`, [r.namespace, r.conversion_id, frame]);
    heldConversions++;
  }

  return {
    integrationId: id,
    customerIds: [...keys].sort(),
    alreadyErased: (recorded.rowCount ?? 0) === 0,
    scrubbed: { attributionRows: store.rowCount ?? 0, ledgerRows, heldConversions },
  };
};

/** Which of these subjects an integration has erased (the mapper asks once per batch). */
export const erasedSubjects = async (db: pg.Pool | pg.PoolClient, integrationId: string, subjects: readonly string[]): Promise<Set<string>> => {
  if (subjects.length === 0) return new Set();
  const { rows } = await db.query<{ subject: string }>(
    `SELECT subject FROM erased_customers WHERE integration_id = $1 AND subject = ANY($2::text[])`, [integrationId, [...new Set(subjects)]]);
  return new Set(rows.map((r) => r.subject));
};
