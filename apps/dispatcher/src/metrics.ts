import { Counter, Gauge, Histogram } from 'prom-client';

export const deliveriesTotal = new Counter({
  name: 'posthooks_deliveries_total',
  help: 'Delivery outcomes of attempts: succeeded, retry (failed, another attempt is due later), undeliverable, gone (410); and cancelled (hook disabled or deleted when an attempt came due)',
  labelNames: ['outcome'] as const,
});

export const attemptSeconds = new Histogram({
  name: 'posthooks_delivery_attempt_seconds',
  help: 'Duration of delivery attempts, by outcome',
  labelNames: ['outcome'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
});

export const eventsFannedOut = new Counter({
  name: 'posthooks_load_events_total',
  help: 'Load events consumed, by type, and the deliveries they made',
  labelNames: ['event_type'] as const,
});

export const eventIdConflicts = new Counter({
  name: 'posthooks_event_id_conflicts_total',
  help: 'Load events whose event_id was delivered already with another body: logged, not delivered again (SPEC §4)',
});

export const claimsTotal = new Counter({
  name: 'posthooks_delivery_claims_total',
  help: 'Claims of due deliveries from Postgres, by what they found: empty, some (fewer than there was room for), full (as many as there was room for)',
  labelNames: ['outcome'] as const,
});

export const deliveriesHeld = new Gauge({
  name: 'posthooks_deliveries_held',
  help: 'Deliveries this replica has claimed and not yet recorded: waiting for a slot of their host, or being sent',
});

export const deliveriesThrottled = new Counter({
  name: 'posthooks_deliveries_throttled_total',
  help: "Claimed deliveries given back to wait because their hook was at its rate_limit_per_s (each counted every time it is given back)",
});

export const deliveriesUndelivered = new Gauge({
  name: 'posthooks_deliveries_undelivered',
  help: 'Deliveries not delivered, all accounts: failed (every attempt failed, kept for RETENTION_DAYS) and pending (waiting for an attempt). Counted in Postgres every 60 s, so up to a minute old; every replica reports the same count (aggregate with max, not sum)',
  labelNames: ['status'] as const,
});
