import { Subjects } from '@posthooks/contracts';
import { SmtpSink, streamMessages, testEnv, waitFor } from '@posthooks/testing';
import { connect, NatsConnection } from 'nats';
import { Notifier } from './notifier-harness';

/** SPEC §6: one email per hook.undeliverable, over real SMTP, exactly once. */
describe('undeliverable email', () => {
  const NAME = 'notifier_email';
  // How long an event may wait for its account (the production horizon is 20 min).
  const settings = { DEADLETTER_AFTER_MS: '10000' };
  let sink: SmtpSink;
  let n: Notifier;
  let nc: NatsConnection;

  beforeAll(async () => {
    sink = await SmtpSink.start();
    n = await Notifier.start(NAME, sink, settings);
    nc = await connect({ servers: testEnv(NAME).NATS_URL });
  });
  afterAll(async () => {
    await n?.stop();
    await nc?.close();
    await sink?.close();
  });

  it('sends the account one email: the subject, the webhook URL, integration, table, attempts and the last raw error, in text and HTML', async () => {
    const a = await n.account();
    const e = await n.undeliverable(a.id, { integration_name: 'shop & <co>', table_name: 'charges', attempts: 6, event_type: 'table.rejected', last_error: 'connect ECONNREFUSED 203.0.113.7:443', last_status_code: null });

    const [mail] = await sink.waitFor(a.email, 1);
    expect(mail.subject).toBe('Unable to Deliver Post Load Notification');
    expect(mail.from).toBe('"posthooks test" <alerts@posthooks.test>');
    expect(mail.to).toBe(a.email);
    expect(mail.text).toContain('could not deliver a post-load notification');
    expect(mail.text).toMatch(/Webhook URL: +https:\/\/hooks\.acme\.test\/posthooks\n/);
    expect(mail.text).toMatch(/Integration: +shop & <co>\n/);
    expect(mail.text).toMatch(/Table: +charges\n/);
    expect(mail.text).toMatch(/Attempts: +6\n/);
    expect(mail.text).toMatch(/Last error: +connect ECONNREFUSED 203\.0\.113\.7:443\n/);
    expect(mail.text).toContain(`/v1/deliveries/${e.webhook_id}/redeliver`);
    expect(mail.text).toContain(`PUT /v1/accounts/${a.id}/notifications`);
    for (const fact of ['https://hooks.acme.test/posthooks', 'shop &amp; &lt;co&gt;', 'charges', '<code>6</code>', 'connect ECONNREFUSED 203.0.113.7:443']) expect(mail.html).toContain(fact);
    expect(mail.html).not.toContain('<co>');
    expect(mail.messageId).toMatch(/^<[0-9a-f-]{36}@posthooks\.test>$/);
    expect(mail.headers.get('auto-submitted')).toBe('auto-generated');

    await n.idle();
    expect(sink.to(a.email)).toHaveLength(1);
    expect(await n.emails(e.hook_id)).toEqual([expect.objectContaining({ kind: 'undeliverable', state: 'sent', attempts: 1, to_address: a.email, message_id: mail.messageId })]);
    expect(await n.outcomes(e.hook_id)).toEqual(['emailed']);
  });

  it('sends one email per event however often it is published: the same messages again after the de-duplication window send nothing more, a new round is a new email', async () => {
    const a = await n.account();
    const first = await n.undeliverable(a.id);
    const second = await n.undeliverable(a.id);
    await sink.waitFor(a.email, 2);
    await n.idle();
    const duplicatesBefore = await n.metric('posthooks_undeliverable_events_total', 'outcome="duplicate"');

    // NOTIFY is a work queue: handled messages are gone, so the same events can only come
    // back by being published again, as a dispatcher that restarts after the stream's
    // 2-minute de-duplication window re-publishes what it had not recorded as sent. The
    // window is made to pass by creating NOTIFY again (the notifier provisions it at start).
    const jsm = await nc.jetstreamManager();
    await n.stop();
    await jsm.streams.delete(n.naming.stream('NOTIFY'));
    n = await Notifier.start(NAME, sink, settings);
    for (const e of [first, second]) {
      const ack = await n.publisher.publish(Subjects.HookUndeliverable, e, { msgId: `undeliverable-${e.webhook_id}-1` });
      // The stream took it: only the notifier's own record can keep it from being a second email.
      expect(ack.duplicate).toBe(false);
    }
    await waitFor('both copies to be handled as duplicates', async () => (await n.metric('posthooks_undeliverable_events_total', 'outcome="duplicate"')) === duplicatesBefore + 2);
    await n.idle();
    expect(sink.to(a.email)).toHaveLength(2);
    expect(await n.outcomes(first.hook_id)).toEqual(['emailed']);
    expect(await n.outcomes(second.hook_id)).toEqual(['emailed']);

    // A replay of that delivery that fails again is a new undeliverable event: a new email.
    await n.undeliverable(a.id, { webhook_id: first.webhook_id, hook_id: first.hook_id, event_id: first.event_id, round: 2 });
    await sink.waitFor(a.email, 3);
    await n.idle();
    expect(sink.to(a.email)).toHaveLength(3);
    expect(await n.outcomes(first.hook_id)).toEqual(['emailed', 'emailed']);
  });

  it('sends nothing to an account that opted out, and records why; opting back in takes effect for the next event', async () => {
    const out = await n.account({ undeliverableEmail: false });
    const on = await n.account();
    const skipped = await n.undeliverable(out.id);
    await n.undeliverable(on.id);
    await sink.waitFor(on.email, 1);
    await n.idle();
    expect(sink.to(out.email)).toHaveLength(0);
    expect(await n.outcomes(skipped.hook_id)).toEqual(['opted_out']);
    expect(await n.emails(skipped.hook_id)).toEqual([]);

    await n.setUndeliverableEmail(out.id, true);
    await n.undeliverable(out.id);
    await sink.waitFor(out.email, 1);
  });

  it('waits for an account the registry announces after the event, however many deliveries that takes', async () => {
    const retries = () => n.metric('posthooks_messages_total', 'outcome="retry"');
    const retriesBefore = await retries();
    const accountId = n.newAccountId();
    const e = await n.undeliverable(accountId);
    const jsm = await nc.jetstreamManager();
    const parked = async () => (await streamMessages(jsm, n.naming.namespace, 'DEADLETTER')).find((m) => m.json<{ webhook_id: string }>().webhook_id === e.webhook_id);
    // Six deliveries (a long outage gives many more) while the view has no such account...
    await waitFor('the event to be retried 6 times, or dead-lettered', async () => (await retries()) >= retriesBefore + 6 || (await parked()) !== undefined);
    expect((await parked())?.header.get('Posthooks-Deadletter-Reason')).toBeUndefined();

    // ...then the account arrives, and the event becomes its email.
    const a = await n.account({ id: accountId });
    await sink.waitFor(a.email, 1);
    await n.idle();
    expect(await n.outcomes(e.hook_id)).toEqual(['emailed']);
    expect((await parked())?.header.get('Posthooks-Deadletter-Reason')).toBeUndefined();
  });

  it('dead-letters an event whose account the registry never announced, once its view is current and the horizon has passed', async () => {
    const e = await n.undeliverable(999_999);
    const jsm = await nc.jetstreamManager();
    const parked = await waitFor(
      'the event in DEADLETTER',
      async () => (await streamMessages(jsm, n.naming.namespace, 'DEADLETTER')).find((m) => m.json<{ webhook_id: string }>().webhook_id === e.webhook_id),
      { timeoutMs: 30_000 },
    );
    expect(parked.header.get('Posthooks-Deadletter-Reason')).toBe('account 999999 is unknown');
    // Not before the horizon (DEADLETTER_AFTER_MS) from when NOTIFY stored it.
    expect(parked.time.getTime() - Date.parse(e.occurred_at)).toBeGreaterThanOrEqual(Number(settings.DEADLETTER_AFTER_MS) - 1000);
  });
});

