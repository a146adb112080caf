/**
 * Make sure the local development integration exists, so `npm start` has a webhook URL to
 * print. Its destinations are dry runs, one per partner type (devDestinations.ts): each records
 * the request it would send, sends nothing. They pass the admin API's validation first.
 * With STRIPE_WEBHOOK_SECRET (what `stripe listen` prints) that secret is made active.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { createIntegration, createLogger, createPool, createSecretBox, loadConfig, migrate, parseKey } from '@sas/runtime';
import { localDryRunProblems, localDryRuns } from './devDestinations.js';

const env = loadConfig(z.object({
  DATABASE_URL: z.string().url(),
  SECRETS_KEY: z.string().min(1),
  DEV_INTEGRATION_ID: z.string().default('local'),
  STRIPE_WEBHOOK_SECRET: z.string().startsWith('whsec_').optional(),
}));
const log = createLogger('dev-integration', 'warn');
await migrate(env.DATABASE_URL, log);
const pool = createPool(env.DATABASE_URL, 1);
const box = createSecretBox(parseKey(env.SECRETS_KEY));
const id = env.DEV_INTEGRATION_ID;
const destinations = localDryRuns(id);
const problems = localDryRunProblems(destinations);
if (problems.length > 0) {
  console.error(`local integration ${id}: the admin API would refuse its destinations:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
const exists = (await pool.query('SELECT 1 FROM integrations WHERE id = $1', [id])).rowCount === 1;
let generated: string | null = null;
if (!exists) {
  generated = env.STRIPE_WEBHOOK_SECRET ?? `whsec_${randomBytes(24).toString('base64url')}`;
  await createIntegration(pool, box, {
    id, name: 'Local development', webhookSecrets: [generated],
    destinations: destinations.map((d) => ({ ...d, settings: { ...d.settings }, credentials: { ...d.credentials } })),
  });
} else {
  // An integration made by an earlier version: its one dry run had no target and no url (every
  // conversion was dead-lettered). It is turned off, and the per-partner dry runs are added.
  const legacy = await pool.query(`UPDATE destinations SET enabled = false, updated_at = now() WHERE id = $1 AND integration_id = $2 AND settings = '{}'::jsonb AND enabled`, [`${id}_dry_run`, id]);
  // Only on that upgrade: a destination the developer removed since is not brought back.
  for (const d of legacy.rowCount ? destinations : []) {
    await pool.query(
      `INSERT INTO destinations (id, integration_id, type, settings, credentials_ciphertext) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`,
      [d.id, id, d.type, JSON.stringify(d.settings), box.seal(JSON.stringify(d.credentials))]);
  }
}
if (exists && env.STRIPE_WEBHOOK_SECRET) {
  const { rows } = await pool.query<{ secret_ciphertext: string }>('SELECT secret_ciphertext FROM webhook_secrets WHERE integration_id = $1', [id]);
  if (!rows.some((r) => box.open(r.secret_ciphertext) === env.STRIPE_WEBHOOK_SECRET)) {
    await pool.query('INSERT INTO webhook_secrets (integration_id, secret_ciphertext) VALUES ($1, $2)', [id, box.seal(env.STRIPE_WEBHOOK_SECRET)]);
  }
}
await pool.end();
console.log(JSON.stringify({ integrationId: id, created: !exists, webhookSecret: generated && !env.STRIPE_WEBHOOK_SECRET ? generated : undefined }));
