import { RawEventHeaders, parseStripeEventEnvelope, type Conversion } from '@sas/contracts';
import type { IntegrationSettings } from '@sas/runtime';
import { toConversions } from './core/toConversions.js';

export type RawHeaders = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

const header = (h: RawHeaders, name: string): string | null => {
  const v = h[name];
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined ? null : one.toString();
};

export type RawEventOutcome =
  | { readonly status: 'mapped'; readonly conversions: Conversion[] }
  | { readonly status: 'skipped'; readonly reason: string };

/**
 * One record of `stripe.events.v1` → conversions. Ingest verified the body, so a record that
 * does not parse is an operator's problem, reported, never a crash loop.
 */
export const handleRawEvent = async (
  record: { value: Buffer | null; headers: RawHeaders },
  settingsOf: (integrationId: string) => Promise<IntegrationSettings | null>,
): Promise<RawEventOutcome> => {
  const integrationId = header(record.headers, RawEventHeaders.integrationId);
  if (!integrationId || !record.value) return { status: 'skipped', reason: 'record without integration id or body' };
  let json: unknown;
  try {
    json = JSON.parse(record.value.toString('utf8'));
  } catch {
    return { status: 'skipped', reason: 'body is not JSON' };
  }
  const parsed = parseStripeEventEnvelope(json);
  if (!parsed.ok) return { status: 'skipped', reason: parsed.reason };
  const settings = await settingsOf(integrationId);
  if (!settings) return { status: 'skipped', reason: `unknown integration ${integrationId}` };
  const event = parsed.event;
  const receivedAt = Number(header(record.headers, RawEventHeaders.receivedAt)) || event.created * 1000;
  return {
    status: 'mapped',
    conversions: toConversions(event, {
      integrationId,
      eventId: event.id,
      eventCreatedSec: event.created,
      stripeAccount: event.account ?? null,
      livemode: event.livemode,
      receivedAt,
      saleTrigger: settings.saleTrigger,
      refundHoldSeconds: settings.refundHoldSeconds,
    }),
  };
};
