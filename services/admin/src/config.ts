import { z } from 'zod';
import { baseEnv, port, registryEnv } from '@sas/runtime';

/** The admin API's environment (validated at start; every problem named at once). */
export const adminEnv = z.object({
  ...baseEnv,
  ...registryEnv,
  ADMIN_HOST: z.string().default('127.0.0.1'),
  ADMIN_PORT: port(3004),
  /** Bearer token every /v1 request must carry. */
  ADMIN_TOKEN: z.string().min(16, 'use at least 16 characters'),
  /** Optional read-only token (viewer role): GET requests only; every change needs ADMIN_TOKEN (operator role). */
  ADMIN_VIEWER_TOKEN: z.string().min(16, 'use at least 16 characters').optional(),
  SECRETS_KEY: z.string().min(1),
  SECRETS_KEY_PREVIOUS: z.string().optional(),
  /** Stripe API base (stripe-mock in tests). */
  STRIPE_API_BASE: z.string().url().optional(),
  /** Where Stripe reaches ingest: the webhook URL registered is `${PUBLIC_BASE_URL}/webhooks/stripe/<integration>`. */
  PUBLIC_BASE_URL: z.string().url().default('http://127.0.0.1:3000'),
});
export type AdminConfig = z.infer<typeof adminEnv>;
