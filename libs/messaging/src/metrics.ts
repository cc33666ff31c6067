import { Counter, Histogram } from 'prom-client';

export const messagesHandled = new Counter({
  name: 'posthooks_messages_total',
  help: 'JetStream messages handled, by consumer, subject and outcome (ack, retry, deadletter, ignored)',
  labelNames: ['consumer', 'subject', 'outcome'] as const,
});

export const handlerSeconds = new Histogram({
  name: 'posthooks_message_handler_seconds',
  help: 'Time a handler took per JetStream message',
  labelNames: ['consumer', 'subject'] as const,
  buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
});

export const messageFailures = new Counter({
  name: 'posthooks_message_failures_total',
  help: 'Handlers that threw (not ctx.retryIn or ctx.deadLetter, which are decisions), by kind: outage (Postgres or NATS out of reach, retried without counting toward dead-lettering) or error',
  labelNames: ['consumer', 'subject', 'kind'] as const,
});
