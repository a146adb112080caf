import type { TruthOrder } from '../simulator/truth.js';
import { reconcile, type KnownDefect, type Owed, type ReconcileResult, type TruthScope } from './reconcile.js';
import type { ReconcileTargets } from './destinations.js';

/**
 * Waits for the pipeline to drain, then reconciles. Drained: the stubs have had no request for
 * `quietMs` and the credits match Stripe (known defects aside), or, once partners have been
 * called at all, nothing has arrived for `giveUpQuietMs` (whatever is wrong then stays wrong),
 * or `timeoutMs` passed. Reconciling only once quiet means a late
 * resend (a double credit) lands before the count is taken.
 */
export const drainAndReconcile = async (p: {
  targets: Pick<ReconcileTargets, 'credited' | 'requests'> & { readonly owed?: Owed; readonly scope?: TruthScope };
  truth: readonly TruthOrder[];
  knownDefect?: KnownDefect;
  /** How often to look (a reconciliation over 100,000 customers takes a while). */
  intervalMs?: number;
  quietMs?: number;
  giveUpQuietMs?: number;
  timeoutMs?: number;
  onProgress?: (r: ReconcileResult, quietForMs: number) => void;
}): Promise<ReconcileResult & { drainedInMs: number }> => {
  const started = Date.now();
  let lastCount = -1;
  let lastChange = Date.now();
  let lastReport = 0;
  const orderIds = p.truth.map((t) => t.orderId);
  for (;;) {
    const count = p.targets.requests();
    if (count !== lastCount) {
      lastCount = count;
      lastChange = Date.now();
    }
    const quietFor = Date.now() - lastChange;
    const r = reconcile(p.truth, p.targets.credited(orderIds), p.knownDefect, p.targets.scope, p.targets.owed);
    const clean = r.mismatches === 0 && r.missing === 0 && r.double_credits === 0;
    if (p.onProgress && Date.now() - lastReport > 5_000) {
      lastReport = Date.now();
      p.onProgress(r, quietFor);
    }
    if ((clean && quietFor >= (p.quietMs ?? 2_000)) || (count > 0 && quietFor >= (p.giveUpQuietMs ?? 20_000)) || Date.now() - started > (p.timeoutMs ?? 120_000)) {
      return { ...r, drainedInMs: Date.now() - started };
    }
    await new Promise((res) => setTimeout(res, p.intervalMs ?? 250));
  }
};
