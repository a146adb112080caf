import { conversionKey, erasureSubjectOfCustomer, RawEventHeaders, requiresHold, topicName, withoutPersonalData, type Conversion } from '@sas/contracts';
import { chunkTopicMessages, createDurableProducer, erasedSubjects, loadDestinations, Murmur2Partitioner, type Destination } from '@sas/runtime';
import type { Message } from 'kafkajs';
import type { Connections } from './connections.js';
import { Expectations, judgeConversion, type DestinationPlan, type Expectation } from './expectations.js';
import { readRanges, resolveRanges, type PartitionRange, type RangeSpec } from './readRange.js';

export interface ReplayRequest {
  readonly integrationId: string;
  readonly range: RangeSpec;
  readonly destinationId: string | null;
  readonly dryRun: boolean;
  readonly replayId: string;
  readonly nowMs: number;
}

export interface ConversionLine {
  readonly conversionId: string;
  readonly kind: string;
  readonly orderId: string;
  readonly partition: number;
  readonly offset: string;
  readonly resent: boolean;
  readonly skipped: string | null;
  readonly destinations: Record<string, Expectation>;
}

export interface ConversionReplayReport {
  readonly replayId: string;
  readonly groupId: string;
  readonly dryRun: boolean;
  readonly integrationId: string;
  readonly from: string;
  readonly to: string;
  readonly ranges: PartitionRange[];
  /** Records of the range (every integration's). */
  readonly read: number;
  /** Of this integration. */
  readonly matched: number;
  /** Written to `to` (in a dry run: would be). */
  readonly resent: number;
  /** Not re-sent, by why. */
  readonly skipped: Record<string, number>;
  /** Per destination: what its ledger makes of the matched conversions. */
  readonly destinations: Record<string, Record<Expectation, number>>;
  /** The first 1,000 matched conversions, one line each. */
  readonly conversions: ConversionLine[];
}

const zeroes = (): Record<Expectation, number> => Object.fromEntries(Expectations.map((e) => [e, 0])) as Record<Expectation, number>;

/** Ledger statuses of the given keys, as one lookup. */
export const ledgerStatuses = async (c: Connections, integrationId: string, keys: { destinationId: string; orderId: string; actionKey: string }[]) => {
  if (keys.length === 0) return new Map<string, string>();
  const { rows } = await c.pool.query<{ destination_id: string; order_id: string; action: string; status: string }>(
    `SELECT l.destination_id, l.order_id, l.action, l.status
       FROM dispatch_ledger l
       JOIN unnest($2::text[], $3::text[], $4::text[]) AS k(destination_id, order_id, action)
         ON l.integration_id = $1 AND l.destination_id = k.destination_id AND l.order_id = k.order_id AND l.action = k.action`,
    [integrationId, keys.map((k) => k.destinationId), keys.map((k) => k.orderId), keys.map((k) => k.actionKey)]);
  return new Map(rows.map((r) => [`${r.destination_id}\u0000${r.order_id}\u0000${r.action}`, r.status]));
};

/** The scheduler's state of held conversions (held, releasing, released, cancelled, unknown), in this deployment. */
export const holdStatesOf = async (c: Connections, conversionIds: string[]): Promise<Map<string, string>> => {
  if (conversionIds.length === 0) return new Map();
  const { rows } = await c.pool.query<{ conversion_id: string; state: string }>(
    `SELECT conversion_id, state FROM held_conversions WHERE namespace = $1 AND conversion_id = ANY($2::text[])`, [c.prefix, conversionIds]);
  return new Map(rows.map((x) => [x.conversion_id, x.state]));
};

type PlanDispatch = (typeof import('@sas/dispatcher'))['planDispatch'];

export const plansOf = (planDispatch: PlanDispatch, conversion: Conversion, destinations: readonly Destination[]): DestinationPlan[] =>
  destinations.map((d) => {
    const plan = planDispatch(conversion, d);
    return 'skip' in plan ? { destinationId: d.id, skip: plan.skip } : { destinationId: d.id, actionKey: plan.actionKey };
  });

/**
 * Re-run conversions.v1 for one integration: the range's conversion frames, unchanged, go to
 * conversions.due.v1 (the dispatcher's input that is never held again), where each
 * destination's ledger decides: what was credited is answered duplicate, what is missing is
 * sent once. A dry run reads and judges the same, and writes nothing.
 */
