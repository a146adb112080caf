import { describe, expect, it } from 'vitest';
import { stackEndpoints } from '@sas/testkit';
import { createPool } from './db.js';

describe('createPool', () => {
  it('survives the server ending a checked-out connection: no unhandled error, the holder sees it, the pool recovers', async () => {
    const pool = createPool(stackEndpoints().databaseUrl, 2);
    const admin = createPool(stackEndpoints().databaseUrl, 1);
    const unhandled: unknown[] = [];
    const onUncaught = (err: unknown) => unhandled.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      const client = await pool.connect();
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      // What a PostgreSQL restart does to every session, while this client is held between statements.
      await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
      await new Promise((r) => setTimeout(r, 300));
      await expect(client.query('SELECT 1')).rejects.toThrow();
      client.release(true);
      expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
      await pool.end();
      await admin.end();
    }
  });
});
