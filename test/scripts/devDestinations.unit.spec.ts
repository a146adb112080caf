import { describe, expect, it } from 'vitest';
import { localDryRunProblems, localDryRuns } from '../../scripts/devDestinations.js';
import { buildRequest } from '../../services/dispatcher/src/core/buildRequest.js';
import { isSkip, isUnsendable } from '../../services/dispatcher/src/core/partnerRequest.js';
import { aConversion } from '../../services/dispatcher/src/core/testConversion.js';

/**
 * `npm start`'s local integration (issue 16: its one dry run had no target and no url, so every
 * conversion was dead-lettered). Each dry run must pass the admin API's validation and build the
 * request its partner would get for a first subscription sale.
 */
describe('the local development dry runs', () => {
  const destinations = localDryRuns('local');

  it('one per partner type, each accepted by the admin API\'s validation', () => {
    expect(destinations.map((d) => d.settings.target)).toEqual(['impact', 'partnerstack', 'everflow', 'tracknow', 'webhook']);
    expect(localDryRunProblems(destinations)).toEqual([]);
    // The check has teeth: the destination npm start used to create is refused.
    expect(localDryRunProblems([{ id: 'local_dry_run', type: 'dry_run', settings: {}, credentials: {} }]))
      .toEqual(['local_dry_run: settings.url is required for a dry run of webhook']);
  });

  it.each(localDryRuns('local').map((d) => ({ target: String(d.settings.target), d })))('a dry run of $target builds a request for a sale with its partner\'s click', ({ target, d }) => {
    const c = aConversion({
      attribution: {
        ...aConversion().attribution, impactClickId: 'IRclk', tracknowClickId: 'tnclk', everflowTransactionId: 'eftx', partnerKey: 'pk_1', customerKey: 'user-1',
      },
    });
    const built = buildRequest(c, { id: d.id, integrationId: 'local', type: d.type, settings: { ...d.settings }, credentials: {} }, { nowMs: 0, email: 'ada@example.com', customerKey: null });
    expect(isUnsendable(built) ? built.invalid : isSkip(built) ? `skip: ${built.skip}` : 'request').toBe('request');
  });
});
