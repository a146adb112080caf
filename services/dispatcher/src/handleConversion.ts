import type { Conversion, DeadLetter, DispatchOutcome } from '@sas/contracts';
import type { Destination, Logger } from '@sas/runtime';
import { buildRequest } from './core/buildRequest.js';
import { classifyResponse, retryAfterMs } from './core/classifyResponse.js';
import { DestinationConfigError, isSkip } from './core/partnerRequest.js';
import { nextDelayMs } from './core/retrySchedule.js';
import type { Send } from './adapters/httpSender.js';
import type { Ledger } from './adapters/ledger.js';

export interface DispatchDeps {
  readonly destinationsOf: (integrationId: string) => Promise<Destination[]>;
  readonly ledger: Ledger;
  readonly send: Send;
  readonly emitOutcome: (o: DispatchOutcome) => Promise<void>;
  readonly deadLetter: (d: DeadLetter) => Promise<void>;
  readonly retrySchedule: readonly number[];
  readonly now: () => number;
  readonly random: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly log: Logger;
}

/**
 * Send one conversion to every destination of its integration, each at most once by the
 * ledger. Destinations run concurrently so one slow partner does not delay the others for
 * this conversion. (Retries that do not block the partition arrive with the dispatcher issue.)
 */
export const handleConversion = (deps: DispatchDeps) => async (c: Conversion, encoded: Buffer): Promise<void> => {
  const destinations = await deps.destinationsOf(c.integrationId);
  await Promise.all(destinations.map((d) => dispatchTo(deps, c, encoded, d)));
};

const dispatchTo = async (deps: DispatchDeps, c: Conversion, encoded: Buffer, d: Destination): Promise<void> => {
  const base = { conversionId: c.conversionId, integrationId: c.integrationId, destinationId: d.id, destinationType: d.type, orderId: c.orderId };
  let built;
  try {
    built = buildRequest(c, d);
  } catch (err) {
    if (!(err instanceof DestinationConfigError)) throw err;
    built = { skip: err.message };
  }
  if (isSkip(built)) {
    await deps.emitOutcome({ ...base, action: 'credit', attempt: 0, status: d.type === 'dry_run' ? 'dry_run' : 'skipped', httpStatus: null, error: built.skip, at: deps.now() });
    return;
  }
  const entry = { integrationId: c.integrationId, destinationId: d.id, orderId: c.orderId, action: built.action, conversionId: c.conversionId };
  const state = await deps.ledger.claim(entry);
  if (state === 'sent' || state === 'failed') {
    await deps.emitOutcome({ ...base, action: built.action, attempt: 0, status: 'duplicate', httpStatus: null, error: null, at: deps.now() });
    return;
  }
  for (let attempt = 1; ; attempt++) {
    let httpStatus: number | null = null;
    let retriable = true;
    let error: string;
    let waitHint: number | null = null;
    try {
      const res = await deps.send(built);
      httpStatus = res.status;
      const cls = classifyResponse(res.status, res.body);
      if (cls.ok) {
        await deps.ledger.settle(entry, { status: 'sent', attempts: attempt, partnerStatus: res.status, partnerRef: cls.partnerRef });
        await deps.emitOutcome({ ...base, action: built.action, attempt, status: 'sent', httpStatus, error: null, at: deps.now() });
        deps.log.info({ conversionId: c.conversionId, partner: d.type, destinationId: d.id, attempt, status: res.status }, 'delivery attempted');
        return;
      }
      retriable = cls.retriable;
      error = cls.error;
      waitHint = retryAfterMs(res.retryAfter, deps.now());
    } catch (err) {
      error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
    const delay = retriable ? nextDelayMs(deps.retrySchedule, attempt, deps.random()) : undefined;
    deps.log.warn({ conversionId: c.conversionId, partner: d.type, destinationId: d.id, attempt, status: httpStatus, nextDelayMs: delay ?? null, error }, 'delivery attempted');
    if (delay === undefined) {
      await deps.ledger.settle(entry, { status: 'failed', attempts: attempt, partnerStatus: httpStatus, partnerRef: null });
      await deps.emitOutcome({ ...base, action: built.action, attempt, status: 'failed', httpStatus, error, at: deps.now() });
      await deps.deadLetter({
        conversionId: c.conversionId, integrationId: c.integrationId, destinationId: d.id, action: built.action,
        reason: error, httpStatus, attempts: attempt, at: deps.now(), conversionBase64: encoded.toString('base64'),
      });
      return;
    }
    await deps.emitOutcome({ ...base, action: built.action, attempt, status: 'retrying', httpStatus, error, at: deps.now() });
    await deps.sleep(Math.max(delay, waitHint ?? 0));
  }
};
