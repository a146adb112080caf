export interface LaneView {
  readonly lane: number;
  /** Owner whose lease has not expired, or null when the lane is free to take. */
  readonly liveOwner: string | null;
}

export interface LanePlan {
  readonly take: readonly number[];
  readonly giveUp: readonly number[];
}

/**
 * Share lanes fairly among live instances: each holds at most ceil(lanes / instances). An
 * instance over its share hands lanes back (the others then take them); one under its share
 * takes free lanes, lowest first, shifted by its rank so two instances starting together do not
 * both go for lane 0.
 */
export const planLanes = (p: { me: string; instances: readonly string[]; lanes: readonly LaneView[] }): LanePlan => {
  const live = [...new Set([...p.instances, p.me])].sort();
  const share = Math.ceil(p.lanes.length / live.length);
  const mine = p.lanes.filter((l) => l.liveOwner === p.me).map((l) => l.lane).sort((a, b) => a - b);
  if (mine.length > share) return { take: [], giveUp: mine.slice(share) };
  const rank = live.indexOf(p.me);
  const free = p.lanes.filter((l) => l.liveOwner === null).map((l) => l.lane).sort((a, b) => a - b);
  const start = Math.floor((rank * p.lanes.length) / live.length);
  const ordered = [...free.filter((l) => l >= start), ...free.filter((l) => l < start)];
  return { take: ordered.slice(0, share - mine.length), giveUp: [] };
};
