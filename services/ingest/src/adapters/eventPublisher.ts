/** The write of one verified event to Kafka failed or took too long: answer 503 so Stripe retries. */
export class PublishError extends Error {
  override readonly name = 'PublishError';
  readonly retriable = true;
}

export type Publish = (record: import('@sas/runtime').RawEventRecord) => Promise<void>;
