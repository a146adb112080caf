import type { Conversion, DestinationType } from '@sas/contracts';
import type { Destination } from '@sas/runtime';
import { impactRequest } from './partners/impact.js';
import type { BuildResult } from './partnerRequest.js';

type Builder = (c: Conversion, d: Destination) => BuildResult;

const notYet = (type: DestinationType): Builder => () => ({ skip: `${type} adapter arrives with the dispatcher issue` });

/** Destination type → pure request builder. */
const builders: Record<DestinationType, Builder> = {
  impact: impactRequest,
  partnerstack: notYet('partnerstack'),
  everflow: notYet('everflow'),
  tracknow: notYet('tracknow'),
  webhook: notYet('webhook'),
  dry_run: () => ({ skip: 'dry run' }),
};

export const buildRequest = (c: Conversion, d: Destination): BuildResult => builders[d.type](c, d);
