import { SmtpSink } from '@posthooks/testing';
import { always, tally } from './support/counting-receiver';
import { publishLoads, undeliverables } from './support/events';
import { metric } from './support/fault-stack';
import { report } from './support/report';
import { Scenario, since, waitOrExplain } from './support/scenario';

/**
 * SPEC §6: "an SMTP outage delays emails, it does not lose them", exactly one email per
 * undeliverable event. The SMTP server (a real one, `smtp-server`) is down while the
 * undeliverables happen; the notifier is also killed -9 during the outage (its retries
 * must live in Postgres); then the server comes back on the same port.
 */
describe('fault: SMTP server down during undeliverable emails', () => {
  let s: Scenario;
  beforeAll(async () => {
    s = await Scenario.begin();
  });
  afterAll(() => s?.end());

  it('every undeliverable email arrives exactly once after the outage', async () => {
    const EVENTS = 15;
    const sink = await SmtpSink.reserve(); // its port, with nothing listening yet
    s.onCleanup(() => sink.close());
    const stack = await s.startStack('fault_smtp', {
      services: ['hook-registry', 'dispatcher', 'email-notifier'],
      common: { DELIVERY_RETRY_SCHEDULE: '100ms,100ms,100ms,100ms,100ms', DELIVERY_TIMEOUT_MS: '2000' },
      overrides: {
        // Short SMTP retries (200 ms doubling to 1 s); one email per event (no digest folding
        // within the scenario); a short send limit, so a claim cut off by the kill lapses in 4 s.
        'email-notifier': { SMTP_URL: sink.url, EMAIL_RETRY_BASE_MS: '200', EMAIL_RETRY_MAX_MS: '1000', EMAIL_DIGEST_AFTER: '1000', SMTP_TIMEOUT_MS: '2000' },
      },
    });
    const dead = [await s.receiver('dead-a', always({ status: 500 })), await s.receiver('dead-b', always({ status: 503 }))];
    const acc = await stack.account('advanced', 'ops@smtp-fault.test');
    for (const r of dead) await stack.hook(acc.key, acc.destinationId, r.url());
    await stack.registryApplied('dispatcher', 'email-notifier');

    const ids = await publishLoads(s.nc, s.ns, acc.id, 'smtp', EVENTS);
    const expected = dead.length * EVENTS;
    const notifier = () => stack.get('email-notifier');
    const explain = async () => `emails ${sink.received.length}/${expected}; undeliverable ${[...(await undeliverables(s.nc, s.ns, stack.env.DATABASE_URL)).values()].flat().length}\n${stack.tails(25)}`;
    // Labels in any order (the registry adds `service` to every sample).
    const emailed = /^posthooks_undeliverable_events_total\{(?=[^}]*outcome="emailed")/;
    const retried = /^posthooks_emails_total\{(?=[^}]*kind="undeliverable")(?=[^}]*outcome="retry")/;

    let failure: unknown;
    let killedAfterRetries = 0;
    try {
      // Every undeliverable recorded as an email, each tried at least once against the dead server.
      await waitOrExplain('every undeliverable to be recorded as an email', async () => (await metric(notifier(), emailed)) >= expected, 60_000, explain);
      await waitOrExplain('the emails to be tried and fail', async () => (await metric(notifier(), retried)) >= expected, 30_000, explain);
      killedAfterRetries = await metric(notifier(), retried);
      await stack.kill('email-notifier');
      await stack.restart('email-notifier');
      // The restarted notifier finds the waiting emails in Postgres and keeps trying.
      await waitOrExplain('the restarted notifier to retry', async () => (await metric(notifier(), retried)) >= expected, 30_000, explain);
      await sink.listen();
      await waitOrExplain('every email', () => sink.received.length >= expected, 60_000, explain);
      await waitOrExplain('the outbox to be empty', async () => (await metric(notifier(), /^posthooks_emails_waiting/)) === 0, 30_000, explain);
      await s.dispatcherIdle(30_000);
    } catch (err) {
      failure = err;
    }

    const notify = [...(await undeliverables(s.nc, s.ns, stack.env.DATABASE_URL)).values()].flat();
    const webhookIdOf = (text: string) => /msg_[0-9a-f]{32}/.exec(text)?.[0] ?? 'none';
    const perWebhook = new Map<string, number>();
    for (const m of sink.received) perWebhook.set(webhookIdOf(m.text), (perWebhook.get(webhookIdOf(m.text)) ?? 0) + 1);
    const duplicates = [...perWebhook.values()].reduce((n, c) => n + c - 1, 0);
    const lost = notify.filter((id) => !perWebhook.has(id)).length;
    const t = tally(dead, ids); // nothing is delivered to the dead receivers
    report({
      name: 'SMTP server down during undeliverable emails',
      events: EVENTS,
      expected,
      delivered: perWebhook.size,
      duplicates,
      lost,
      notes: `counts are emails (one per hook.undeliverable): hook.undeliverable ${notify.length}, emails received ${sink.received.length} (${new Set(sink.received.map((m) => m.messageId)).size} Message-IDs); notifier kill -9 during the outage after ${killedAfterRetries} failed SMTP tries; webhooks answered 2xx by the dead receivers ${t.unique}`,
      seconds: since(s.t0),
    });
    if (failure) throw failure;

    expect(notify).toHaveLength(expected);
    expect(new Set(notify).size).toBe(expected);
    expect(lost).toBe(0);
    expect(sink.received).toHaveLength(expected);
    expect(duplicates).toBe(0);
    expect(new Set(sink.received.map((m) => m.messageId)).size).toBe(expected);
    expect(sink.received.every((m) => m.to === 'ops@smtp-fault.test' && m.subject === 'Unable to Deliver Post Load Notification')).toBe(true);
  });
});