/**
 * The one window exactly-once cannot close: the server took the email, and the notifier
 * stopped before it recorded the 250. The email is sent again, never lost, with the
 * same Message-ID (receivers that de-duplicate by it show one).
 */
describe('a send cut off before it was recorded', () => {
  const NAME = 'notifier_cutoff';
  const settings = { SMTP_TIMEOUT_MS: '1000', SHUTDOWN_TIMEOUT_MS: '100' };
  let sink: SmtpSink;
  let n: Notifier;

  beforeAll(async () => {
    sink = await SmtpSink.start();
    n = await Notifier.start(NAME, sink, settings);
  });
  afterAll(async () => {
    await n?.stop();
    await sink?.close();
  });

  it('is sent again after the claim lapses, with the same Message-ID, and then recorded', async () => {
    const a = await n.account();
    let release!: () => void;
    const held = new Promise<undefined>((resolve) => (release = () => resolve(undefined)));
    // The server has the whole message but holds its answer back...
    sink.onData = (mail) => (mail.to === a.email && sink.dataSeen.filter((m) => m.to === a.email).length === 1 ? held : undefined);
    const e = await n.undeliverable(a.id);
    await waitFor('the server to have the message', () => sink.dataSeen.some((m) => m.to === a.email));
    expect(await n.emails(e.hook_id)).toEqual([expect.objectContaining({ state: 'sending', attempts: 1 })]);

    // ...while the notifier stops: its database is gone when the 250 comes.
    await n.stop();
    release();
    await sink.waitFor(a.email, 1);

    n = await Notifier.start(NAME, sink, settings);
    const [first, second] = await sink.waitFor(a.email, 2);
    expect(second.messageId).toBe(first.messageId);
    expect(second.headers.get('date')).toEqual(first.headers.get('date'));
    await n.idle();
    expect(await n.emails(e.hook_id)).toEqual([expect.objectContaining({ state: 'sent', attempts: 2 })]);
    expect(sink.to(a.email)).toHaveLength(2);
  });
});
