/**
 * What a lane does with the batches it finds half-done when it takes over (or after an error):
 * a batch is `releasing` in PostgreSQL until the lane confirms it. Whether its Kafka transaction
 * committed is told by the lane's release marker, read after this instance's transactional
 * producer fenced every earlier one (so no earlier transaction can still commit).
 */
export interface RecoveryInput {
  /** Highest batch sequence number committed in Kafka (the marker), or null when there is none. */
  readonly markerSeq: number | null;
  /** Highest batch PostgreSQL knows to be committed (confirmed). */
  readonly confirmedSeq: number;
  /** Sequence numbers of batches still `releasing`. */
  readonly pendingSeqs: readonly number[];
}

export interface RecoveryDecision {
  /** Committed in Kafka: mark released, never publish again. */
  readonly released: readonly number[];
  /** Never committed (aborted or never sent): hold again, the next batch publishes them. */
  readonly held: readonly number[];
  /**
   * The marker is older than what PostgreSQL confirmed, so it was lost (offset retention, a
   * deleted group): the outcome is unknown and the rows stay `releasing` for an operator
   * rather than risking a second release.
   */
  readonly unknown: readonly number[];
  /** The highest sequence known committed afterwards (what the marker is refreshed to). */
  readonly committedSeq: number;
}

export const decideRecovery = (i: RecoveryInput): RecoveryDecision => {
  const marker = i.markerSeq ?? 0;
  const markerLost = marker < i.confirmedSeq;
  const released: number[] = [];
  const held: number[] = [];
  const unknown: number[] = [];
  for (const seq of [...new Set(i.pendingSeqs)].sort((a, b) => a - b)) {
    if (seq <= marker || seq <= i.confirmedSeq) released.push(seq);
    else if (markerLost) unknown.push(seq);
    else held.push(seq);
  }
  return { released, held, unknown, committedSeq: Math.max(marker, i.confirmedSeq) };
};
