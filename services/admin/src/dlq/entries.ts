import type { DeadLetter, MapperDeadLetter, TopicId } from '@sas/contracts';

/** The two dead-letter topics: the mapper's (raw events it could not map) and the dispatcher's. */
export const DeadLetterSources = ['mapper', 'dispatcher'] as const;
export type DeadLetterSource = (typeof DeadLetterSources)[number];
export const DeadLetterStates = ['open', 'requeued', 'dropped'] as const;
export type DeadLetterState = (typeof DeadLetterStates)[number];

export const topicIdOf: Record<DeadLetterSource, TopicId> = { mapper: 'mapperDeadLetters', dispatcher: 'dispatchDeadLetters' };

/** An operator's action on a dead letter (dead_letter_actions). */
export interface DeadLetterAction {
  readonly action: 'requeued' | 'dropped';
  readonly reason: string | null;
  readonly actor: string;
  readonly at: string;
}

/** One dead letter as operators see it: where it sits, why, and what was done with it. */
export interface DeadLetterEntry {
  /** `<source>:<partition>:<offset>`: stable, and what `sas dlq inspect|requeue|drop` take. */
  readonly id: string;
  readonly source: DeadLetterSource;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** Epoch ms when it was dead-lettered. */
  readonly at: number;
  readonly integrationId: string | null;
  /** Mapper: CNV_ERR_* / RAW_ERR_*; dispatcher: the partner's HTTP status, if it answered. */
  readonly code: string | null;
  readonly reason: string;
  readonly attempts: number | null;
  readonly destinationId: string | null;
  readonly conversionId: string | null;
  readonly action: string | null;
  readonly eventId: string | null;
  readonly eventType: string | null;
  readonly state: DeadLetterState;
  readonly lastAction: DeadLetterAction | null;
}

export const entryId = (source: DeadLetterSource, partition: number, offset: string): string => `${source}:${partition}:${offset}`;

/** `dispatcher:2:17` → its parts, or null when it is not an entry id. */
export const parseEntryId = (id: string): { source: DeadLetterSource; partition: number; offset: string } | null => {
  const m = /^(mapper|dispatcher):(\d+):(\d+)$/.exec(id.trim());
  return m ? { source: m[1] as DeadLetterSource, partition: Number(m[2]), offset: m[3]! } : null;
};

/** The state is the latest action's; none is open. */
export const stateOf = (actions: readonly DeadLetterAction[]): DeadLetterState => actions.at(-1)?.action ?? 'open';

/** A dead-letter record's value (JSON) → the entry; a value that is not one of ours is still listed, with why. */
export const entryOf = (
  source: DeadLetterSource, topic: string, partition: number, offset: string, value: Buffer | null, actions: readonly DeadLetterAction[],
): DeadLetterEntry => {
  const base = {
    id: entryId(source, partition, offset), source, topic, partition, offset,
    state: stateOf(actions), lastAction: actions.at(-1) ?? null,
  };
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(value?.toString('utf8') ?? 'null') as Record<string, unknown>;
    if (!v || typeof v !== 'object') throw new Error('not an object');
  } catch {
    return { ...base, at: 0, integrationId: null, code: 'UNREADABLE', reason: 'the dead-letter record is not JSON', attempts: null,
      destinationId: null, conversionId: null, action: null, eventId: null, eventType: null };
  }
  if (source === 'mapper') {
    const d = v as unknown as MapperDeadLetter;
    return { ...base, at: d.at, integrationId: d.integrationId ?? null, code: d.code ?? null, reason: d.reason ?? '', attempts: null,
      destinationId: null, conversionId: null, action: null, eventId: d.eventId ?? null, eventType: d.eventType ?? null };
  }
  const d = v as unknown as DeadLetter;
  return { ...base, at: d.at, integrationId: d.integrationId ?? null, code: d.httpStatus == null ? null : `HTTP_${d.httpStatus}`,
    reason: d.reason ?? '', attempts: d.attempts ?? null, destinationId: d.destinationId ?? null, conversionId: d.conversionId ?? null,
    action: d.action ?? null, eventId: null, eventType: null };
};
