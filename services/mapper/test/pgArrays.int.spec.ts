import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, type Pool } from '@sas/runtime';
import { stackEndpoints } from '@sas/testkit';
import { bigintArray, textArray } from '../src/adapters/pgArrays.js';

/** The literals PostgreSQL reads back exactly as the values they were built from. */
describe('PostgreSQL array literals', () => {
  let pool: Pool;
  beforeAll(() => { pool = createPool(stackEndpoints().databaseUrl); });
  afterAll(async () => { await pool.end(); });

  it.each([
    [[]],
    [['evt_1', 'cus_2']],
    [[null, 'NULL', '', ' ', 'a,b', '{x}', 'say "hi"', 'back\\slash', '\\"', 'é ü ✓ 日本', "it's", 'two\nlines']],
  ])('text[] %j', async (xs) => {
    const { rows } = await pool.query<{ v: (string | null)[] }>('SELECT $1::text[] AS v', [textArray(xs)]);
    expect(rows[0]!.v).toEqual(xs);
  });

  it('bigint[] with nulls, negatives and the largest safe integer', async () => {
    const xs = [0, -1, null, 4_900, Number.MAX_SAFE_INTEGER];
    const { rows } = await pool.query<{ v: (string | null)[] }>('SELECT $1::bigint[] AS v', [bigintArray(xs)]);
    expect(rows[0]!.v.map((x) => (x === null ? null : Number(x)))).toEqual(xs);
  });

  it('refuses a fractional amount instead of sending it', () => {
    expect(() => bigintArray([1.5])).toThrow(TypeError);
  });
});
