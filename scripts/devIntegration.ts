/**
 * Make sure the local development integration exists, so `npm start` has a webhook URL to
 * print. Its destination is a dry run: it records what would be sent, sends nothing.
 * With STRIPE_WEBHOOK_SECRET (what `stripe listen` prints) that secret is made active.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { createIntegration, createLogger, createPool, createSecretBox, loadConfig, migrate, parseKey } from '@sas/runtime';

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
const exists = (await pool.query('SELECT 1 FROM integrations WHERE id = $1', [id])).rowCount === 1;
let generated: string | null = null;
if (!exists) {
  generated = env.STRIPE_WEBHOOK_SECRET ?? `whsec_${randomBytes(24).toString('base64url')}`;
  await createIntegration(pool, box, {
    id, name: 'Local development', webhookSecrets: [generated],
    destinations: [{ id: `${id}_dry_run`, type: 'dry_run', settings: {}, credentials: {} }],
  });
} else if (env.STRIPE_WEBHOOK_SECRET) {
  const { rows } = await pool.query<{ secret_ciphertext: string }>('SELECT secret_ciphertext FROM webhook_secrets WHERE integration_id = $1', [id]);
  if (!rows.some((r) => box.open(r.secret_ciphertext) === env.STRIPE_WEBHOOK_SECRET)) {
    await pool.query('INSERT INTO webhook_secrets (integration_id, secret_ciphertext) VALUES ($1, $2)', [id, box.seal(env.STRIPE_WEBHOOK_SECRET)]);
  }
}
await pool.end();
console.log(JSON.stringify({ integrationId: id, created: !exists, webhookSecret: generated && !env.STRIPE_WEBHOOK_SECRET ? generated : undefined }));
