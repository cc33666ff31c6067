import { Counter, Gauge } from 'prom-client';

export const undeliverableEvents = new Counter({
  name: 'posthooks_undeliverable_events_total',
  help: 'hook.undeliverable events handled, by outcome: emailed, folded (into a digest), opted_out, duplicate (handled before: no second email)',
  labelNames: ['outcome'] as const,
});

export const emailsSent = new Counter({
  name: 'posthooks_emails_total',
  help: 'Tries to send an email, by kind (undeliverable, digest) and outcome: sent, retry (SMTP unreachable or 4xx: tried again later), rejected (5xx: not retried), cancelled (the account opted out meanwhile)',
  labelNames: ['kind', 'outcome'] as const,
});

export const emailsWaiting = new Gauge({
  name: 'posthooks_emails_waiting',
  help: 'Emails not sent yet: waiting for a retry after an SMTP failure, or digests whose window is still open',
});
