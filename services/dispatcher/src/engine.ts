import { erasureIndexOf, outcomeKey, type Conversion, type DeadLetter, type DispatchOutcome, type DispatchStatus } from '@sas/contracts';
import type { Destination, Logger } from '@sas/runtime';
import { buildRequest, classifyFor, followUpFor, inDoubtNote, partnerDedupes, planDispatch, redactRequest, refundsAfterSale, refundsSetTotal } from './core/buildRequest.js';
import { actionOf } from './core/dispatchAction.js';
import { attemptMayHaveLanded, refundRank, reversalMayHaveLanded } from './core/refundOrder.js';
import { isRetriableStatus, partnerWaitMs, type PartnerAnswer } from './core/classifyResponse.js';
import { DestinationConfigError, isSkip, isUnsendable, type PartnerRequest } from './core/partnerRequest.js';
import { decideRetry } from './core/retrySchedule.js';
import { createBatcher } from './adapters/batcher.js';
import { SendError, type Send } from './adapters/httpSender.js';
import { keyString, type Ledger, type LedgerKey, type NewJob, type Settlement } from './adapters/ledger.js';
import { Lane, type Job, type LaneDefaults } from './lane.js';

export interface OutputMessage {
  readonly topic: 'outcomes' | 'deadLetters';
  readonly key: string;
  readonly value: string;
}

export interface EngineDeps {
  readonly ledger: Ledger;
  readonly send: Send;
  readonly decode: (frame: Buffer) => Promise<Conversion>;
  readonly destinationsOf: (integrationId: string) => Promise<Destination[]>;
  /** Write outcome and dead-letter records (resolves once the broker has them). */
  readonly publish: (messages: OutputMessage[]) => Promise<void>;
  readonly retrySchedule: readonly number[];
  readonly timeoutMs: number;
  readonly leaseMs: number;
  readonly pollMs: number;
  readonly lanes: LaneDefaults;
  readonly now: () => number;
  readonly random: () => number;
  readonly log: Logger;
  /** Told of every outcome and dead letter as it is made (metrics). */
  readonly onOutcome?: (o: DispatchOutcome) => void;
  readonly onDeadLetter?: (d: DeadLetter) => void;
}

export interface Incoming {
  readonly conversion: Conversion;
  readonly frame: Buffer;
}

/**
 * The dispatcher's shell. Kafka input becomes ledger rows (one per conversion × destination
 * × action, written before the offset is committed); per-destination lanes send them; the
 * ledger schedules retries, so no partition and no other destination waits for a failing one.
 */
