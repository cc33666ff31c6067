import { SmtpSink, waitFor } from '@posthooks/testing';
import { EmailRowJson, Notifier } from './notifier-harness';

/** SPEC §6: an SMTP outage delays emails, it does not lose them; a 5xx for the address is final. */
describe('SMTP failures', () => {
  let sink: SmtpSink;
  let n: Notifier;

  beforeAll(async () => {
    sink = await SmtpSink.start();
    n = await Notifier.start('notifier_smtp', sink);
  });
  afterEach(async () => {
    sink.onConnect = sink.onRcpt = sink.onData = undefined;
    await sink.listen().catch(() => undefined); // up again if a test left it down
  });
  afterAll(async () => {
    await n?.stop();
    await sink?.close();
  });

  const row = async (hookId: number, check: (r: EmailRowJson) => boolean, what: string) =>
    waitFor(what, async () => {
      const [r] = await n.emails(hookId);
      return r && check(r) && r;
    });

  it('SMTP down: the email waits, retried with backoff, and goes out once when the server is back', async () => {
    await sink.close();
    const a = await n.account();
    const e = await n.undeliverable(a.id);
    const waiting = await row(e.hook_id, (r) => r.attempts >= 3 && r.state === 'pending', 'three failed tries');
    expect(waiting.last_error).toMatch(/ECONNREFUSED/);
    expect(sink.received).toHaveLength(0);

    await sink.listen();
    const [mail] = await sink.waitFor(a.email, 1);
    expect(mail.subject).toBe('Unable to Deliver Post Load Notification');
    await n.idle();
    expect(sink.to(a.email)).toHaveLength(1);
    expect(await n.emails(e.hook_id)).toEqual([expect.objectContaining({ state: 'sent', last_error: null, attempts: expect.any(Number) })]);
    expect((await n.emails(e.hook_id))[0].attempts).toBeGreaterThan(3);
  });

  it('421 to the connection and 451 to DATA delay the email; it is sent once the server accepts it', async () => {
    const a = await n.account();
    let connects = 0;
    sink.onConnect = () => (++connects === 1 ? { code: 421, message: 'Service not available, closing channel' } : undefined);
    sink.onData = (m) => (m.to === a.email && sink.dataSeen.filter((x) => x.to === a.email).length <= 2 ? { code: 451, message: 'Requested action aborted: local error in processing' } : undefined);
    const e = await n.undeliverable(a.id);

    await sink.waitFor(a.email, 1);
    await n.idle();
    expect(sink.to(a.email)).toHaveLength(1);
    expect(sink.dataSeen.filter((m) => m.to === a.email)).toHaveLength(3);
    expect(await n.emails(e.hook_id)).toEqual([expect.objectContaining({ state: 'sent', attempts: 4 })]);
  });

  it('a 550 for the address is recorded and not retried', async () => {
    const bad = await n.account();
    const good = await n.account();
    sink.onRcpt = (address) => (address === bad.email ? { code: 550, message: '5.1.1 Mailbox unavailable' } : undefined);
    const e = await n.undeliverable(bad.id);
    const rejected = await row(e.hook_id, (r) => r.state === 'rejected', 'the email to be rejected');
    expect(rejected).toMatchObject({ attempts: 1, to_address: bad.email, last_error: expect.stringMatching(/^RCPT TO: 550 5\.1\.1 Mailbox unavailable/) });

    // Later emails still go out, and the rejected one is not tried again meanwhile.
    await n.undeliverable(good.id);
    await sink.waitFor(good.email, 1);
    await n.idle();
    expect(sink.rcpts.get(bad.email)).toBe(1);
    expect(sink.to(bad.email)).toHaveLength(0);
    expect((await n.emails(e.hook_id))[0]).toMatchObject({ state: 'rejected', attempts: 1 });
  });

  it('an account that opts out while its email waits for the server gets nothing', async () => {
    await sink.close();
    const a = await n.account();
    const e = await n.undeliverable(a.id);
    await row(e.hook_id, (r) => r.attempts >= 1 && r.state === 'pending', 'a failed try');
    await n.setUndeliverableEmail(a.id, false);
    await sink.listen();
    await row(e.hook_id, (r) => r.state === 'cancelled', 'the email to be cancelled');
    expect(sink.to(a.email)).toHaveLength(0);
  });
});
