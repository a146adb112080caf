import type { AccountProgress } from './backfillLoop.js';

/**
 * How much of an account's range is covered. Stripe lists newest first, so the run walks
 * back from `to`: covered = (to − oldest created written) / (to − from).
 */
export const coveredFraction = (p: Pick<AccountProgress, 'oldestCreated' | 'done'>, fromSec: number, toSec: number): number => {
  if (p.done) return 1;
  if (p.oldestCreated === null) return 0;
  if (toSec <= fromSec) return 0;
  return Math.min(1, Math.max(0, (toSec - p.oldestCreated) / (toSec - fromSec)));
};

/** Over all accounts of a run: each account weighs the same (they are listed one after another). */
export const runFraction = (accounts: readonly Pick<AccountProgress, 'oldestCreated' | 'done'>[], fromSec: number, toSec: number): number =>
  accounts.length === 0 ? 1 : accounts.reduce((s, a) => s + coveredFraction(a, fromSec, toSec), 0) / accounts.length;
