/**
 * The envelope of a Stripe event as ingest and the mapper read it. Objects inside stay
 * untyped JSON on purpose: their shape depends on the account's API version, and the
 * mapper reads them defensively.
 */
export interface StripeEventEnvelope {
  readonly id: string;
  readonly object: 'event';
  readonly type: string;
  readonly api_version: string | null;
  readonly created: number;
  readonly livemode: boolean;
  readonly account?: string;
  readonly data: { readonly object: Readonly<Record<string, unknown>>; readonly previous_attributes?: unknown };
}

/** Narrow parsed JSON to an event envelope, or say what is wrong with it. */
export const parseStripeEventEnvelope = (
  value: unknown,
): { ok: true; event: StripeEventEnvelope } | { ok: false; reason: string } => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'body is not a JSON object' };
  }
  const v = value as Record<string, unknown>;
  if (typeof v.id !== 'string' || !v.id.startsWith('evt_')) return { ok: false, reason: 'missing event id' };
  if (v.object !== 'event') return { ok: false, reason: 'object is not "event"' };
  if (typeof v.type !== 'string' || v.type.length === 0) return { ok: false, reason: 'missing event type' };
  if (typeof v.created !== 'number') return { ok: false, reason: 'missing created' };
  const data = v.data as Record<string, unknown> | undefined;
  if (typeof data !== 'object' || data === null || typeof data.object !== 'object' || data.object === null) {
    return { ok: false, reason: 'missing data.object' };
  }
  if (v.account !== undefined && typeof v.account !== 'string') return { ok: false, reason: 'account is not a string' };
  return {
    ok: true,
    event: {
      ...(v as unknown as StripeEventEnvelope),
      api_version: typeof v.api_version === 'string' ? v.api_version : null,
      livemode: v.livemode === true,
    },
  };
};
