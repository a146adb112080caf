/** The scheduler's error base: `retriable` says whether the same step may simply run again. */
export class SchedulerError extends Error {
  constructor(msg: string, readonly retriable: boolean, opts?: ErrorOptions) {
    super(msg, opts);
    this.name = 'SchedulerError';
  }
}

/** This instance no longer owns the lane (lease expired or taken over): stop releasing it. */
export class LaneLostError extends SchedulerError {
  constructor(readonly lane: number) {
    super(`lane ${lane} is no longer ours`, false);
    this.name = 'LaneLostError';
  }
}
