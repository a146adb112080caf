import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { REDACT_PATHS } from './logger.js';

describe('REDACT_PATHS', () => {
  it('keeps emails and names out of a log line, at the top level or one level down (README, "Personal data")', () => {
    const lines: string[] = [];
    const log = pino({ redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, { write: (l: string) => { lines.push(l); } });
    log.info({ email: 'ada@example.com', customer: { email: 'ada@example.com', customer_name: 'Ada Lovelace' }, customerEmail: 'ada@example.com', customerId: 'cus_1' }, 'x');
    expect(lines[0]).not.toMatch(/ada@example\.com|Ada Lovelace/);
    expect(JSON.parse(lines[0]!)).toMatchObject({ email: '[redacted]', customer: { email: '[redacted]', customer_name: '[redacted]' }, customerId: 'cus_1' });
  });
});
