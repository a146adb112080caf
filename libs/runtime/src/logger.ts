import pino, { type Logger } from 'pino';

/** Paths never written to a log, wherever they appear. */
export const REDACT_PATHS = [
  'secret', '*.secret', 'secrets', '*.secrets', 'password', '*.password', 'token', '*.token',
  'authToken', '*.authToken', 'apiKey', '*.apiKey', 'credentials', '*.credentials',
  'signature', '*.signature', 'body', '*.body', 'payload', '*.payload',
  'req.headers.authorization', 'req.headers["stripe-signature"]', 'headers.authorization',
  'headers["stripe-signature"]', 'connectionString', 'DATABASE_URL',
  // Personal data (README, "Personal data"): never logged, even by a careless call.
  'email', '*.email', 'customerEmail', '*.customerEmail', 'customer_email', '*.customer_email',
  'customerName', '*.customerName', 'customer_name', '*.customer_name',
];

export const createLogger = (service: string, level = 'info'): Logger =>
  pino({
    name: service,
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
  });

export type { Logger };
