import type { DispatchAction } from '@sas/contracts';

/** A partner call described as data; the shell sends it. */
export interface PartnerRequest {
  readonly action: DispatchAction;
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | null;
}

/** A destination that has nothing to do with this conversion says why, instead of a request. */
export interface NotApplicable {
  readonly skip: string;
}

/**
 * A conversion the destination should take but cannot be sent as it is: dead-lettered. Never
 * retried, unless `retriable`: what is missing may still arrive (the attribution store learns a
 * customer's email from an event the mapper handles later, or writes it after a crash), so the
 * row is retried on the schedule like a failed send, then dead-lettered.
 */
export interface Unsendable {
  readonly invalid: string;
  readonly retriable?: boolean;
}

export type BuildResult = PartnerRequest | NotApplicable | Unsendable;
export const isSkip = (r: BuildResult): r is NotApplicable => 'skip' in r;
export const isUnsendable = (r: BuildResult): r is Unsendable => 'invalid' in r;

/** What the shell looks up before building (never from Kafka), and the clock. */
export interface BuildContext {
  readonly nowMs: number;
  /** Plain email from the attribution store (PartnerStack, Everflow email attribution). */
  readonly email: string | null;
  /**
   * The customer's key in the attribution store now (PartnerStackJS's customer_key from Stripe
   * customer metadata): a conversion mapped before its customer.created does not carry it.
   */
  readonly customerKey?: string | null;
}

export class DestinationConfigError extends Error {
  override readonly name = 'DestinationConfigError';
}

export const requireSetting = (settings: Readonly<Record<string, unknown>>, name: string, dest: string): string => {
  const v = settings[name];
  if (typeof v === 'string' && v.length > 0) return v;
  if (typeof v === 'number') return String(v);
  throw new DestinationConfigError(`destination ${dest}: setting "${name}" is required`);
};

export const optionalSetting = (settings: Readonly<Record<string, unknown>>, name: string): string | null => {
  const v = settings[name];
  if (typeof v === 'string' && v.length > 0) return v;
  if (typeof v === 'number') return String(v);
  return null;
};

export const requireCredential = (credentials: Readonly<Record<string, string>>, name: string, dest: string): string => {
  const v = credentials[name];
  if (typeof v === 'string' && v.length > 0) return v;
  throw new DestinationConfigError(`destination ${dest}: credential "${name}" is required`);
};

export const basicAuth = (user: string, pass: string): string => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

export const trimSlash = (s: string): string => s.replace(/\/+$/, '');
