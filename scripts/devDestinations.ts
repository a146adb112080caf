/**
 * The local development integration's destinations (`npm start`): one dry run per partner type,
 * so a test event shows the exact request each partner would get, redacted, and nothing is sent.
 * Placeholder ids and RFC 2606 hosts stand in for a merchant's own; each destination passes the
 * admin API's validation (libs/contracts destinationProblems), which the start script checks.
 */
import { destinationProblems } from '@sas/contracts';

export interface LocalDestination {
  readonly id: string;
  readonly type: 'dry_run';
  readonly settings: Readonly<Record<string, unknown>>;
  readonly credentials: Readonly<Record<string, string>>;
}

export const localDryRuns = (integrationId: string): LocalDestination[] => [
  { target: 'impact', accountSid: 'IRlocal', campaignId: '1000', eventTypeId: '2000', recurringEventTypeId: '2001', oneTimeEventTypeId: '2002' },
  { target: 'partnerstack', publicKey: 'pk_local' },
  { target: 'everflow', trackingDomain: 'tracking.example.com', nid: '1' },
  { target: 'tracknow', namespace: 'local', campaignId: '1' },
  { target: 'webhook', url: 'https://example.com/affiliate-webhook' },
].map((settings) => ({ id: `${integrationId}_dry_run_${settings.target}`, type: 'dry_run' as const, settings, credentials: {} }));

/** What the admin API would refuse in these destinations (empty when it accepts them all). */
export const localDryRunProblems = (destinations: readonly LocalDestination[]): string[] =>
  destinations.flatMap((d) => destinationProblems(d.type, d.settings, Object.keys(d.credentials)).map((p) => `${d.id}: ${p}`));
