import { describe, expect, it } from 'vitest';
import { connectedAccountsWarning, dueForRetirement, planEndpoint, planRoll, type ListedEndpoint } from './endpointPlan.js';

const URL = 'https://hooks.example/webhooks/stripe/acme';
const EVENTS = ['charge.refunded', 'checkout.session.completed', 'invoice.paid'];
const ep = (id: string, o: Partial<ListedEndpoint> = {}): ListedEndpoint => ({ id, url: `https://other.example/${id}`, enabledEvents: ['*'], status: 'enabled', ...o });
const others = (n: number) => Array.from({ length: n }, (_, i) => ep(`we_other${i}`));
const now = new Date('2026-01-01T00:00:00Z');

describe('planEndpoint', () => {
  it.each([
    { name: 'nothing registered, free slot → create', listed: others(3), own: [], then: { action: 'create', replacesMissing: null } },
    { name: '15 others → create (the 16th)', listed: others(15), own: [], then: { action: 'create' } },
    {
      name: 'ours, same events → unchanged', listed: [...others(2), ep('we_ours', { url: URL, enabledEvents: [...EVENTS].reverse() })],
      own: [{ endpointId: 'we_ours', retireAt: null }], then: { action: 'unchanged', endpointId: 'we_ours' },
    },
    {
      name: 'ours, events differ → update (no slot needed, even at 16)', listed: [...others(15), ep('we_ours', { url: URL, enabledEvents: ['invoice.paid'] })],
      own: [{ endpointId: 'we_ours', retireAt: null }], then: { action: 'update', endpointId: 'we_ours' },
    },
    {
      name: 'ours but disabled in Stripe → update (re-enables)', listed: [ep('we_ours', { url: URL, enabledEvents: EVENTS, status: 'disabled' })],
      own: [{ endpointId: 'we_ours', retireAt: null }], then: { action: 'update', endpointId: 'we_ours' },
    },
    {
      name: 'ours deleted in the Dashboard → create, replacing it', listed: others(1),
      own: [{ endpointId: 'we_gone', retireAt: null }], then: { action: 'create', replacesMissing: 'we_gone' },
    },
  ])('$name', ({ listed, own, then }) => {
    const current = listed.find((e) => own.some((o) => o.endpointId === e.id)) ?? null;
    expect(planEndpoint({ url: URL, events: EVENTS, listed, own, current })).toMatchObject(then);
  });

  it('16 endpoints already → refuses, says why and lists every endpoint with its events', () => {
    const listed = [...others(15), ep('we_disabled', { status: 'disabled', enabledEvents: ['charge.failed', 'charge.succeeded'] })];
    const plan = planEndpoint({ url: URL, events: EVENTS, listed, own: [], current: null });
    expect(plan.action).toBe('refuse');
    if (plan.action !== 'refuse') return;
    expect(plan.refusal.endpoints).toHaveLength(16);
    expect(plan.refusal.message).toMatch(/^the Stripe account already has 16 webhook endpoints, Stripe's limit is 16, and registering this integration's endpoint needs one more\. Delete an endpoint you no longer use, then run connect again/);
    expect(plan.refusal.message).toContain('we_other0 https://other.example/we_other0 [*]');
    expect(plan.refusal.message).toContain('we_disabled https://other.example/we_disabled [charge.failed, charge.succeeded] (disabled)');
  });

  it('warns about endpoints at our URL that sas did not register', () => {
    const plan = planEndpoint({ url: URL, events: EVENTS, listed: [ep('we_manual', { url: URL })], own: [], current: null });
    expect(plan.action).toBe('create');
    expect(plan.warnings).toEqual([`endpoint we_manual also points at ${URL} but was not registered by sas: ingest cannot verify what it delivers; delete it in the Dashboard`]);
  });

  it('an endpoint retiring after a roll is ours: no warning', () => {
    const plan = planEndpoint({
      url: URL, events: EVENTS,
      listed: [ep('we_new', { url: URL, enabledEvents: EVENTS }), ep('we_old', { url: URL, enabledEvents: EVENTS })],
      own: [{ endpointId: 'we_old', retireAt: now }, { endpointId: 'we_new', retireAt: null }],
      current: ep('we_new', { url: URL, enabledEvents: EVENTS }),
    });
    expect(plan).toEqual({ action: 'unchanged', endpointId: 'we_new', warnings: [] });
  });
});

describe('planRoll', () => {
  const own = [{ endpointId: 'we_ours', retireAt: null }];
  const mine = ep('we_ours', { url: URL, enabledEvents: EVENTS });

  it.each([
    { name: 'free slot → new endpoint, old one retires after the window', listed: [mine, ...others(3)], own, window: 86_400,
      then: { action: 'roll', oldEndpointId: 'we_ours', deleteOldFirst: false, retireAt: new Date('2026-01-02T00:00:00Z') } },
    { name: 'window 0 with a free slot → create first, old one due at once', listed: [mine], own, window: 0,
      then: { action: 'roll', oldEndpointId: 'we_ours', deleteOldFirst: false, retireAt: now } },
    { name: 'window 0 at 16 → delete the old one first', listed: [mine, ...others(15)], own, window: 0,
      then: { action: 'roll', oldEndpointId: 'we_ours', deleteOldFirst: true, retireAt: now } },
    { name: 'not connected → refuse', listed: others(2), own: [], window: 60, then: { action: 'refuse', reason: 'not_connected' } },
    { name: 'our endpoint is gone → refuse, run connect', listed: others(2), own, window: 60, then: { action: 'refuse', reason: 'endpoint_missing' } },
  ])('$name', ({ listed, own: o, window, then }) => {
    const current = listed.find((e) => e.id === 'we_ours') ?? null;
    expect(planRoll({ listed, own: o, current, windowSeconds: window, now })).toMatchObject(then);
  });

  it('at 16 with a window → refuses, explains the overlap and the way out', () => {
    const plan = planRoll({ listed: [mine, ...others(15)], own, current: mine, windowSeconds: 3600, now });
    expect(plan).toMatchObject({ action: 'refuse', reason: 'endpoint_limit' });
    if (plan.action !== 'refuse') return;
    expect(plan.endpoints).toHaveLength(16);
    expect(plan.message).toMatch(/already has 16 webhook endpoints, Stripe's limit is 16, and a roll with an overlap window .* needs one more\. Delete an endpoint you no longer use, or roll with a window of 0/);
  });
});

describe('dueForRetirement', () => {
  it('only retiring endpoints whose time has come', () => {
    expect(dueForRetirement([
      { endpointId: 'we_current', retireAt: null },
      { endpointId: 'we_due', retireAt: now },
      { endpointId: 'we_later', retireAt: new Date(now.getTime() + 1) },
    ], now)).toEqual(['we_due']);
  });
});

describe('connectedAccountsWarning', () => {
  it('none without connected accounts', () => expect(connectedAccountsWarning('acme', 0, URL)).toBeNull());
  it('says how to add the Connect endpoint without expiring the managed secret', () => {
    expect(connectedAccountsWarning('acme', 2, URL)).toBe(
      'the integration accepts events of 2 connected accounts, which Stripe sends only to a Connect endpoint; sas registers the account\'s own endpoint only: ' +
      `add one in the Dashboard (Developers → Webhooks → Add endpoint, events on Connected accounts) for ${URL} with the same events, ` +
      'then store its signing secret with `sas secrets add acme --secret @env:VAR --keep-others`');
  });
});
