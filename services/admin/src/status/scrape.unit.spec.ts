import { describe, expect, it } from 'vitest';
import { metricsUrl, pickSamples } from './scrape.js';

const text = [
  '# HELP dispatcher_outcomes_total Dispatch outcomes',
  '# TYPE dispatcher_outcomes_total counter',
  'dispatcher_outcomes_total{destination="acme_impact",destination_type="impact",status="sent"} 80',
  'dispatcher_outcomes_total{destination="other_ps",destination_type="partnerstack",status="sent"} 7',
  'dispatcher_lane_queued{destination="acme_impact",destination_type="impact"} 3',
  'dispatcher_consumer_lag{topic="conversions.v1",partition="0"} 4',
  'dispatcher_consumer_lag{topic="conversions.v1",partition="1"} 6',
  'dispatcher_consumer_lag{topic="conversions.due.v1",partition="0"} 0',
  'scheduler_held_conversions 12',
  'mapper_events_total{outcome="mapped"} 1000',
  'mapper_conversions_total{kind="SALE_FIRST"} 900',
  'dispatcher_process_cpu_seconds_total 1.5',
  'not a sample',
].join('\n');

describe('pickSamples', () => {
  it('keeps the integration\'s destinations, holds and events, sums lag per topic, drops the rest', () => {
    expect(pickSamples(text, ['acme_impact'])).toEqual({
      'dispatcher_outcomes_total{destination="acme_impact",destination_type="impact",status="sent"}': 80,
      'dispatcher_lane_queued{destination="acme_impact",destination_type="impact"}': 3,
      'dispatcher_consumer_lag{topic="conversions.v1"}': 10,
      'dispatcher_consumer_lag{topic="conversions.due.v1"}': 0,
      'scheduler_held_conversions': 12,
      'mapper_events_total{outcome="mapped"}': 1000,
    });
  });
});

describe('metricsUrl', () => {
  it.each([
    ['http://127.0.0.1:3001', 'http://127.0.0.1:3001/metrics'],
    ['http://127.0.0.1:3001/', 'http://127.0.0.1:3001/metrics'],
    ['http://127.0.0.1:3000/metrics', 'http://127.0.0.1:3000/metrics'],
  ])('%s → %s', (given, url) => { expect(metricsUrl(given)).toBe(url); });
});
