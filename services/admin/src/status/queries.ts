import type { Pool } from '@sas/runtime';

export interface DestinationLedgerRow {
  readonly destinationId: string;
  readonly type: string;
  readonly enabled: boolean;
  readonly sent: number;
  readonly dryRun: number;
  /** Given up on: the partner refused, or retries ran out (dead-lettered). */
  readonly failed: number;
  /** Not sent on purpose (nothing to tell this partner): recorded as failed with a `skipped:` note. */
  readonly skipped: number;
  /** Waiting for a first try or a retry, or being sent now. */
  readonly pending: number;
  readonly lastError: string | null;
  readonly lastErrorAt: string | null;
  readonly lastActivityAt: string | null;
}

export interface HeldRow {
  readonly held: number;
  readonly nextDueAt: string | null;
  readonly releasing: number;
  readonly unknown: number;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export const integrationExists = async (pool: Pool, integrationId: string): Promise<{ name: string; status: string } | null> => {
  const { rows } = await pool.query<{ name: string; status: string }>('SELECT name, status FROM integrations WHERE id = $1', [integrationId]);
  return rows[0] ?? null;
};

/**
 * The dispatch ledger of one integration, per destination (every destination listed, even
 * one with no rows yet), in the deployment's scope (its topic prefix).
 */
export const dispatchByDestination = async (pool: Pool, integrationId: string, scope: string): Promise<DestinationLedgerRow[]> => {
  const { rows } = await pool.query<{
    id: string; type: string; enabled: boolean; sent: string; dry_run: string; failed: string; skipped: string; pending: string;
    last_error: string | null; last_error_at: Date | null; last_activity_at: Date | null;
  }>(
    `SELECT d.id, d.type, d.enabled,
            count(*) FILTER (WHERE l.status = 'sent') AS sent,
            count(*) FILTER (WHERE l.status = 'dry_run') AS dry_run,
            count(*) FILTER (WHERE l.status = 'failed' AND COALESCE(l.last_error, '') NOT LIKE 'skipped:%') AS failed,
            count(*) FILTER (WHERE l.status = 'failed' AND l.last_error LIKE 'skipped:%') AS skipped,
            count(*) FILTER (WHERE l.status IN ('pending', 'sending')) AS pending,
            max(l.updated_at) AS last_activity_at,
            e.last_error, e.updated_at AS last_error_at
       FROM destinations d
       LEFT JOIN dispatch_ledger l ON l.integration_id = d.integration_id AND l.destination_id = d.id AND l.scope = $2
       LEFT JOIN LATERAL (
         SELECT x.last_error, x.updated_at FROM dispatch_ledger x
          WHERE x.integration_id = d.integration_id AND x.destination_id = d.id AND x.scope = $2
            AND x.last_error IS NOT NULL AND x.last_error NOT LIKE 'skipped:%' AND x.status IN ('failed', 'pending', 'sending')
          ORDER BY x.updated_at DESC LIMIT 1) e ON true
      WHERE d.integration_id = $1
      GROUP BY d.id, d.type, d.enabled, e.last_error, e.updated_at
      ORDER BY d.id`,
    [integrationId, scope],
  );
  return rows.map((r) => ({
    destinationId: r.id, type: r.type, enabled: r.enabled, sent: Number(r.sent), dryRun: Number(r.dry_run), failed: Number(r.failed),
    skipped: Number(r.skipped), pending: Number(r.pending), lastError: r.last_error, lastErrorAt: iso(r.last_error_at), lastActivityAt: iso(r.last_activity_at),
  }));
};

/** The scheduler's holds of one integration (refunds waiting for their hold to end), in the deployment's namespace. */
export const heldOf = async (pool: Pool, integrationId: string, namespace: string): Promise<HeldRow> => {
  const { rows } = await pool.query<{ held: string; next_due: Date | null; releasing: string; unknown: string }>(
    `SELECT count(*) FILTER (WHERE state = 'held') AS held,
            min(release_after) FILTER (WHERE state = 'held') AS next_due,
            count(*) FILTER (WHERE state = 'releasing') AS releasing,
            count(*) FILTER (WHERE state = 'unknown') AS unknown
       FROM held_conversions WHERE namespace = $1 AND integration_id = $2 AND state IN ('held', 'releasing', 'unknown')`,
    [namespace, integrationId],
  );
  const r = rows[0]!;
  return { held: Number(r.held), nextDueAt: iso(r.next_due), releasing: Number(r.releasing), unknown: Number(r.unknown) };
};
