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

export type BuildResult = PartnerRequest | NotApplicable;
export const isSkip = (r: BuildResult): r is NotApplicable => 'skip' in r;

export class DestinationConfigError extends Error {
  override readonly name = 'DestinationConfigError';
}

export const requireSetting = (settings: Readonly<Record<string, unknown>>, name: string, dest: string): string => {
  const v = settings[name];
  if (typeof v === 'string' && v.length > 0) return v;
  if (typeof v === 'number') return String(v);
  throw new DestinationConfigError(`destination ${dest}: setting "${name}" is required`);
};
