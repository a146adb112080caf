/**
 * A raw Stripe event the mapper could not map (poison), written as JSON to `mapper.dlq.v1`,
 * keyed by the Stripe event id (or topic:partition:offset when there is none). The mapper
 * keeps going; an operator fixes the cause and replays the event from `rawBase64`.
 */
export interface MapperDeadLetter {
  /** Stable code: CNV_ERR_* from the mapping, or RAW_ERR_* for records that are not events. */
  readonly code: string;
  readonly reason: string;
  readonly integrationId: string | null;
  readonly eventId: string | null;
  readonly eventType: string | null;
  /** Where the raw record sits in `stripe.events.v1`. */
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** Epoch ms when it was dead-lettered. */
  readonly at: number;
  /** The raw record's value, base64, for a replay once the cause is fixed. */
  readonly rawBase64: string | null;
}

export const mapperDeadLetterKey = (d: Pick<MapperDeadLetter, 'eventId' | 'topic' | 'partition' | 'offset'>): string =>
  d.eventId ?? `${d.topic}:${d.partition}:${d.offset}`;