export const replayConversions = async (c: Connections, r: ReplayRequest): Promise<ConversionReplayReport> => {
  // Loaded here, not with the CLI: only this command needs the dispatcher's rules.
  const { planDispatch } = await import('@sas/dispatcher');
  const from = topicName('conversions', c.prefix);
  const to = topicName('conversionsDue', c.prefix);
  const destinations = await loadDestinations(c.pool, c.box, r.integrationId);
  if (r.destinationId && !destinations.some((d) => d.id === r.destinationId)) {
    throw new ReplayInputError(`integration ${r.integrationId} has no enabled destination ${r.destinationId} (it has: ${destinations.map((d) => d.id).join(', ') || 'none'})`);
  }
  const ranges = await resolveRanges(c.kafka, from, r.range);
  const groupId = `sas-replay-${r.integrationId}-${r.replayId}`;
  const report = {
    read: 0, matched: 0, resent: 0, skipped: {} as Record<string, number>,
    destinations: Object.fromEntries(destinations.filter((d) => !r.destinationId || d.id === r.destinationId).map((d) => [d.id, zeroes()])),
    conversions: [] as ConversionLine[],
  };
  const seen = new Set<string>();
  const producer = r.dryRun ? null : createDurableProducer(c.kafka, { createPartitioner: Murmur2Partitioner });
  await producer?.connect();
  try {
    await readRanges(c.kafka, groupId, ranges, async (records) => {
      report.read += records.length;
      const mine: { conversion: Conversion; frame: Buffer; partition: number; offset: string; plans: DestinationPlan[] }[] = [];
      for (const rec of records) {
        if (!rec.message.value) continue;
        const conversion = await c.codec.decode(rec.message.value);
        if (conversion.integrationId !== r.integrationId) continue;
        mine.push({ conversion, frame: rec.message.value, partition: rec.partition, offset: rec.message.offset, plans: plansOf(planDispatch, conversion, destinations) });
      }
      const statuses = await ledgerStatuses(c, r.integrationId, mine.flatMap((m) =>
        m.plans.flatMap((p) => ('actionKey' in p ? [{ destinationId: p.destinationId, orderId: m.conversion.orderId, actionKey: p.actionKey }] : []))));
      const holdStates = await holdStatesOf(c, mine.filter((m) => requiresHold(m.conversion)).map((m) => m.conversion.conversionId));
      // A conversion written before its customer was erased goes out again without the email hash (README, "Personal data").
      const erased = await erasedSubjects(c.pool, r.integrationId, mine.flatMap((m) => (m.conversion.customerId ? [erasureSubjectOfCustomer(m.conversion.customerId)] : [])));
      const out: Message[] = [];
      for (const m of mine) {
        report.matched++;
        // The range can hold one conversion twice (a mapper re-emit, a replayed event): it is sent once.
        if (seen.has(m.conversion.conversionId)) {
          report.skipped['repeat of a conversion earlier in the range'] = (report.skipped['repeat of a conversion earlier in the range'] ?? 0) + 1;
          continue;
        }
        seen.add(m.conversion.conversionId);
        const v = judgeConversion(m.conversion, m.plans, (d, o, a) => statuses.get(`${d}\u0000${o}\u0000${a}`), {
          nowMs: r.nowMs, onlyDestination: r.destinationId, holdState: holdStates.get(m.conversion.conversionId) ?? null,
        });
        for (const [d, e] of Object.entries(v.destinations)) report.destinations[d]![e]++;
        if (v.resend) {
          report.resent++;
          const k = m.conversion;
          const isErased = k.customerId !== null && erased.has(erasureSubjectOfCustomer(k.customerId));
          const frame = isErased ? (await c.frames.rewrite(m.frame, (x) => (x.attribution.emailSha256 === null ? null : withoutPersonalData(x)))) ?? m.frame : m.frame;
          out.push({
            key: conversionKey({ account: k.stripeAccount, customerId: k.customerId, subscriptionId: k.subscriptionId, orderId: k.orderId }),
            value: frame, headers: { [RawEventHeaders.replay]: r.replayId },
          });
        } else {
          const why = v.skipped!.startsWith('on hold until') ? 'on hold (the scheduler releases it)' : v.skipped!;
          report.skipped[why] = (report.skipped[why] ?? 0) + 1;
        }
        if (report.conversions.length < 1_000) {
          report.conversions.push({ conversionId: m.conversion.conversionId, kind: m.conversion.kind, orderId: m.conversion.orderId,
            partition: m.partition, offset: m.offset, resent: v.resend, skipped: v.skipped, destinations: v.destinations });
        }
      }
      if (producer && out.length > 0) {
        for (const chunk of chunkTopicMessages([{ topic: to, messages: out }], 512 * 1024)) await producer.sendBatch({ topicMessages: chunk, acks: -1 });
      }
    });
  } finally {
    await producer?.disconnect();
  }
  return { replayId: r.replayId, groupId, dryRun: r.dryRun, integrationId: r.integrationId, from, to, ranges, ...report };
};

/** A replay asked for something that does not exist (exit code 2). */
export class ReplayInputError extends Error {
  override readonly name = 'ReplayInputError';
}
