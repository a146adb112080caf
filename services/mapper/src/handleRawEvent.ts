import { RawEventHeaders, parseStripeEventEnvelope, type StripeEventEnvelope } from '@sas/contracts';

export type RawHeaders = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

const header = (h: RawHeaders, name: string): string | null => {
  const v = h[name];
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined ? null : one.toString();
};

export type ParsedRawEvent =
  | {
    readonly ok: true; readonly integrationId: string; readonly event: StripeEventEnvelope; readonly receivedAt: number;
    /** Re-produced by `sas replay events`: re-mapped (read-only) even when it was handled before. */
    readonly replay: boolean;
  }
  | { readonly ok: false; readonly code: string; readonly reason: string; readonly integrationId: string | null; readonly eventId: string | null; readonly eventType: string | null };

/**
 * One record of `stripe.events.v1` → a Stripe event with where it came from. Ingest verified
 * the body, so a record that does not parse is poison for the dead-letter topic, never a crash loop.
 */
export const parseRawEvent = (record: { value: Buffer | null; headers: RawHeaders }): ParsedRawEvent => {
  const integrationId = header(record.headers, RawEventHeaders.integrationId);
  const eventId = header(record.headers, RawEventHeaders.eventId);
  const eventType = header(record.headers, RawEventHeaders.eventType);
  const fail = (code: string, reason: string): ParsedRawEvent => ({ ok: false, code, reason, integrationId, eventId, eventType });
  if (!integrationId) return fail('RAW_ERR_NO_INTEGRATION', 'record without x-integration-id header');
  if (!record.value || record.value.length === 0) return fail('RAW_ERR_EMPTY', 'record without a body');
  let json: unknown;
  try {
    json = JSON.parse(record.value.toString('utf8'));
  } catch {
    return fail('RAW_ERR_JSON', 'body is not JSON');
  }
  const parsed = parseStripeEventEnvelope(json);
  if (!parsed.ok) return fail('RAW_ERR_ENVELOPE', parsed.reason);
  const event = parsed.event;
  const receivedAt = Number(header(record.headers, RawEventHeaders.receivedAt)) || event.created * 1000;
  return { ok: true, integrationId, event, receivedAt, replay: header(record.headers, RawEventHeaders.replay) !== null };
};
