import { describe, expect, it } from 'vitest';
import { consumerGroups } from './groups.js';
import { partitionLag } from './lag.js';
import { percent, relative, renderStatus, successRate, type StatusReport } from './report.js';

describe('partitionLag', () => {
  it.each([
    ['committed in the middle', '40', '0', '100', { committed: '40', lag: 60 }],
    ['caught up', '100', '0', '100', { committed: '100', lag: 0 }],
    ['nothing committed: everything retained', '-1', '20', '100', { committed: null, lag: 80 }],
    ['committed offset deleted by retention: from the oldest retained', '5', '20', '100', { committed: '5', lag: 80 }],
    ['empty partition', '-1', '0', '0', { committed: null, lag: 0 }],
    ['offsets past 2^53 stay exact', '9007199254740993', '0', '9007199254740995', { committed: '9007199254740993', lag: 2 }],
  ])('%s', (_name, committed, low, high, expected) => {
    expect(partitionLag('t', 0, committed, low, high)).toEqual({ topic: 't', partition: 0, high, ...expected });
  });
});

describe('consumerGroups', () => {
  it('names the groups as the services do: each prefixed like the topics', () => {
    expect(consumerGroups({ KAFKA_TOPIC_PREFIX: 'stg.' })).toEqual([
      { service: 'mapper', groupId: 'stg.mapper', topics: ['stg.stripe.events.v1'] },
      { service: 'scheduler', groupId: 'stg.scheduler', topics: ['stg.conversions.v1'] },
      { service: 'dispatcher', groupId: 'stg.dispatcher', topics: ['stg.conversions.v1', 'stg.conversions.due.v1'] },
    ]);
  });
  it('follows the services\' group variables', () => {
    expect(consumerGroups({ KAFKA_TOPIC_PREFIX: '', MAPPER_GROUP_ID: 'm2', SCHEDULER_GROUP_ID: 's2', DISPATCHER_GROUP_ID: 'd2' }).map((g) => g.groupId))
      .toEqual(['m2', 's2', 'd2']);
  });
});

describe('successRate and percent', () => {
  it.each([
    [{ sent: 0, dryRun: 0, failed: 0 }, null, '-'],
    [{ sent: 3, dryRun: 0, failed: 0 }, 1, '100%'],
    [{ sent: 0, dryRun: 2, failed: 0 }, 1, '100%'],
    [{ sent: 1, dryRun: 0, failed: 3 }, 0.25, '25%'],
    [{ sent: 80, dryRun: 0, failed: 1 }, 80 / 81, '98.8%'],
    [{ sent: 0, dryRun: 0, failed: 2 }, 0, '0%'],
  ])('%j → %s', (row, rate, shown) => {
    expect(successRate(row)).toBe(rate);
    expect(percent(successRate(row))).toBe(shown);
  });
});

describe('relative', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  it.each([
    [null, '-'],
    ['2026-01-01T11:59:48Z', '12s ago'],
    ['2026-01-01T11:57:00Z', '3m ago'],
    ['2026-01-01T14:00:00Z', 'in 2h'],
    ['2025-12-29T12:00:00Z', '3d ago'],
  ])('%s → %s', (iso, shown) => {
    expect(relative(iso, now)).toBe(shown);
  });
});

describe('renderStatus', () => {
  const report: StatusReport = {
    integration: { id: 'int_acme', name: 'Acme', status: 'active' },
    topicPrefix: '',
    generatedAt: '2026-01-01T12:00:00.000Z',
    consumerLag: [
      { service: 'mapper', groupId: 'mapper', state: 'Stable', members: 2, lag: 0, partitions: [] },
      { service: 'scheduler', groupId: 'scheduler', state: 'Stable', members: 1, lag: 12, partitions: [] },
      { service: 'dispatcher', groupId: 'dispatcher', state: 'Empty', members: 0, lag: 1534, partitions: [] },
    ],
    dispatch: [
      { destinationId: 'acme_impact', type: 'impact', enabled: true, sent: 80, dryRun: 0, failed: 1, skipped: 2, pending: 3,
        lastError: 'HTTP 503:\n  upstream unavailable', lastErrorAt: '2026-01-01T11:59:00.000Z', lastActivityAt: '2026-01-01T11:59:48.000Z', successRate: 80 / 81 },
      { destinationId: 'acme_ps', type: 'partnerstack', enabled: false, sent: 0, dryRun: 0, failed: 0, skipped: 0, pending: 0,
        lastError: null, lastErrorAt: null, lastActivityAt: null, successRate: null },
    ],
    heldRefunds: { held: 4, nextDueAt: '2026-01-01T14:00:00.000Z', releasing: 0, unknown: 1 },
    deadLetters: { mapper: { open: 2, requeued: 1, dropped: 0 }, dispatcher: { open: 1, requeued: 0, dropped: 3 } },
  };
  it('prints one compact block', () => {
    expect(renderStatus(report, Date.parse('2026-01-01T12:00:00Z'))).toBe([
      'Integration int_acme (Acme, active)',
      '',
      'Consumer lag (all integrations)',
      '  service     group       state   members   lag',
      '  mapper      mapper      Stable        2     0',
      '  scheduler   scheduler   Stable        1    12',
      '  dispatcher  dispatcher  Empty         0  1534',
      '',
      'Dispatch by destination',
      '  destination         type          sent  failed  pending  success  last activity  last error',
      '  acme_impact         impact          80       1        3    98.8%  12s ago        HTTP 503: upstream unavailable',
      '  acme_ps (disabled)  partnerstack     0       0        0        -  -              -',
      '',
      'Held refunds: 4 held, next due 2026-01-01T14:00:00.000Z (in 2h), 0 releasing, 1 unknown (an operator decides: see the scheduler README)',
      'Dead letters (open): mapper 2, dispatcher 1  (requeued 1, dropped 3; `sas dlq list --integration int_acme`)',
    ].join('\n'));
  });

  it('adds what the services\' /metrics say, and which could not be reached', () => {
    const text = renderStatus({
      ...report,
      metrics: [
        { url: 'http://d:3003', ok: true, samples: { 'dispatcher_outcomes_total{destination="acme_impact",destination_type="impact",status="sent"}': 80 } },
        { url: 'http://m:3001', ok: true, samples: {} },
        { url: 'http://s:3002', ok: false, error: 'fetch failed' },
      ],
    }, Date.parse('2026-01-01T12:00:00Z'));
    expect(text.split('\n').slice(-6)).toEqual([
      '',
      'Service metrics (SAS_METRICS_URLS)',
      '  http://d:3003',
      '    dispatcher_outcomes_total{destination="acme_impact",destination_type="impact",status="sent"} 80',
      '  http://m:3001: nothing about this integration',
      '  http://s:3002: unreachable (fetch failed)',
    ]);
  });
});