export const createEngine = (deps: EngineDeps) => {
  const { ledger, log } = deps;
  const lanes = new Map<string, Lane>();
  /** Rows this instance holds in memory (queued or in flight): the poller leaves them alone. */
  const active = new Set<string>();
  let stopping = false;

  const publishOne = createBatcher<OutputMessage[], void>(async (groups) => {
    await deps.publish(groups.flat());
    return groups.map(() => undefined);
  }, { maxItems: 1_000, maxConcurrent: 4 });
  const fence = createBatcher((keys: LedgerKey[]) => ledger.fence(keys, deps.leaseMs + deps.timeoutMs), { maxItems: 500, maxConcurrent: 4 });
  const settle = createBatcher((items: { key: LedgerKey; s: Settlement }[]) => ledger.settle(items), { maxItems: 500, maxConcurrent: 4 });
  // Partners that cannot dedupe (Tracknow): batches of their own that never queue behind the shared ones.
  const publishUrgent = createBatcher<OutputMessage[], void>(async (groups) => {
    await deps.publish(groups.flat());
    return groups.map(() => undefined);
  }, { maxItems: 200, maxConcurrent: 16 });
  const settleUrgent = createBatcher((items: { key: LedgerKey; s: Settlement }[]) => ledger.settle(items), { maxItems: 200, maxConcurrent: 8 });
  const storedCustomer = createBatcher((keys: { integrationId: string; customerId: string }[]) => ledger.customers(keys), { maxItems: 500, maxConcurrent: 2 });

  const outcome = (job: { readonly conversion: Conversion; readonly destination: Destination }, action: DispatchOutcome['action'], attempt: number, status: DispatchStatus,
    httpStatus: number | null, error: string | null): OutputMessage => {
    const o: DispatchOutcome = {
      conversionId: job.conversion.conversionId, integrationId: job.conversion.integrationId, destinationId: job.destination.id,
      destinationType: job.destination.type, action, orderId: job.conversion.orderId, attempt, status, httpStatus, error, at: deps.now(),
    };
    deps.onOutcome?.(o);
    return { topic: 'outcomes', key: outcomeKey(o), value: JSON.stringify(o) };
  };
  const deadLetter = (job: Job, action: DeadLetter['action'], reason: string, httpStatus: number | null, attempts: number): OutputMessage => {
    const d: DeadLetter = {
      conversionId: job.conversion.conversionId, integrationId: job.conversion.integrationId, destinationId: job.destination.id,
      action, reason, httpStatus, attempts, at: deps.now(), conversionBase64: job.frame.toString('base64'),
    };
    deps.onDeadLetter?.(d);
    return { topic: 'deadLetters', key: d.conversionId, value: JSON.stringify(d) };
  };

  /**
   * Records first, then the ledger: a crash in between repeats a record, never loses one.
   * For a partner that cannot dedupe (Tracknow) a crash before the settle means a resend that
   * may credit twice, so its writes go straight out instead of queueing behind shared batches.
   */
  const finish = async (job: Job, records: OutputMessage[], s: Settlement) => {
    if (!partnerDedupes(job.destination)) {
      if (records.length > 0) await publishUrgent.add(records);
      await settleUrgent.add({ key: job.key, s });
      return;
    }
    if (records.length > 0) await publishOne.add(records);
    await settle.add({ key: job.key, s });
  };

  const laneFor = (d: Destination): Lane => {
    let lane = lanes.get(d.id);
    if (!lane) {
      lane = new Lane(d, deps.lanes, (job, l, release) => deliver(job, l, release), deps.now);
      lanes.set(d.id, lane);
    } else {
      lane.update(d);
    }
    return lane;
  };

  const deliver = async (job: Job, lane: Lane, release: () => void): Promise<void> => {
    try {
      await attempt(job, lane, release);
    } catch (err) {
      // Infrastructure failure (PostgreSQL, Kafka): the row keeps its lease and is taken over when it runs out.
      log.error({ err, conversionId: job.conversion.conversionId, destinationId: job.destination.id }, 'delivery could not be recorded');
    } finally {
      active.delete(job.keyStr);
    }
  };

  /**
   * A request the partner queued (impact's QueuedUri): one GET of its status through the lane
   * (so the rate limit and the breaker count it), then the pure decision: sent, rejected (failed
   * with the partner's reason, dead-lettered), gave up following (the same, saying so), or look
   * again later (the row stays pending in the ledger, so a restart resumes it).
   */
  /**
   * One request to the partner; its answer (or why there was none) and the wait it asks for,
   * reported to the destination's lane (rate limit, breaker) before anything else happens.
   */
  const sendThroughLane = async (req: PartnerRequest, d: Destination, lane: Lane) => {
    let answer: PartnerAnswer | null = null;
    let failure: string | null = null;
    try {
      answer = await deps.send(req, d.id);
    } catch (err) {
      failure = err instanceof SendError ? err.message : `${(err as Error).name}: ${(err as Error).message}`;
    }
    const waitMs = answer ? partnerWaitMs(answer, deps.now()) : null;
    lane.report(answer !== null && !isRetriableStatus(answer.status), answer && (answer.status === 429 || answer.status === 503) ? waitMs : null);
    return { answer, failure, waitMs };
  };

  const followUp = async (job: Job, lane: Lane, release: () => void, uri: string): Promise<void> => {
    const d = job.destination;
    const c = job.conversion;
    const act = actionOf(c).action;
    const fenced = await ledger.fenceFollow(job.key, uri, deps.leaseMs + deps.timeoutMs);
    if (fenced === null) return; // settled meanwhile, or taken over by another instance
    const logBase = { conversionId: c.conversionId, partner: d.type, destinationId: d.id, orderId: c.orderId, attempt: fenced.attempts, check: fenced.check, queuedUri: uri };
    const dead = async (reason: string, httpStatus: number | null) => {
      log.warn({ ...logBase, status: httpStatus, error: reason }, 'queued request failed');
      await finish(job, [outcome(job, act, fenced.attempts, 'failed', httpStatus, reason), deadLetter(job, act, reason, httpStatus, fenced.attempts)],
        { kind: 'failed', partnerStatus: httpStatus, error: reason });
    };
    const f = followUpFor(d);
    let schedule: readonly number[];
    let req: PartnerRequest;
    try {
      if (!f) throw new DestinationConfigError(`destination ${d.id} (${d.type}) cannot follow the queued request ${uri}`);
      schedule = f.schedule(d);
      req = f.request(uri, d, act);
    } catch (err) {
      await dead((err as Error).message, null);
      return;
    }
    const { answer, failure, waitMs: ra } = await sendThroughLane(req, d, lane);
    release();
    const decision = f.decide({ uri, answer, failure, checksDone: fenced.check, schedule });
    const httpStatus = answer?.status ?? null;
    switch (decision.settle) {
      case 'sent':
        log.info({ ...logBase, status: httpStatus, duplicate: decision.duplicate }, 'queued request settled');
        await finish(job, [outcome(job, act, fenced.attempts, decision.duplicate ? 'duplicate' : 'sent', httpStatus, null)],
          { kind: 'sent', partnerStatus: httpStatus, partnerRef: uri });
        return;
      case 'rejected':
      case 'gaveUp':
        await dead(decision.reason, httpStatus);
        return;
      case 'check':
        log.info({ ...logBase, status: httpStatus, note: decision.note, nextCheckInMs: decision.inMs }, 'queued request not settled yet');
        await finish(job, [], { kind: 'following', uri, delayMs: Math.max(decision.inMs, ra ?? 0), partnerStatus: null });
        return;
      default: {
        const _exhaustive: never = decision;
        return _exhaustive;
      }
    }
  };

  const attempt = async (job: Job, lane: Lane, release: () => void): Promise<void> => {
    if (job.follow) return followUp(job, lane, release, job.follow.uri);
    const d = job.destination;
    let n: number | null;
    let c = job.conversion;
    /** For refunds and reversals after their sale: whether a 404 on this attempt may mean "already done". */
    let reversalDone: boolean | null = null;
    /** Said on the dead letter of a refund whose sale this ledger never saw. */
    let noSaleNote: string | null = null;
    const act = actionOf(c).action;
    if (refundsAfterSale(d) && (act === 'refund' || act === 'reverse')) {
      // After the order's sale, and (impact) in the order of refunded totals: one per-order decision under a lock.
      const r = await ledger.fenceRefund(job.key, deps.leaseMs + deps.timeoutMs, { setsTotal: refundsSetTotal(d) && refundRank(c) !== null });
      if (r.decision.go === 'wait') {
        // Handed back by fenceRefund (if still ours); the poller brings it again.
        log.info({ conversionId: c.conversionId, destinationId: d.id, orderId: c.orderId, reason: r.decision.reason }, 'refund waits');
        return;
      }
      n = r.attempt;
      if (n !== null && r.decision.go === 'skip') {
        await finish(job, [outcome(job, act, n, 'skipped', null, r.decision.reason)],
          { kind: 'failed', partnerStatus: null, error: `skipped: ${r.decision.reason}` });
        return;
      }
      if (n !== null && r.decision.go === 'dead') {
        log.warn({ conversionId: c.conversionId, destinationId: d.id, orderId: c.orderId, attempt: n, error: r.decision.reason }, 'refund dead-lettered');
        await finish(job, [outcome(job, act, n, 'failed', null, r.decision.reason), deadLetter(job, act, r.decision.reason, null, n)],
          { kind: 'failed', partnerStatus: null, error: r.decision.reason });
        return;
      }
      if (r.decision.go === 'send') {
        reversalDone = reversalMayHaveLanded(r.mayHaveLanded, r.decision.saleCredited);
        if (!r.decision.saleCredited) noSaleNote = `no sale of order ${c.orderId} was credited to this destination by the dispatcher (none in its ledger)`;
        // The partner's call sets a total: send the order's highest known refunded total.
        const total = r.decision.refundedTotalMinor;
        if (total !== null && total !== c.refundedTotalMinor) c = { ...c, refundedTotalMinor: total };
      }
    } else {
      n = await fence.add(job.key);
    }
    if (n === null) return; // settled meanwhile, or taken over by another instance
    // Read on every attempt: a retry sees what the store learnt since (e.g. a customer.created that came late).
    const stored = c.customerId && job.needsEmail ? await storedCustomer.add({ integrationId: c.integrationId, customerId: c.customerId }) : null;
    const built = buildRequest(c, d, { nowMs: deps.now(), email: stored?.email ?? null, customerKey: stored?.customerKey ?? null });
    const logBase = { conversionId: c.conversionId, partner: d.type, destinationId: d.id, orderId: c.orderId, attempt: n };
    if (isSkip(built)) {
      await finish(job, [outcome(job, 'credit', n, 'skipped', null, built.skip)], { kind: 'failed', partnerStatus: null, error: `skipped: ${built.skip}` });
      return;
    }
    if (isUnsendable(built)) {
      const action = planDispatch(c, d);
      const a = 'action' in action ? action.action : 'credit';
      const later = built.retriable ? decideRetry(deps.retrySchedule, n, deps.random(), null) : ({ giveUp: true } as const);
      if ('retryInMs' in later) {
        log.warn({ ...logBase, nextDelayMs: later.retryInMs, error: built.invalid }, 'not sendable yet');
        await finish(job, [outcome(job, a, n, 'retrying', null, built.invalid)],
          { kind: 'retry', partnerStatus: null, error: built.invalid, delayMs: later.retryInMs, mayHaveLanded: false });
        return;
      }
      log.warn({ ...logBase, error: built.invalid }, 'conversion dead-lettered');
      await finish(job, [outcome(job, a, n, 'failed', null, built.invalid), deadLetter(job, a, built.invalid, null, n)],
        { kind: 'failed', partnerStatus: null, error: built.invalid });
      return;
    }
    // A partner that queues (impact): its follow-up schedule is read before sending, so a bad setting never leaves a request unfollowed.
    const follow = followUpFor(d);
    let followSchedule: readonly number[] = [];
    if (follow) {
      try {
        followSchedule = follow.schedule(d);
      } catch (err) {
        const reason = (err as Error).message;
        log.warn({ ...logBase, error: reason }, 'conversion dead-lettered');
        await finish(job, [outcome(job, built.action, n, 'failed', null, reason), deadLetter(job, built.action, reason, null, n)],
          { kind: 'failed', partnerStatus: null, error: reason });
        return;
      }
    }
    if (d.type === 'dry_run') {
      const req = redactRequest(built);
      log.info({ ...logBase, method: req.method, url: req.url.split('?')[0], bodyBytes: req.body?.length ?? 0 }, 'dry run: would send');
      await finish(job, [outcome(job, built.action, n, 'dry_run', null, null)], { kind: 'dry_run', request: req, note: null });
      return;
    }

    const { answer, failure, waitMs: ra } = await sendThroughLane(built, d, lane);
    const cls = answer
      ? classifyFor(d.type)(answer, built, { mayHaveReached: reversalDone ?? n > 1, partnerDedupes: partnerDedupes(d) })
      : ({ ok: false, retriable: true, error: failure ?? 'no answer' } as const);
    const httpStatus = answer?.status ?? null;
    // The partner has answered: its concurrency slot is free while the outcome and the settle are written.
    release();

    if (cls.ok && cls.follow && follow) {
      // Taken, not credited: the row stays pending and is followed (followUp) until impact settles it.
      log.info({ ...logBase, status: httpStatus, queuedUri: cls.follow, firstCheckInMs: followSchedule[0] }, 'delivery queued at partner');
      await finish(job, [], { kind: 'following', uri: cls.follow, delayMs: followSchedule[0] ?? 0, partnerStatus: httpStatus });
      return;
    }
    if (cls.ok) {
      const doubt = inDoubtNote(d, c.orderId, n, built.action);
      if (doubt) log.warn({ ...logBase, status: httpStatus, error: doubt }, 'delivery attempted');
      else log.info({ ...logBase, status: httpStatus }, 'delivery attempted');
      await finish(job, [outcome(job, built.action, n, cls.duplicate ? 'duplicate' : 'sent', httpStatus, doubt)],
        { kind: 'sent', partnerStatus: httpStatus, partnerRef: cls.partnerRef });
      return;
    }
    const decision = cls.retriable ? decideRetry(deps.retrySchedule, n, deps.random(), ra) : ({ giveUp: true } as const);
    // A failed resend to a partner that cannot dedupe may still have credited: say so on the
    // outcome and the dead letter too, or requeueing that dead letter credits once more.
    const doubt = inDoubtNote(d, c.orderId, n, built.action);
    const error = [cls.error, doubt, 'giveUp' in decision ? noSaleNote : null].filter((x) => x !== null).join('; ');
    const mayHaveLanded = attemptMayHaveLanded(httpStatus);
    log.warn({ ...logBase, status: httpStatus, nextDelayMs: 'retryInMs' in decision ? decision.retryInMs : null, error }, 'delivery attempted');
    if ('retryInMs' in decision) {
      await finish(job, [outcome(job, built.action, n, 'retrying', httpStatus, error)],
        { kind: 'retry', partnerStatus: httpStatus, error, delayMs: decision.retryInMs, mayHaveLanded });
      return;
    }
    await finish(job, [outcome(job, built.action, n, 'failed', httpStatus, error), deadLetter(job, built.action, error, httpStatus, n)],
      { kind: 'failed', partnerStatus: httpStatus, error, mayHaveLanded });
  };

  const enqueue = (job: Job, lane: Lane) => {
    active.add(job.keyStr);
    lane.push(job);
  };

  /** Conversions from Kafka: ledger rows first (the offset is committed after), then the lanes. */
  const accept = async (items: readonly Incoming[]): Promise<void> => {
    const records: OutputMessage[] = [];
    const planned: { job: Job; row: NewJob; lane: Lane }[] = [];
    const reserved = new Map<string, number>();
    for (const { conversion: c, frame } of items) {
      const destinations = await deps.destinationsOf(c.integrationId);
      for (const d of destinations) {
        const plan = planDispatch(c, d);
        if ('skip' in plan) {
          records.push(outcome({ conversion: c, destination: d }, 'credit', 0, 'skipped', null, plan.skip));
          continue;
        }
        const key: LedgerKey = { integrationId: c.integrationId, destinationId: d.id, orderId: c.orderId, action: plan.actionKey };
        const lane = laneFor(d);
        const taken = reserved.get(d.id) ?? 0;
        const leased = lane.room() - taken > 0;
        if (leased) reserved.set(d.id, taken + 1);
        planned.push({
          job: { key, keyStr: keyString(key), conversion: c, frame, destination: d, needsEmail: plan.needsEmail },
          row: { ...key, conversionId: c.conversionId, destinationType: d.type, frame, leased, refundRank: refundRank(c), erasure: erasureIndexOf(c) },
          lane,
        });
      }
    }
    const inserted = await ledger.insert(planned.map((p) => p.row));
    const seen = new Set<string>();
    for (const p of planned) {
      const fresh = inserted.has(p.job.keyStr) && !seen.has(p.job.keyStr);
      seen.add(p.job.keyStr);
      if (!fresh) records.push(outcome(p.job, planDispatchAction(p.job), 0, 'duplicate', null, null));
      else if (p.row.leased) enqueue(p.job, p.lane);
    }
    if (records.length > 0) await publishOne.add(records);
  };

  const planDispatchAction = (job: Job): DispatchOutcome['action'] => {
    const p = planDispatch(job.conversion, job.destination);
    return 'action' in p ? p.action : 'credit';
  };

  /** Due retries, and rows whose holder died, for destinations that have room here. */
  const pollOnce = async (): Promise<number> => {
    const exclude = [...lanes.entries()].filter(([, l]) => l.room() <= 0 || l.isOpen()).map(([id]) => id);
    const rows = await ledger.claim({ limit: 500, perDestination: 200, exclude });
    const release: { key: LedgerKey; s: Settlement }[] = [];
    const byIntegration = new Map<string, Destination[]>();
    for (const r of rows) {
      const key: LedgerKey = { integrationId: r.integrationId, destinationId: r.destinationId, orderId: r.orderId, action: r.action };
      const keyStr = keyString(key);
      if (active.has(keyStr)) continue;
      let dests = byIntegration.get(r.integrationId);
      if (!dests) {
        dests = await deps.destinationsOf(r.integrationId);
        byIntegration.set(r.integrationId, dests);
      }
      const d = dests.find((x) => x.id === r.destinationId);
      const conversion = await deps.decode(r.frame);
      if (!d) {
        const job: Job = { key, keyStr, conversion, frame: r.frame, destination: { id: r.destinationId, integrationId: r.integrationId, type: (r.destinationType ?? 'webhook') as Destination['type'], settings: {}, credentials: {} }, needsEmail: false };
        const reason = 'destination removed or disabled';
        await finish(job, [outcome(job, 'credit', r.attempts, 'failed', null, reason), deadLetter(job, 'credit', reason, null, r.attempts)],
          { kind: 'failed', partnerStatus: null, error: reason });
        continue;
      }
      const lane = laneFor(d);
      if (lane.room() <= 0) {
        release.push({ key, s: { kind: 'release', delayMs: 0 } });
        continue;
      }
      const plan = planDispatch(conversion, d);
      enqueue({
        key, keyStr, conversion, frame: r.frame, destination: d, needsEmail: 'needsEmail' in plan && plan.needsEmail,
        ...(r.queuedUri ? { follow: { uri: r.queuedUri } } : {}),
      }, lane);
    }
    if (release.length > 0) await ledger.settle(release);
    return rows.length;
  };

  let poller: Promise<void> | null = null;
  let wakePoller: (() => void) | null = null;
  const startPolling = () => {
    poller = (async () => {
      while (!stopping) {
        let n = 0;
        try {
          n = await pollOnce();
        } catch (err) {
          log.warn({ err: (err as Error).message }, 'polling the ledger failed; retrying');
        }
        if (n >= 500 || stopping) continue;
        await new Promise<void>((r) => {
          const t = setTimeout(r, deps.pollMs);
          wakePoller = () => { clearTimeout(t); r(); };
        });
        wakePoller = null;
      }
    })();
  };

  return {
    accept,
    startPolling,
    /** Rows held in memory, per destination (for /metrics and tests). */
    stats: () => Object.fromEntries([...lanes.entries()].map(([id, l]) => [id, {
      type: l.type(), held: l.size(), inFlight: l.inFlight(), room: l.room(), open: l.isOpen(),
    }])),
    /** Stop taking work, let what is in flight finish (up to the timeout); the rest is left to the leases. */
    stop: async () => {
      stopping = true;
      wakePoller?.();
      await poller;
      const waiting = [...lanes.values()].flatMap((l) => l.drainQueue());
      if (waiting.length > 0) await ledger.settle(waiting.map((j) => ({ key: j.key, s: { kind: 'release', delayMs: 0 } as const })));
      for (const j of waiting) active.delete(j.keyStr);
      const deadline = Date.now() + deps.timeoutMs + 2_000;
      while ([...lanes.values()].some((l) => !l.idle()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      while ([publishOne, settle, publishUrgent, settleUrgent].some((b) => b.pending() > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    },
  };
};
export type Engine = ReturnType<typeof createEngine>;
