import {
  emailSha256Of, erasureSubjectOfCustomer, erasureSubjectOfEmail, normaliseEmail, withoutPersonalData, type Conversion,
} from '@sas/contracts';
import type { Effect } from './effects.js';

/** Stripe events the mapper handles for erasure, outside the mapping (services/mapper/src/erasure.ts). */
export const ErasureEventTypes = ['customer.deleted'] as const;

interface Output {
  readonly conversions: readonly Conversion[];
  readonly effects: readonly { integrationId: string; effect: Effect }[];
}

/**
 * The erasure subjects a batch's output touches, per integration: the attribution-store keys
 * and emails its effects write, and its conversions' customers. Asked of `erased_customers`.
 */
export const erasureSubjectsOf = (out: Output): Map<string, string[]> => {
  const by = new Map<string, Set<string>>();
  const add = (integrationId: string, subject: string) => {
    const s = by.get(integrationId) ?? new Set<string>();
    s.add(subject);
    by.set(integrationId, s);
  };
  for (const { integrationId, effect: e } of out.effects) {
    if (e.type !== 'attribution') continue;
    add(integrationId, erasureSubjectOfCustomer(e.key));
    if (e.row.email) add(integrationId, erasureSubjectOfEmail(e.row.email));
  }
  for (const c of out.conversions) if (c.customerId) add(c.integrationId, erasureSubjectOfCustomer(c.customerId));
  return new Map([...by].map(([k, v]) => [k, [...v]]));
};

const sameEmail = (v: string | null, email: string): boolean => v !== null && normaliseEmail(v) === normaliseEmail(email);

/**
 * The mapper remembers erasures: whatever a replay, a backfill or a late event says about an
 * erased person, the attribution store gets no email (nor a customer key or client reference
 * that is the email) and the conversions carry no email hash. Ids, clicks, partner keys and
 * money are untouched, so the person's refunds still reach the partners. Pure; `erased` holds
 * the subjects found erased, per integration.
 */
export const forgetErased = <O extends Output>(out: O, erased: ReadonlyMap<string, ReadonlySet<string>>): O => {
  if (erased.size === 0) return out;
  const hashes = new Map<string, Set<string>>();
  const effects = out.effects.map((x) => {
    const subjects = erased.get(x.integrationId);
    const e = x.effect;
    if (!subjects || e.type !== 'attribution') return x;
    const email = e.row.email;
    const isErased = subjects.has(erasureSubjectOfCustomer(e.key)) || (email !== null && subjects.has(erasureSubjectOfEmail(email)));
    if (!isErased) return x;
    if (email) {
      const h = hashes.get(x.integrationId) ?? new Set<string>();
      h.add(emailSha256Of(email));
      hashes.set(x.integrationId, h);
    }
    const row = {
      ...e.row, email: null,
      ...(email && sameEmail(e.row.customerKey, email) ? { customerKey: null } : {}),
      ...(email && sameEmail(e.row.clientReferenceId, email) ? { clientReferenceId: null } : {}),
    };
    return { integrationId: x.integrationId, effect: { ...e, row } };
  });
  const conversions = out.conversions.map((c) => {
    const subjects = erased.get(c.integrationId);
    if (!subjects) return c;
    const byCustomer = c.customerId !== null && subjects.has(erasureSubjectOfCustomer(c.customerId));
    const byEmail = c.attribution.emailSha256 !== null && (hashes.get(c.integrationId)?.has(c.attribution.emailSha256) ?? false);
    return byCustomer || byEmail ? withoutPersonalData(c) : c;
  });
  return { ...out, effects, conversions };
};
