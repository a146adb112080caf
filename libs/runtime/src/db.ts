import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { runner } from 'node-pg-migrate';
import type { Logger } from './logger.js';

export type Pool = pg.Pool;

const MIGRATION_LOCK = 7_301_913_571; // any constant shared by all services
// Found through the package, so it holds both from source and from a bundle in dist/.
const MIGRATIONS_DIR = join(dirname(createRequire(import.meta.url).resolve('@sas/runtime/package.json')), 'migrations');

export const createPool = (databaseUrl: string, max = 10): pg.Pool => {
  const pool = new pg.Pool({ connectionString: databaseUrl, max, connectionTimeoutMillis: 5_000 });
  // An idle client losing its server must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  // Nor a checked-out one: pg-pool listens for errors only while a client is idle, so a server
  // restart between two statements of a transaction emitted an unhandled 'error' and killed the
  // process (the whole-pipeline chaos test saw the scheduler exit). The holder's next query
  // fails instead, and its release(err) discards the client.
  pool.on('connect', (client) => { client.on('error', () => undefined); });
  return pool;
};

/**
 * Run `fn` in one transaction on one connection: committed when it resolves, rolled back when
 * it throws. A connection whose ROLLBACK fails is broken, so it is discarded, not pooled.
 */
export const withTransaction = async <T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch((e: Error) => { broken = e; });
    throw err;
  } finally {
    client.release(broken);
  }
};

/**
 * Apply the versioned migrations in libs/runtime/migrations. Safe to call from every service
 * at start: a blocking advisory lock makes concurrent starts apply each file once.
 */
export const migrate = async (databaseUrl: string, log: Logger): Promise<void> => {
  // node-pg-migrate's own lock fails fast when another instance migrates; we wait instead.
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const applied = await runner({
      dbClient: client,
      noLock: true,
      dir: MIGRATIONS_DIR,
      direction: 'up',
      migrationsTable: 'schema_migrations',
      count: Infinity,
      singleTransaction: true,
      // Services evolve in parallel branches; a file numbered below one already applied still runs.
      checkOrder: false,
      log: (msg: string) => log.debug({ component: 'migrations' }, msg),
    });
    if (applied.length > 0) log.info({ migrations: applied.map((m) => m.name) }, 'migrations applied');
  } finally {
    await client.end(); // ends the session, which releases the advisory lock
  }
};
