import type { DestinationType, DispatchAction } from './destinations.js';

/** One dispatch attempt's result, written as JSON to `dispatch.outcomes.v1`. */
export const DispatchStatuses = ['sent', 'duplicate', 'retrying', 'failed', 'skipped', 'dry_run'] as const;
export type DispatchStatus = (typeof DispatchStatuses)[number];

export interface DispatchOutcome {
  readonly conversionId: string;
  readonly integrationId: string;
  readonly destinationId: string;
  readonly destinationType: DestinationType;
  readonly action: DispatchAction;
  readonly orderId: string;
  readonly attempt: number;
  readonly status: DispatchStatus;
  readonly httpStatus: number | null;
  readonly error: string | null;
  /** Epoch ms of the outcome. */
  readonly at: number;
}

/** A conversion a destination would not take, written as JSON to `dispatch.dlq.v1`. */
export interface DeadLetter {
  readonly conversionId: string;
  readonly integrationId: string;
  readonly destinationId: string;
  readonly action: DispatchAction;
  readonly reason: string;
  readonly httpStatus: number | null;
  readonly attempts: number;
  readonly at: number;
  /** The conversion's Avro record, base64 of the Confluent-framed bytes. */
  readonly conversionBase64: string;
}

export const outcomeKey = (o: Pick<DispatchOutcome, 'integrationId' | 'destinationId' | 'orderId'>): string =>
  `${o.integrationId}:${o.destinationId}:${o.orderId}`;
