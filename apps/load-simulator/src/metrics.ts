import { Counter, Histogram } from 'prom-client';

export const rowsLoaded = new Counter({ name: 'posthooks_rows_total', help: 'Records loaded or rejected into destination tables', labelNames: ['outcome'] as const });

export const loadSeconds = new Histogram({ name: 'posthooks_load_flush_seconds', help: 'Time to load one batch into its table', buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
