import { hash } from 'node:crypto';
import type { Conversion } from './conversion.js';

/**
 * Erasure of a customer's personal data (issue 21): the subjects an erasure is remembered by,
 * and what an erased customer's conversion keeps. Shared by the admin API (operator erasure),
 * the mapper (Stripe's customer.deleted, and forgetting on replay) and the stores they scrub.
 */

/** How an email is compared everywhere: trimmed and lower-cased (as `emailSha256`). */
export const normaliseEmail = (email: string): string => email.trim().toLowerCase();

/** The SHA-256 partners are sent (`Attribution.emailSha256`). */
export const emailSha256Of = (email: string): string => hash('sha256', normaliseEmail(email), 'hex');

/**
 * An erased customer is remembered by its attribution-store key (Stripe customer or payment
 * intent id) and by a fingerprint of each email it had: a SHA-256 under a domain prefix, so the
 * table of erasures holds neither the email nor the hash a partner was sent.
 */
export const erasureSubjectOfCustomer = (customerId: string): string => `customer:${customerId}`;
export const erasureSubjectOfEmail = (email: string): string =>
  `email:${hash('sha256', `sas-erasure\u0000${normaliseEmail(email)}`, 'hex')}`;

/** What identifies an erased person inside a conversion: their customer ids and email hashes. */
export interface ErasedPerson {
  readonly customerIds: ReadonlySet<string>;
  readonly emailSha256s: ReadonlySet<string>;
}

/** Whether the conversion is about the erased person (by customer id or email hash). */
export const isConversionOf = (c: Pick<Conversion, 'customerId' | 'attribution'>, p: ErasedPerson): boolean =>
  (c.customerId !== null && p.customerIds.has(c.customerId)) ||
  (c.attribution.emailSha256 !== null && p.emailSha256s.has(c.attribution.emailSha256));

/** A merchant id (customer key, client reference) that is an email address. */
const looksLikeEmail = (v: string | null | undefined): v is string => typeof v === 'string' && v.includes('@');

/** What a stored conversion is looked up by when its person is erased (`erasureIndexOf`). */
export interface ErasureIndex {
  readonly customerId: string | null;
  /** Distinct email hashes: `emailSha256`, and the hash of a customer key or client reference that is an email. */
  readonly emailSha256s: readonly string[];
}

/**
 * The identifiers under which a store indexes a conversion so that an erasure finds it without
 * reading every row (the dispatcher's ledger, migration 0038): the Stripe customer, and every
 * email hash the conversion or a request built from it can carry. A guest checkout has no
 * customer and its attribution-store key (the payment intent) is not on the conversion: it is
 * found by its email hash, as erasure by email finds it in the store. A customer key or client
 * reference that is an email (some merchants key partners by email) may reach a partner request
 * and its answer, so its hash is indexed too.
 */
export const erasureIndexOf = (c: Pick<Conversion, 'customerId' | 'attribution'>): ErasureIndex => {
  const a = c.attribution;
  const hashes = new Set<string>(a.emailSha256 !== null ? [a.emailSha256] : []);
  for (const v of [a.customerKey, a.clientReferenceId]) if (looksLikeEmail(v)) hashes.add(emailSha256Of(v));
  return { customerId: c.customerId, emailSha256s: [...hashes] };
};

/**
 * The conversion without the person's email hash. Money, ids, clicks and partner keys stay: a
 * refund must still reach every partner that holds the sale, and the ledger's "never credit
 * twice" is keyed by order and action, not by who paid. A customer key or client reference
 * that is the email itself (some merchants key PartnerStack customers by email) goes too.
 */
export const withoutPersonalData = <C extends Pick<Conversion, 'attribution'>>(c: C): C => {
  const a = c.attribution;
  const hashOf = a.emailSha256;
  const isEmail = (v: string | null | undefined): boolean =>
    looksLikeEmail(v) && (hashOf === null || emailSha256Of(v) === hashOf);
  return {
    ...c,
    attribution: {
      ...a,
      emailSha256: null,
      ...(isEmail(a.customerKey) ? { customerKey: null } : {}),
      ...(isEmail(a.clientReferenceId) ? { clientReferenceId: null } : {}),
    },
  };
};
